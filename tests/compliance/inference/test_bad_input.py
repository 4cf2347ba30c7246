"""Bad input: each case is a finding naming its file (and line where there is one), the other
results are still checked, and nothing raises or is written into the input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from submissions.compliance.inference import InferenceReport, check_inference_paths
from tests.compliance.inference.builder import Submission


def check(sub: Submission) -> InferenceReport:
    return check_inference_paths([sub.division_dir], "5.1")


@pytest.fixture
def two(tmp_path: Path) -> Submission:
    """A package with two passing results: whisper Offline (to break) and rgat Offline."""
    sub = Submission(tmp_path)
    sub.result("whisper", "Offline")
    sub.result("rgat", "Offline")
    return sub


def verdicts(report: InferenceReport) -> dict[str, str]:
    return {r.model + "/" + r.scenario: r.verdict for r in report.results}


def perf_log(sub: Submission, model: str = "whisper") -> Path:
    return sub.result_dir(model, "Offline") / "performance" / "run_1" / "mlperf_log_detail.txt"


def finding_for(report: InferenceReport, model: str, file_suffix: str):  # type: ignore[no-untyped-def]
    r = next(r for r in report.results if r.model == model)
    return next(f for f in r.findings if f.severity == "error" and (f.file or "").endswith(file_suffix))


def test_missing_detail_log(two: Submission) -> None:
    perf_log(two).unlink()
    report = check(two)
    assert verdicts(report) == {"whisper/Offline": "fail", "rgat/Offline": "pass"}
    f = finding_for(report, "whisper", "performance/run_1")
    assert "mlperf_log_detail.txt" in f.message


def test_empty_detail_log(two: Submission) -> None:
    perf_log(two).write_text("")
    report = check(two)
    assert verdicts(report) == {"whisper/Offline": "fail", "rgat/Offline": "pass"}
    assert finding_for(report, "whisper", "run_1/mlperf_log_detail.txt")


def test_a_log_that_says_invalid(two: Submission) -> None:
    text = perf_log(two).read_text().replace('"value": "VALID"', '"value": "INVALID"')
    perf_log(two).write_text(text)
    report = check(two)
    f = finding_for(report, "whisper", "run_1/mlperf_log_detail.txt")
    assert "INVALID" in f.message and f.line is not None
    assert verdicts(report)["rgat/Offline"] == "pass"


def test_a_malformed_record_names_its_line(two: Submission) -> None:
    lines = perf_log(two).read_text().splitlines()
    lines[5] = lines[5][: len(lines[5]) // 2]  # a record cut in half
    perf_log(two).write_text("\n".join(lines) + "\n")
    report = check(two)
    f = finding_for(report, "whisper", "run_1/mlperf_log_detail.txt")
    assert f.line == 6 and "well-formed" in f.message
    assert verdicts(report)["rgat/Offline"] == "pass"


def test_not_a_loadgen_log(two: Submission) -> None:
    perf_log(two).write_text("hello\n:::MLLOG {}\n")
    f = finding_for(check(two), "whisper", "run_1/mlperf_log_detail.txt")
    assert f.line == 1 and "marker" in f.message


def test_non_utf8_bytes_in_a_detail_log(two: Submission) -> None:
    data = perf_log(two).read_bytes().splitlines(keepends=True)
    data[3] = b"\xff\xfe garbage \xc3\x28\n"
    perf_log(two).write_bytes(b"".join(data))
    report = check(two)
    f = finding_for(report, "whisper", "run_1/mlperf_log_detail.txt")
    assert f.line == 4 and "UTF-8" in f.message
    assert verdicts(report)["rgat/Offline"] == "pass"


def test_non_utf8_bytes_in_accuracy_txt(two: Submission) -> None:
    (two.result_dir("whisper", "Offline") / "accuracy" / "accuracy.txt").write_bytes(b"accuracy=\xff\xfe\n")
    report = check(two)
    assert finding_for(report, "whisper", "accuracy/accuracy.txt")
    assert verdicts(report) == {"whisper/Offline": "fail", "rgat/Offline": "pass"}


def test_a_value_of_the_wrong_type(two: Submission) -> None:
    text = perf_log(two).read_text().replace('"value": 600000', '"value": "600000"')
    perf_log(two).write_text(text)
    report = check(two)
    f = finding_for(report, "whisper", "run_1/mlperf_log_detail.txt")
    assert "wrong type" in f.message


def test_wrong_scenario_name(two: Submission) -> None:
    two.result("whisper", "Offline2")
    report = check(two)
    r = next(r for r in report.results if r.scenario == "Offline2")
    assert r.verdict == "fail" and any(f.check == "inference.scenario" for f in r.findings)
    assert verdicts(report)["whisper/Offline"] == "pass"


def test_lower_case_scenario_names_are_mapped(tmp_path: Path) -> None:
    sub = Submission(tmp_path)
    sub.result("whisper", "offline", log_scenario="Offline")
    r = check(sub).results[0]
    assert (r.verdict, r.units) == ("pass", "Samples/s")


def test_unknown_model(two: Submission) -> None:
    two.result("whisper", "Offline", model_folder="gpt-17")
    report = check(two)
    r = next(r for r in report.results if r.model == "gpt-17")
    assert r.verdict == "fail" and any(f.check == "inference.layout" for f in r.findings)
    assert any(f.check == "inference.model" and "gpt-17" in f.message for f in report.packages[0].findings)
    assert verdicts(report)["whisper/Offline"] == "pass"


def test_a_result_folder_in_the_wrong_place(two: Submission) -> None:
    # results/<system>/<scenario>/... : the scenario folder is taken for a model
    misplaced = two.root / "results" / "sys8" / "Offline" / "performance"
    misplaced.mkdir(parents=True)
    (misplaced / "mlperf_log_detail.txt").write_text("")
    report = check(two)
    r = next(r for r in report.results if r.model == "Offline")
    assert r.verdict == "fail" and r.path == "closed/Acme/results/sys8/Offline/performance"
    assert verdicts(report)["whisper/Offline"] == "pass"


def test_results_of_a_system_without_description(two: Submission) -> None:
    two.result("whisper", "Offline", system="ghost")
    (two.root / "systems" / "ghost.json").unlink()
    report = check(two)
    r = next(r for r in report.results if r.system == "ghost")
    assert r.verdict == "fail"
    assert any(f.file == "closed/Acme/systems/ghost.json" for f in r.findings)


def test_summary_disagreeing_with_the_detail_log_is_an_advisory_with_its_line(two: Submission) -> None:
    summary = perf_log(two).with_name("mlperf_log_summary.txt")
    text = summary.read_text().replace("Result is : VALID", "Result is : INVALID")
    summary.write_text(text)
    report = check(two)
    r = next(r for r in report.results if r.model == "whisper")
    f = next(f for f in r.findings if f.check == "inference.summary_mismatch")
    assert r.verdict == "pass"  # the official checker reads the detail log only
    assert f.severity == "advisory" and f.file.endswith("mlperf_log_summary.txt")
    assert f.line == text.splitlines().index("Result is : INVALID") + 1


def test_unreadable_system_description(two: Submission) -> None:
    (two.root / "systems" / "sys8.json").write_text("{not json")
    report = check(two)
    assert set(verdicts(report).values()) == {"fail"}
    assert any(f.file == "closed/Acme/systems/sys8.json" for f in report.packages[0].findings)


def test_files_loose_in_the_division_fail_it(two: Submission) -> None:
    (two.division_dir / "notes.txt").write_text("x")
    report = check(two)
    assert set(verdicts(report).values()) == {"fail"}
    assert report.findings and report.findings[0].file == "closed/notes.txt"


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.lstat().st_size, p.lstat().st_mtime_ns) for p in root.rglob("*")}


@pytest.mark.parametrize("damage", ["delete", "empty", "garbage", "half"])
def test_no_damaged_file_makes_the_checker_raise_or_write(two: Submission, damage: str) -> None:
    files = sorted(p for p in two.root.rglob("*") if p.is_file())
    for victim in files:
        original = victim.read_bytes()
        if damage == "delete":
            victim.unlink()
        elif damage == "empty":
            victim.write_bytes(b"")
        elif damage == "garbage":
            victim.write_bytes(os.urandom(64) + b"\n\x00\xff")
        else:
            victim.write_bytes(original[: len(original) // 2])
        before = snapshot(two.base)
        report = check(two)  # must not raise
        assert snapshot(two.base) == before, f"the checker wrote into the input ({victim})"
        assert len(report.results) == 2
        for r in report.results:
            if r.verdict == "fail":
                assert any(f.severity == "error" for f in r.findings)
            else:
                assert r.score is not None and r.units
        victim.write_bytes(original)


def test_the_folder_holding_the_divisions_is_checked_whole(two: Submission) -> None:
    report = check_inference_paths([two.base], "5.1")
    assert verdicts(report) == {"whisper/Offline": "pass", "rgat/Offline": "pass"}
    (two.base / "README.md").write_text("allowed\n")
    assert check_inference_paths([two.base], "5.1").passed
    (two.base / "notes.txt").write_text("not allowed\n")
    report = check_inference_paths([two.base], "5.1")
    assert set(verdicts(report).values()) == {"fail"} and report.findings[0].file == "notes.txt"


def test_results_as_a_file_fails_the_package(tmp_path: Path) -> None:
    sub = Submission(tmp_path)
    sub.write_system()
    (sub.root / "results").write_text("oops")
    report = check(sub)
    assert report.packages[0].verdict == "fail" and report.results == []
