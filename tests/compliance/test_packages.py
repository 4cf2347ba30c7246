"""Package checks on packages written by the tests, compared with the official package checker
(run in process on a copy). No real data needed."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from submissions.compliance import Check, PackageReport, check_package
from submissions.compliance.oracle import OfficialResult, official_package
from submissions.compliance.systems import SYSTEM_REQUIRED_FIELDS
from tests.compliance.logs import SYSTEM_DESC, mllog, write_package

RESULTS = "results/acme8/llama2_70b_lora"


def both(pkg: Path, usage: str = "training", ruleset: str = "5.1.0") -> tuple[PackageReport, OfficialResult]:
    report = check_package(pkg, usage, ruleset)
    official = official_package(pkg, usage, ruleset, scores=True)
    if official.verdict == "crash":
        assert report.verdict == "fail" and report.official_crash, (official, report.findings)
    else:
        assert report.verdict == official.verdict, (official, report.findings)
    return report, official


def checks(report: PackageReport) -> set[str]:
    return {f.check for f in report.findings}


@pytest.fixture
def pkg(tmp_path: Path) -> Path:
    return write_package(tmp_path / "Acme")


def test_compliant_closed_package_passes_with_official_scores(pkg: Path, no_writes: Callable[[Path], None]) -> None:
    no_writes(pkg)
    report, official = both(pkg)
    assert official.verdict == "pass"
    assert len(report.files) == 10 and all(f.passed for f in report.files)
    [score] = report.scores
    assert (score.system, score.benchmark) == ("acme8", "llama2_70b_lora")
    assert score.minutes == pytest.approx(official.scores[("acme8", "llama2_70b_lora")], rel=1e-12)


def test_open_division_skips_seeds_and_rcp(tmp_path: Path) -> None:
    pkg = write_package(tmp_path / "Acme", division="open", samples=(768, 1536))
    shutil.copy(pkg / RESULTS / "result_0.txt", pkg / RESULTS / "result_1.txt")
    report, _ = both(pkg)
    assert not checks(report) & {Check.PACKAGE_RCP, Check.PACKAGE_SEEDS}


def test_rcp_failure_and_bypass(tmp_path: Path) -> None:
    pkg = write_package(tmp_path / "Acme", samples=(768, 1536))  # converges far too fast
    report, official = both(pkg)
    assert official.verdict == "fail" and Check.PACKAGE_RCP in checks(report)
    (pkg / RESULTS / "package_checker_params").write_text("rcp-bypass")
    report, official = both(pkg)
    assert official.verdict == "pass" and Check.PACKAGE_RCP_BYPASSED in checks(report)


def test_duplicate_seeds_fail_the_closed_division(pkg: Path) -> None:
    shutil.copy(pkg / RESULTS / "result_0.txt", pkg / RESULTS / "result_1.txt")
    report, official = both(pkg)
    assert official.verdict == "fail" and Check.PACKAGE_SEEDS in checks(report)


def _rewrite(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))


def _system(pkg: Path, **changes: object) -> None:
    path = pkg / "systems" / "acme8.json"
    desc = json.loads(path.read_text())
    for k, v in changes.items():
        if v is None:
            desc.pop(k)
        else:
            desc[k] = v[0] if v == [None] else v  # [None]: set the field to null
    path.write_text(json.dumps(desc))


MUTATIONS: dict[str, tuple[Callable[[Path], object], str]] = {
    "missing_result": (lambda p: (p / RESULTS / "result_9.txt").unlink(), "fail"),
    "extra_result": (lambda p: shutil.copy(p / RESULTS / "result_0.txt", p / RESULTS / "result_10.txt"), "fail"),
    "misnamed": (lambda p: (p / RESULTS / "result_9.txt").rename(p / RESULTS / "run9.txt"), "fail"),
    "odd_name_counted": (lambda p: (p / RESULTS / "result_9.txt").rename(p / RESULTS / "result_final.txt"), "pass"),
    "bad_status": (lambda p: _system(p, status="onprem"), "fail"),
    "null_status": (lambda p: _system(p, status=[None]), "fail"),
    "missing_field": (lambda p: _system(p, hw_notes=None), "fail"),
    "field_not_text": (lambda p: _system(p, accelerators_per_node=8), "crash"),
    "missing_description": (lambda p: (p / "systems" / "acme8.json").unlink(), "crash"),
    "one_noncompliant": (
        lambda p: _rewrite(p / RESULTS / "result_2.txt", '"lora_rank", "value": 16', '"lora_rank", "value": 8'),
        "pass",
    ),
    "two_noncompliant": (
        lambda p: [
            _rewrite(p / RESULTS / f"result_{i}.txt", '"lora_rank", "value": 16', '"lora_rank", "value": 8')
            for i in (2, 3)
        ],
        "fail",
    ),
    "not_allowed_benchmark": (lambda p: shutil.copytree(p / RESULTS, p / "results/acme8/gpt3"), "pass"),
    "line_without_metadata": (
        lambda p: (p / RESULTS / "result_4.txt").write_text(
            (p / RESULTS / "result_4.txt").read_text() + ':::MLLOG {"time_ms": 1, "key": "x", "value": 1}\n'
        ),
        "crash",
    ),
    "power_folder_incomplete": (lambda p: (p / RESULTS / "power" / "result_0").mkdir(parents=True), "fail"),
}


@pytest.mark.parametrize("kind", sorted(MUTATIONS))
def test_package_mutations(pkg: Path, kind: str) -> None:
    mutate, expected = MUTATIONS[kind]
    mutate(pkg)
    _, official = both(pkg)
    assert official.verdict == expected


def test_power_results(pkg: Path) -> None:
    for i in range(10):
        run = pkg / RESULTS / "power" / f"result_{i}"
        run.mkdir(parents=True)
        for n in range(2):
            (run / f"node_{n}.txt").write_text(mllog("power_reading", 1.0) + "\n")
    _, official = both(pkg)
    assert official.verdict == "pass"
    (pkg / RESULTS / "power" / "result_3" / "node_1.txt").unlink()  # one run: a node missing
    _, official = both(pkg)
    assert official.verdict == "pass"  # one bad run is accepted
    (pkg / RESULTS / "power" / "result_4" / "node_7.txt").write_text("")  # misnumbered
    _, official = both(pkg)
    assert official.verdict == "fail"


def test_system_required_fields_match_the_official_checker(tmp_path: Path) -> None:
    from mlperf_logging.system_desc_checker.system_desc_checker import check_system_desc

    path = tmp_path / "s.json"
    path.write_text(json.dumps(SYSTEM_DESC))
    assert check_system_desc(str(path), "training", "5.1.0")[0]
    for name in SYSTEM_REQUIRED_FIELDS:
        desc = {k: v for k, v in SYSTEM_DESC.items() if k != name}
        path.write_text(json.dumps(desc))
        assert not check_system_desc(str(path), "training", "5.1.0")[0], name
    extra = {**SYSTEM_DESC, "anything_else": "x"}
    path.write_text(json.dumps(extra))
    assert check_system_desc(str(path), "training", "5.1.0")[0]


def test_status_values_are_checked_from_ruleset_4(tmp_path: Path) -> None:
    pkg = write_package(tmp_path / "Acme", ruleset="4.0.0")
    _system(pkg, status="onprem")
    report, _ = both(pkg, ruleset="4.0.0")
    assert Check.SYSTEM_STATUS in checks(report)
    report, _ = both(pkg, ruleset="3.1.0")
    assert Check.SYSTEM_STATUS not in checks(report)


@pytest.mark.parametrize("scaling", ["strong", "weak"])
def test_hpc_package(tmp_path: Path, scaling: str) -> None:
    pkg = write_package(
        tmp_path / "Acme", usage="hpc", ruleset="3.0.0", benchmark="cosmoflow", scaling=scaling, epochs=(17, 18)
    )
    report, official = both(pkg, "hpc", "3.0.0")
    assert official.verdict == "pass"
    if scaling == "strong":
        assert report.scores[0].minutes == pytest.approx(official.scores[("acme8", "cosmoflow")], rel=1e-12)
    else:  # the weak-scaling metrics: tests/compliance/test_weak_scaling_scores.py
        [score] = report.scores
        assert score.scaling == "weak"
        assert score.number_of_models == official.weak_scores[("acme8", "cosmoflow")].number_of_models == 10
        shutil.copy(
            pkg / "results/acme8/weak/cosmoflow/result_0.txt", pkg / "results/acme8/weak/cosmoflow/result_10.txt"
        )
        both(pkg, "hpc", "3.0.0")  # weak scaling: at least the count


def test_hpc_results_outside_strong_or_weak(tmp_path: Path) -> None:
    pkg = write_package(tmp_path / "Acme", usage="hpc", ruleset="3.0.0", benchmark="cosmoflow", epochs=(17, 18))
    os.rename(pkg / "results/acme8/strong", pkg / "results/acme8/medium")
    _, official = both(pkg, "hpc", "3.0.0")
    assert official.verdict == "crash"


def test_progress_is_reported_per_file(pkg: Path) -> None:
    seen: list[tuple[int, int]] = []
    check_package(pkg, "training", "5.1.0", progress=lambda done, total: seen.append((done, total)))
    assert seen == [(i, 10) for i in range(1, 11)]


def test_parallel_jobs_give_the_same_report(pkg: Path) -> None:
    assert (
        check_package(pkg, "training", "5.1.0", jobs=2).to_dict() == check_package(pkg, "training", "5.1.0").to_dict()
    )


def test_advisories_do_not_change_verdicts(tmp_path: Path) -> None:
    pkg = write_package(tmp_path / "Beta")  # its logs name the folder, Beta, as submission_org
    _rewrite(pkg / RESULTS / "result_0.txt", '"submission_org", "value": "Beta"', '"submission_org", "value": "Gamma"')
    (pkg / RESULTS / "result_9.txt").rename(pkg / RESULTS / "result_x9.txt")
    report, official = both(pkg)
    assert official.verdict == "pass"
    advisories = {f.check for f in report.findings if f.severity == "advisory"}
    assert Check.ADVISORY_RESULT_NAME in advisories
    org = [f for r in report.files for f in r.findings if f.check == Check.ADVISORY_SUBMISSION_ORG]
    assert len(org) == 1 and org[0].line is not None


def test_system_descriptions_alone(pkg: Path) -> None:
    from submissions.compliance import check_systems

    assert check_systems(pkg, "training", "5.1.0") == []
    _system(pkg, status="onprem", cooling=None)
    found = check_systems(pkg, "training", "5.1.0")
    assert {f.check for f in found} == {Check.SYSTEM_STATUS, Check.SYSTEM_MISSING_FIELD}
    assert {f.check for f in found} <= checks(check_package(pkg, "training", "5.1.0"))


def test_jobs_in_a_daemonic_process_check_in_process(pkg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing

    monkeypatch.setattr(multiprocessing.current_process(), "_config", {"daemon": True})
    report = check_package(pkg, "training", "5.1.0", jobs=2)  # would raise in a Celery worker
    assert report.verdict == "pass"
