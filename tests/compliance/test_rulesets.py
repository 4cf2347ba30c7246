"""The pinned package's own rules, several rulesets, on logs written by the tests; every verdict
compared with the official checker in process."""

from __future__ import annotations

from pathlib import Path

import pytest

from submissions import compliance
from submissions.compliance import check_file
from submissions.compliance.oracle import official_file
from submissions.compliance.rules import allowed_benchmarks, available_rulesets, usages
from tests.compliance.logs import HYPER, Log, mllog, stable_diffusion_log, training_log

CASES = [
    ("training", "4.0.0", "llama2_70b_lora"),
    ("training", "5.1.0", "llama2_70b_lora"),
    ("training", "6.1.0", "llama31_8b"),
    ("hpc", "3.0.0", "cosmoflow"),
]


def agree(path: Path, usage: str, ruleset: str) -> str:
    report = check_file(path, usage, ruleset)
    official = official_file(path, usage, ruleset)
    expected = "fail" if official.verdict == "crash" else official.verdict
    assert report.verdict == expected, (official, report.findings)
    assert report.official_crash == (official.verdict == "crash"), (official, report.findings)
    return official.verdict


def test_usages_and_rulesets_come_from_the_installed_package() -> None:
    assert usages() == ["hpc", "training"]
    assert available_rulesets("training")[0] == "0.6.0"
    assert {"4.0.0", "5.1.0", "6.1.0"} <= set(available_rulesets("training"))
    assert available_rulesets("hpc") == ["1.0.0", "2.0.0", "3.0.0"]
    assert available_rulesets("inference") == []


def test_the_portal_catalogue_adds_the_inference_checkers_rulesets() -> None:
    assert compliance.usages() == ["hpc", "inference", "training"]
    assert compliance.available_rulesets("training") == available_rulesets("training")
    assert compliance.available_rulesets("inference") == ["5.1"]
    assert "llama2-70b-99" in compliance.allowed_benchmarks("inference", "5.1")
    with pytest.raises(compliance.RulesetError):
        compliance.allowed_benchmarks("inference", "9.9")


def test_allowed_benchmarks_are_the_official_lists() -> None:
    assert set(allowed_benchmarks("training", "5.1.0")) == {
        "llama31_8b",
        "dlrm_dcnv2",
        "retinanet",
        "flux1",
        "llama2_70b_lora",
        "rgat",
        "llama31_405b",
    }
    assert "openfold" in allowed_benchmarks("hpc", "3.0.0")
    # the official 4.0 list names stable_diffusion twice
    assert allowed_benchmarks("training", "4.0.0").count("stable_diffusion") == 1


@pytest.mark.parametrize(("usage", "ruleset", "benchmark"), CASES)
def test_compliant_log_passes(tmp_path: Path, usage: str, ruleset: str, benchmark: str) -> None:
    path = training_log(ruleset, benchmark, usage=usage).write(tmp_path / "result_0.txt")
    assert agree(path, usage, ruleset) == "pass"


@pytest.mark.parametrize(("usage", "ruleset", "benchmark"), CASES)
@pytest.mark.parametrize(
    "variant",
    [
        "drop_batch_size",
        "drop_run_stop",
        "drop_init_stop",
        "accuracy_missed",
        "wrong_hyperparameter",
        "open_division",
        "unknown_benchmark",
        "bad_division",
        "not_converged",
    ],
)
def test_variants_agree_with_official(tmp_path: Path, usage: str, ruleset: str, benchmark: str, variant: str) -> None:
    hyper = dict(HYPER[(usage, ruleset, benchmark)])
    kwargs: dict = {"usage": usage}
    if variant == "drop_batch_size":
        kwargs["drop"] = ("global_batch_size",)
    elif variant == "drop_run_stop":
        kwargs["drop"] = ("run_stop",)
    elif variant == "drop_init_stop":
        kwargs["drop"] = ("init_stop",)
    elif variant == "accuracy_missed":
        kwargs["accuracy"] = 50.0
    elif variant == "wrong_hyperparameter":
        key = next(k for k in ("lora_rank", "max_steps", "opt_name") if k in hyper)
        hyper[key] = "wrong"
    elif variant == "open_division":
        kwargs["division"] = "open"
    elif variant == "unknown_benchmark":
        log = training_log(ruleset, benchmark, hyper=hyper, **kwargs)
        log.lines = [ln.replace(f'"value": "{benchmark}"', '"value": "no_such_benchmark"') for ln in log.lines]
        path = log.write(tmp_path / "result_0.txt")
        assert agree(path, usage, ruleset) in ("fail", "crash")
        return
    elif variant == "bad_division":
        kwargs["division"] = "secret"
    elif variant == "not_converged":
        kwargs["status"] = "aborted"
    path = training_log(ruleset, benchmark, hyper=hyper, **kwargs).write(tmp_path / "result_0.txt")
    agree(path, usage, ruleset)


@pytest.mark.parametrize(("usage", "ruleset"), [(u, r) for u in ("training", "hpc") for r in available_rulesets(u)])
def test_every_shipped_ruleset_agrees_on_foreign_logs(tmp_path: Path, usage: str, ruleset: str) -> None:
    # logs written for other rulesets: mostly failures, sometimes crashes, always the same verdict
    for i, (u, r, b) in enumerate(CASES):
        path = training_log(r, b, usage=u).write(tmp_path / f"result_{i}.txt")
        agree(path, usage, ruleset)


def test_ruleset_060_text_format(tmp_path: Path) -> None:
    lines = [
        ':::MLL 1558767599.999 submission_org: {"value": "Acme", "metadata": {}}',
        ":::MLL 1558767600.000 run_start: {}",
        ":::MLL 1.2.3 bad_time: 1",
        mllog("run_stop", None),  # a JSON line: not the 0.6.0 format
    ]
    path = tmp_path / "result_0.txt"
    path.write_text("\n".join(lines) + "\n")
    assert agree(path, "training", "0.6.0") == "fail"


def test_duplicate_keys_with_different_values(tmp_path: Path) -> None:
    log = training_log("6.1.0", "llama31_8b")
    log.event("global_batch_size", 64)
    path = log.write(tmp_path / "result_0.txt")
    assert agree(path, "training", "6.1.0") == "fail"


def test_reordered_events(tmp_path: Path) -> None:
    log = training_log("5.1.0", "llama2_70b_lora")
    i = next(i for i, ln in enumerate(log.lines) if '"run_start"' in ln)
    j = next(i for i, ln in enumerate(log.lines) if '"init_start"' in ln)
    log.lines[i], log.lines[j] = log.lines[j], log.lines[i]
    path = log.write(tmp_path / "result_0.txt")
    assert agree(path, "training", "5.1.0") == "fail"


def test_hpc_log_under_training_rules_and_back(tmp_path: Path) -> None:
    path = training_log("3.0.0", "cosmoflow", usage="hpc").write(tmp_path / "result_0.txt")
    agree(path, "training", "5.1.0")
    path = Log().event("submission_benchmark", "cosmoflow").write(tmp_path / "result_1.txt")
    agree(path, "hpc", "1.0.0")


@pytest.mark.parametrize("ruleset", ["3.1.0", "4.0.0", "4.1.0", "5.0.0"])
@pytest.mark.parametrize(
    "variant",
    [{}, {"fid": 95.0}, {"clip": 0.1}, {"steps": 1}, {"metrics": ("FID",)}, {"steps": 0}],
    ids=["good", "fid_missed", "clip_missed", "one_eval", "fid_only", "no_eval"],
)
def test_stable_diffusion_rules_read_the_whole_log(tmp_path: Path, ruleset: str, variant: dict) -> None:
    # their BEGIN code aggregates the FID and CLIP lines over the whole list of lines: the engine
    # runs such configs listwise, like the official checker
    path = stable_diffusion_log(**variant).write(tmp_path / "result_0.txt")
    verdict = agree(path, "training", ruleset)
    if not variant and ruleset != "3.1.0":
        assert verdict == "pass"
