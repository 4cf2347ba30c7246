"""Each rule family of the v5.1 inference rules, on small submissions written in the real formats
(builder.py): a passing package, then one thing changed at a time."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from submissions.compliance.inference import InferenceReport, ResultReport, check_inference_paths
from tests.compliance.inference.builder import (
    COUNTS,
    Submission,
    detail_values,
    power_session,
    record,
    write_detail,
    write_power_session,
)

# a model of each kind, in a system type that requires the scenario
REQUIRED = {
    # model: (system type, required scenarios)
    "resnet": ("edge", ["SingleStream", "MultiStream", "Offline"]),
    "retinanet": ("datacenter", ["Server", "Offline"]),
    "bert-99": ("edge", ["SingleStream", "Offline"]),
    "bert-99.9": ("edge", ["SingleStream", "Offline"]),
    "dlrm-v2-99": ("datacenter", ["Server", "Offline"]),
    "dlrm-v2-99.9": ("datacenter", ["Server", "Offline"]),
    "3d-unet-99": ("datacenter", ["Offline"]),
    "3d-unet-99.9": ("edge", ["SingleStream", "Offline"]),
    "llama3.1-8b": ("datacenter", ["Offline", "Server"]),  # and one of Server, Interactive
    "llama3.1-8b-edge": ("edge", ["SingleStream", "Offline"]),
    "llama2-70b-99": ("datacenter", ["Offline", "Server"]),  # and one of Server, Interactive
    "llama2-70b-99.9": ("datacenter", ["Offline", "Server"]),  # and one of Server, Interactive
    "stable-diffusion-xl": ("datacenter", ["Server", "Offline"]),
    "mixtral-8x7b": ("datacenter", ["Server", "Offline"]),
    "llama3.1-405b": ("datacenter", ["Offline", "Server"]),  # and one of Server, Interactive
    "rgat": ("datacenter", ["Offline"]),
    "pointpainting": ("edge", ["SingleStream"]),
    "deepseek-r1": ("datacenter", ["Server", "Offline"]),
    "whisper": ("edge", ["Offline"]),
}

TOKENS = {"llama3.1-8b", "llama3.1-8b-edge", "llama2-70b-99", "llama2-70b-99.9", "mixtral-8x7b", "llama3.1-405b"}
TOKENS |= {"deepseek-r1"}


def check(sub: Submission) -> InferenceReport:
    return check_inference_paths([sub.division_dir], "5.1")


def only(report: InferenceReport) -> ResultReport:
    assert len(report.results) == 1
    return report.results[0]


def errors(r: ResultReport) -> list[str]:
    return [f.check for f in r.findings if f.severity == "error"]


@pytest.fixture
def sub(tmp_path: Path) -> Submission:
    return Submission(tmp_path)


@pytest.mark.parametrize("model", sorted(REQUIRED))
def test_every_v51_model_passes_in_its_required_scenarios(tmp_path: Path, model: str) -> None:
    system_type, scenarios = REQUIRED[model]
    sub = Submission(tmp_path, system_type=system_type)
    for scenario in scenarios:
        score = 2_500_000.0 if scenario in ("SingleStream", "MultiStream") else 1234.5
        sub.result(model, scenario, score=score)
    report = check(sub)
    assert [(r.scenario, r.verdict, errors(r)) for r in report.results] == [(s, "pass", []) for s in sorted(scenarios)]
    assert report.packages[0].verdict == "pass", report.packages[0].findings
    for r in report.results:
        if r.scenario in ("SingleStream", "MultiStream"):
            assert (r.score, r.units) == (2.5, "Latency (ms)")
        elif model in TOKENS:
            assert (r.score, r.units) == (1234.5, "Tokens/s")
        else:
            assert r.score == 1234.5
            assert r.units == {"Offline": "Samples/s", "Server": "Queries/s"}[r.scenario]


def test_whisper_scores_tokens_per_second_under_samples_units(sub: Submission) -> None:
    sub.result("whisper", "Offline", perf={"result_samples_per_second": 680.194, "result_tokens_per_second": 43164.3})
    r = only(check(sub))
    assert (r.verdict, r.score, r.units) == ("pass", 43164.3, "Samples/s")


def test_server_llm_scores_completed_tokens_and_interactive_is_a_server_run(sub: Submission) -> None:
    sub.result("llama2-70b-99", "Offline", score=30000.0)
    sub.result("llama2-70b-99", "Interactive", perf={"result_completed_tokens_per_second": 8840.42})
    report = check(sub)
    by = {r.scenario: r for r in report.results}
    assert (by["Interactive"].verdict, by["Interactive"].score, by["Interactive"].units) == (
        "pass",
        8840.42,
        "Tokens/s",
    )
    assert report.packages[0].verdict == "pass"


# -- LoadGen detail log rules -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "check_id"),
    [
        ({"result_validity": "INVALID"}, "inference.performance.validity"),
        ({"effective_qsl_rng_seed": 1}, "inference.performance.seeds"),
        ({"effective_schedule_rng_seed": 2}, "inference.performance.seeds"),
        ({"effective_performance_sample_count": 100}, "inference.performance.sample_count"),
        ({"effective_min_duration_ms": 60000}, "inference.performance.duration"),
        ({"effective_samples_per_query": 10}, "inference.performance.query_count"),
        ({"effective_sample_concatenate_permutation": False}, "inference.performance.equal_issue"),
        ({"requested_use_token_latencies": False}, "inference.performance.token_latency"),
        ({"num_errors": 2}, "inference.log.errors"),
    ],
)
def test_offline_llm_run_rules(sub: Submission, change: dict[str, object], check_id: str) -> None:
    sub.result("llama3.1-8b", "Offline", perf=change)
    r = only(check(sub))
    assert r.verdict == "fail"
    finding = next(f for f in r.findings if f.check == check_id)
    assert finding.file.endswith("llama3.1-8b/Offline/performance/run_1/mlperf_log_detail.txt")
    assert finding.line is not None and finding.line > 1


def test_a_loadgen_error_record_fails_the_run_and_names_its_line(sub: Submission) -> None:
    res = sub.result("whisper", "Offline")
    log = res / "performance" / "run_1" / "mlperf_log_detail.txt"
    values = detail_values("whisper", "Offline", 1234.5)
    values.pop("num_errors")
    write_detail(log, values, [record("error_runtime", "something broke", error=True)])
    r = only(check(sub))
    f = next(f for f in r.findings if f.check == "inference.log.errors")
    assert "something broke" in f.message and f.line == len(values) + 1


@pytest.mark.parametrize(
    ("model", "scenario", "change", "ok"),
    [
        ("llama2-70b-99", "Server", {"result_first_token_99.00_percentile_latency_ns": 1_999_999_999}, True),
        ("llama2-70b-99", "Server", {"result_first_token_99.00_percentile_latency_ns": 2_000_000_000}, False),
        ("llama2-70b-99", "Interactive", {"result_time_per_output_token_99.00_percentile_ns": 40_000_000}, False),
        ("llama2-70b-99", "Interactive", {"result_time_per_output_token_99.00_percentile_ns": 39_999_999}, True),
        ("llama3.1-405b", "Server", {"result_first_token_99.00_percentile_latency_ns": 5_000_000_000}, True),
        ("llama3.1-8b", "Interactive", {"result_first_token_99.00_percentile_latency_ns": 500_000_000}, False),
        ("mixtral-8x7b", "Server", {"result_time_per_output_token_99.00_percentile_ns": 210_000_000}, False),
    ],
)
def test_time_to_first_token_and_time_per_output_token_limits(
    sub: Submission, model: str, scenario: str, change: dict[str, object], ok: bool
) -> None:
    sub.result(model, scenario, perf=change)
    r = only(check(sub))
    assert r.verdict == ("pass" if ok else "fail"), r.findings
    if not ok:
        assert "inference.performance.token_latency" in errors(r)


def test_server_latency_constraint_is_checked_on_the_early_stopping_target(tmp_path: Path) -> None:
    sub = Submission(tmp_path)
    sub.result("retinanet", "Server", perf={"effective_target_latency_ns": 100_000_000})
    sub2 = Submission(tmp_path / "b")
    sub2.result("retinanet", "Server", perf={"effective_target_latency_ns": 100_000_001})
    assert only(check(sub)).verdict == "pass"
    r = only(check(sub2))
    assert r.verdict == "fail" and "inference.performance.latency" in errors(r)


def test_early_stopping_not_met_is_only_a_warning_as_in_the_official_checker(sub: Submission) -> None:
    sub.result("retinanet", "Server", perf={"early_stopping_met": False})
    r = only(check(sub))
    assert r.verdict == "pass"
    assert any(f.check == "inference.performance.early_stopping" and f.severity == "warning" for f in r.findings)


def test_single_stream_min_query_count_is_not_checked_with_early_stopping(tmp_path: Path) -> None:
    sub = Submission(tmp_path, system_type="edge")
    sub.result("resnet", "SingleStream", score=1_341_022.0, perf={"effective_min_query_count": 10})
    r = only(check(sub))
    assert (r.verdict, r.score) == ("pass", 1.341022)


def test_offline_inferred_from_a_multistream_run(tmp_path: Path) -> None:
    sub = Submission(tmp_path, system_type="edge")
    perf = {"effective_samples_per_query": 8, "result_mean_query_latency_ns": 4_000_000}
    sub.result("resnet", "Offline", log_scenario="MultiStream", perf=perf)
    r = only(check(sub))
    assert r.verdict == "pass" and r.inferred
    assert r.score == pytest.approx(8 * 1000 / 4.0)


def test_interactive_from_anything_but_a_server_run_fails(sub: Submission) -> None:
    sub.result("llama2-70b-99", "Interactive", log_scenario="Offline")
    r = only(check(sub))
    assert r.verdict == "fail" and "inference.performance.inferred" in errors(r)


# -- accuracy ---------------------------------------------------------------------------------


def test_accuracy_below_target_fails_in_closed_with_its_line(sub: Submission) -> None:
    sub.result("whisper", "Offline", accuracy_txt="Word Error Rate: 4.0%, accuracy=96.0%\n")
    r = only(check(sub))
    assert r.verdict == "fail"
    f = next(f for f in r.findings if f.check == "inference.accuracy")
    assert f.file.endswith("whisper/Offline/accuracy/accuracy.txt") and f.line == 1


def test_accuracy_below_target_is_accepted_in_open(tmp_path: Path) -> None:
    sub = Submission(tmp_path, division="open")
    sub.result("whisper", "Offline", accuracy_txt="Word Error Rate: 4.0%, accuracy=96.0%\n")
    r = only(check(sub))
    assert r.verdict == "pass"
    assert any(f.check == "inference.accuracy" and f.severity == "warning" for f in r.findings)


def test_accuracy_above_the_upper_limit_fails(sub: Submission) -> None:
    txt = "{'rouge1': 44.5, 'rouge2': 22.1, 'rougeL': 28.7, 'tokens_per_sample': 330.0}\n"
    sub.result("llama2-70b-99", "Offline", accuracy_txt=txt)
    r = only(check(sub))
    assert r.verdict == "fail" and "upper limit" in " ".join(f.message for f in r.findings)


def test_every_metric_of_a_model_is_required(sub: Submission) -> None:
    sub.result("mixtral-8x7b", "Offline", accuracy_txt="{'rouge1': 45.6, 'rouge2': 23.4, 'rougeL': 30.5}\n")
    sub.result("mixtral-8x7b", "Server")
    by = {r.scenario: r for r in check(sub).results}
    assert by["Offline"].verdict == "fail" and by["Server"].verdict == "pass"
    assert "gsm8k_accuracy" in " ".join(f.message for f in by["Offline"].findings)


def test_accuracy_needs_the_hash_of_the_accuracy_log(sub: Submission) -> None:
    res = sub.result("whisper", "Offline")
    (res / "accuracy" / "accuracy.txt").write_text("Word Error Rate: 2.0%, accuracy=98.0%\n")
    r = only(check(sub))
    assert r.verdict == "fail" and "hash" in " ".join(f.message for f in r.findings)


def test_an_untruncated_accuracy_log_fails(sub: Submission) -> None:
    res = sub.result("whisper", "Offline")
    (res / "accuracy" / "mlperf_log_accuracy.json").write_text("[" + '{"seq_id": 0, "data": "00"},' * 500 + "]")
    r = only(check(sub))
    f = next(f for f in r.findings if f.check == "inference.accuracy.log")
    assert r.verdict == "fail" and "not truncated" in f.message and f.file.endswith("mlperf_log_accuracy.json")


def test_a_2_gb_accuracy_log_rejects_the_package_and_is_never_read(sub: Submission) -> None:
    res = sub.result("whisper", "Offline")
    big = res / "accuracy" / "mlperf_log_accuracy.json"
    with open(big, "wb") as f:
        f.truncate(2 * 1024**3)  # sparse: 2 GB that would take many seconds to read
    started = time.monotonic()
    report = check(sub)
    assert time.monotonic() - started < 5
    assert only(report).verdict == "fail"
    f = next(f for f in report.packages[0].findings if f.check == "inference.layout")
    assert "over 50 MB" in f.message and f.file.endswith("accuracy/mlperf_log_accuracy.json")


def test_stable_diffusion_needs_its_sample_images(sub: Submission) -> None:
    res = sub.result("stable-diffusion-xl", "Offline")
    sub.result("stable-diffusion-xl", "Server")
    (res / "accuracy" / "images" / "2747.png").unlink()
    by = {r.scenario: r for r in check(sub).results}
    assert by["Offline"].verdict == "fail" and by["Server"].verdict == "pass"
    assert any("2747.png" in f.message for f in by["Offline"].findings)


def test_accuracy_run_must_not_have_extra_files(sub: Submission) -> None:
    res = sub.result("whisper", "Offline")
    (res / "accuracy" / "notes.txt").write_text("x")
    (res / "accuracy" / "mlperf_log_trace.json").write_text("{}")  # always allowed
    r = only(check(sub))
    assert r.verdict == "fail" and "notes.txt" in " ".join(f.message for f in r.findings)


def test_accuracy_run_over_part_of_the_data_set_is_a_warning(sub: Submission) -> None:
    sub.result("whisper", "Offline", accuracy={"qsl_reported_total_count": 100})
    r = only(check(sub))
    assert r.verdict == "pass"
    assert any(f.severity == "warning" and "whole data set" in f.message for f in r.findings)


# -- compliance tests -------------------------------------------------------------------------


def test_test06_is_required_for_llms(sub: Submission) -> None:
    sub.result("llama3.1-8b", "Offline")
    verify = sub.root / "compliance" / "sys8" / "llama3.1-8b" / "Offline" / "TEST06" / "verify_accuracy.txt"
    verify.write_text("First token check pass: True\nEOS check pass: False\nSample length check pass: True\n")
    r = only(check(sub))
    assert r.verdict == "fail"
    assert any("EOS check pass" in f.message and f.file.endswith("TEST06/verify_accuracy.txt") for f in r.findings)


def test_test01_may_fail_deterministic_mode_if_accuracy_is_within_delta(sub: Submission) -> None:
    sub.result("whisper", "Offline")
    t = sub.root / "compliance" / "sys8" / "whisper" / "Offline" / "TEST01"
    (t / "verify_accuracy.txt").write_text("TEST FAIL\n")
    (t / "accuracy" / "baseline_accuracy.txt").write_text("Word Error Rate: 2.0%, accuracy=97.90%\n")
    (t / "accuracy" / "compliance_accuracy.txt").write_text("Word Error Rate: 2.0%, accuracy=97.50%\n")
    assert only(check(sub)).verdict == "pass"  # 0.41 % apart, 1 % allowed
    (t / "accuracy" / "compliance_accuracy.txt").write_text("Word Error Rate: 2.0%, accuracy=95.0%\n")
    r = only(check(sub))
    assert r.verdict == "fail" and "TEST01" in " ".join(f.message for f in r.findings)


def test_test04_and_test01_are_required_for_resnet(tmp_path: Path) -> None:
    sub = Submission(tmp_path, system_type="edge")
    sub.result("resnet", "Offline")
    shutil.rmtree(sub.root / "compliance" / "sys8" / "resnet" / "Offline" / "TEST04")
    r = only(check(sub))
    assert r.verdict == "fail" and "TEST04 is missing" in " ".join(f.message for f in r.findings)


def test_compliance_performance_run_is_checked_like_the_main_run(sub: Submission) -> None:
    sub.result("whisper", "Offline")
    log = sub.root / "compliance" / "sys8" / "whisper" / "Offline" / "TEST01" / "performance" / "run_1"
    values = detail_values("whisper", "Offline", 1.0)
    values["effective_min_duration_ms"] = 1000
    write_detail(log / "mlperf_log_detail.txt", values)
    r = only(check(sub))
    assert r.verdict == "fail"
    assert any(f.check == "inference.compliance" and "min_duration" in f.message for f in r.findings)


def test_open_division_needs_no_compliance_tests(tmp_path: Path) -> None:
    sub = Submission(tmp_path, division="open")
    sub.result("llama3.1-8b", "Offline")
    assert not (sub.root / "compliance").exists()
    assert only(check(sub)).verdict == "pass"


# -- package, system descriptions, measurements -------------------------------------------------


def test_system_description_fields(sub: Submission) -> None:
    sub.result("whisper", "Offline")
    sub.write_system(cooling="")
    report = check(sub)
    assert only(report).verdict == "fail"
    f = next(f for f in report.packages[0].findings if f.check == "inference.system.field")
    assert "cooling" in f.message and f.file == "closed/Acme/systems/sys8.json"


@pytest.mark.parametrize(
    "change",
    [
        {"status": "soon"},
        {"system_type": "laptop"},
        {"division": "open"},
        {"submitter": "Other"},
        {"is_network": "true"},
    ],
)
def test_system_description_values(sub: Submission, change: dict[str, str]) -> None:
    sub.result("whisper", "Offline")
    sub.write_system(**change)
    report = check(sub)
    assert only(report).verdict == "fail"
    assert report.packages[0].verdict == "fail"


def test_model_mapping_for_the_open_division(tmp_path: Path) -> None:
    sub = Submission(tmp_path, division="open")
    sub.result("whisper", "Offline", model_folder="whisper-large-v3-int4")
    assert only(check(sub)).verdict == "fail"  # unknown model name, no mapping
    (sub.root / "model_mapping.json").write_text('{"whisper-large-v3-int4": "whisper"}')
    r = only(check(sub))
    assert (r.verdict, r.mlperf_model) == ("pass", "whisper")


def test_resnet50_maps_to_resnet(tmp_path: Path) -> None:
    sub = Submission(tmp_path, division="open", system_type="edge")
    sub.result("resnet", "Offline", model_folder="resnet50")
    r = only(check(sub))
    assert (r.verdict, r.mlperf_model, r.units) == ("pass", "resnet", "Samples/s")


def test_measurements_need_user_conf_and_the_implementation_description(sub: Submission) -> None:
    sub.result("whisper", "Offline")
    (sub.root / "measurements" / "sys8" / "whisper" / "Offline" / "user.conf").write_text("")
    r = only(check(sub))
    assert r.verdict == "fail" and "user.conf is empty" in " ".join(f.message for f in r.findings)


def test_required_scenarios_and_calibration_fail_the_package_not_the_results(sub: Submission) -> None:
    sub.result("retinanet", "Offline")  # Server is required too
    shutil.rmtree(sub.root / "documentation")
    report = check(sub)
    assert only(report).verdict == "pass"
    pkg = report.packages[0]
    assert pkg.verdict == "fail"
    assert {"inference.scenarios_missing", "inference.calibration"} <= {f.check for f in pkg.findings}


def test_systems_without_results_fail_the_package(sub: Submission) -> None:
    sub.result("whisper", "Offline")
    sub.write_system("spare")
    report = check(sub)
    assert only(report).verdict == "pass" and report.packages[0].verdict == "fail"


def test_performance_sample_counts_are_the_published_ones() -> None:
    # the builder's numbers are written out independently of the engine's data
    assert COUNTS["rgat"][0] == 788379 and COUNTS["deepseek-r1"][0] == 4388


# -- power ------------------------------------------------------------------------------------


def _power(sub: Submission, model: str, scenario: str, watts: list[float], **kw: object) -> Path:
    res = sub.result(model, scenario, **kw)  # type: ignore[arg-type]
    perf = res / "performance"
    begin, end = "07-31-2025 09:26:03.554", "07-31-2025 09:36:03.554"
    lines = [
        f"Time,07-31-2025 09:26:{4 + i:02d}.000,Watts,{w},Volts,230.0,Amps,5.0,PF,0.99,Mark,x"
        for i, w in enumerate(watts)
    ]
    lines.append("Time,07-31-2025 09:40:00.000,Watts,99999,Volts,230.0,Amps,5.0,PF,0.99,Mark,x")  # after the run
    for run in ("run_1", "ranging"):
        detail = perf / run / "mlperf_log_detail.txt"
        if run == "ranging":
            shutil.copytree(perf / "run_1", perf / "ranging", dirs_exist_ok=True)
        text = detail.read_text()
        extra = (
            f'\n:::MLLOG {{"key": "power_begin", "value": "{begin}", "time_ms": 0, "namespace": "mlperf::logging", '
            f'"event_type": "POINT_IN_TIME", "metadata": {{"is_error": false, "is_warning": false}}}}'
            f'\n:::MLLOG {{"key": "power_end", "value": "{end}", "time_ms": 0, "namespace": "mlperf::logging", '
            f'"event_type": "POINT_IN_TIME", "metadata": {{"is_error": false, "is_warning": false}}}}\n'
        )
        detail.write_text(text.rstrip("\n") + extra)
        (perf / run / "spl.txt").write_text("\n".join(lines) + "\n")
    write_power_session(perf, power_session((begin, end), (begin, end)))
    meas = sub.root / "measurements" / sub.system / model / scenario
    (meas / "analyzer_table.md").write_text("| analyzer |\n")
    (meas / "power_settings.md").write_text("# settings\n")
    return res


def test_power_results_get_the_average_power_over_the_run(sub: Submission) -> None:
    _power(sub, "whisper", "Offline", [1000.0, 1100.0, 1200.0], score=4400.0)
    r = only(check(sub))
    assert (r.verdict, r.score, r.units) == ("pass", 4400.0, "Samples/s")
    assert r.power == {"metric": 1100.0, "units": "Watts", "efficiency": 4.0}
    assert not [f for f in r.findings if f.check == "inference.power"]  # the Power WG's checks pass


def test_power_only_systems_report_the_power_figure(sub: Submission) -> None:
    sub.write_system(system_power_only="true")
    _power(sub, "whisper", "Offline", [500.0, 700.0], score=1000.0)
    r = only(check(sub))
    assert (r.verdict, r.score, r.units) == ("pass", 600.0, "Watts")


def test_power_needs_samples_inside_the_run_and_the_power_files(tmp_path: Path) -> None:
    sub = Submission(tmp_path)
    _power(sub, "whisper", "Offline", [])
    r = only(check(sub))
    assert r.verdict == "fail" and any("no power samples" in f.message for f in r.findings)
    sub2 = Submission(tmp_path / "b")
    res = _power(sub2, "whisper", "Offline", [800.0])
    (res / "performance" / "power" / "server.log").unlink()
    r = only(check(sub2))
    assert r.verdict == "fail" and any("server.log" in f.message for f in r.findings)
