"""The official checker's verdicts and scores on the real v5.1 subset, result folder by result
folder: exactly equal, no exceptions (../shared/mlperf/inference_results_v5.1.official.tsv)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from submissions.compliance.inference import check_inference_paths
from tests.conftest import MLPERF_DIR

ROUND = MLPERF_DIR / "inference_results_v5.1"
ORACLE = MLPERF_DIR / "inference_results_v5.1.official.tsv"

pytestmark = pytest.mark.skipif(not ORACLE.is_file(), reason=f"the real MLPerf data is not at {MLPERF_DIR}")


def official() -> dict[str, tuple[str, float | None, str | None]]:
    out = {}
    for line in ORACLE.read_text().splitlines():
        path, verdict, score, units = [*line.split("\t"), "", ""][:4]
        out[path] = (verdict, float(score) if score else None, units or None)
    return out


@pytest.fixture(scope="module")
def report():  # type: ignore[no-untyped-def]
    return check_inference_paths([ROUND / "closed", ROUND / "open"], "5.1")


def test_every_result_folder_has_the_official_verdict_score_and_units(report) -> None:  # type: ignore[no-untyped-def]
    expected = official()
    got = {r.path: (r.verdict, r.score if r.passed else None, r.units if r.passed else None) for r in report.results}
    assert set(got) == set(expected)
    wrong = {p: (got[p], expected[p]) for p in expected if got[p] != expected[p]}
    assert wrong == {}
    verdicts = [v for v, _, _ in got.values()]
    assert (verdicts.count("pass"), verdicts.count("fail")) == (69, 15)


def test_failing_results_say_why_with_the_file(report) -> None:  # type: ignore[no-untyped-def]
    for r in report.results:
        if r.verdict == "fail":
            errors = [f for f in r.findings if f.severity == "error"]
            assert errors and all(f.file for f in errors), r.path
    sdxl = next(
        r for r in report.results if r.path.endswith("Lambda/results/B200-SXM-180GBx8_TRT/stable-diffusion-xl/Offline")
    )
    assert any(f.file and f.file.endswith("accuracy/images") for f in sdxl.findings)
    rgat = next(r for r in report.results if "Oracle/results/B200-SXM-180GBx8_TRT/rgat" in r.path)
    assert any("mlperf_log_detail.txt" in f.message for f in rgat.findings)


def test_packages_pass_when_every_result_and_rule_of_the_package_passes(report) -> None:  # type: ignore[no-untyped-def]
    verdicts = {p.path: p.verdict for p in report.packages}
    assert verdicts["closed/MangoBoost"] == "pass"
    assert verdicts["open/Lenovo"] == "pass"
    assert verdicts["closed/Lambda"] == "fail"  # its stable-diffusion-xl results fail
    oracle = next(p for p in report.packages if p.path == "closed/Oracle")
    assert any(f.check == "inference.scenarios_missing" for f in oracle.findings)  # rgat Offline


def test_a_submitter_folder_alone_gets_the_same_verdicts(report) -> None:  # type: ignore[no-untyped-def]
    alone = check_inference_paths([ROUND / "closed" / "Oracle"], "5.1")
    whole = {r.path: (r.verdict, r.score) for r in report.results if r.submitter == "Oracle"}
    assert {r.path: (r.verdict, r.score) for r in alone.results} == whole


def test_checking_the_round_writes_nothing_into_it(no_writes) -> None:  # type: ignore[no-untyped-def]
    no_writes(ROUND)
    check_inference_paths([ROUND / "closed", ROUND / "open"], "5.1")


def test_the_shared_copy_is_complete_enough_to_mean_something() -> None:
    assert sum(1 for _ in Path(ROUND).rglob("mlperf_log_detail.txt")) > 100
    assert os.path.isdir(ROUND / "open" / "Lenovo")
