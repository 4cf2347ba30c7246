"""Run-by-run times behind the olympic mean, on real MLPerf Training packages: the mean of the runs
marked counted equals the compliance engine's score (the official result summarizer's) for every
benchmark folder of the chosen submitters. Pure (no database)."""

import pytest

from submissions.compliance.package import check_package
from submissions.results.runs import benchmark_runs, olympic_mean
from tests.conftest import MLPERF_DIR

pytestmark = pytest.mark.realdata

CASES = [("training_results_v5.1", "5.1.0", "Krai"), ("training_results_v5.1", "5.1.0", "Cisco"),
         ("training_results_v5.0", "5.0.0", None)]  # fmt: skip


def _submitter(folder: str, name: str | None):
    base = MLPERF_DIR / folder
    if not base.is_dir():
        pytest.skip(f"{base} is absent")
    if name is None:  # the smallest of the round
        return min((p for p in base.iterdir() if p.is_dir()), key=lambda p: sum(1 for _ in p.rglob("result_*.txt")))
    return base / name


@pytest.mark.parametrize(("folder", "ruleset", "name"), CASES)
def test_counted_runs_give_the_engines_score(folder, ruleset, name):
    root = _submitter(folder, name)
    report = check_package(root, "training", ruleset)
    strong = [s for s in report.scores if s.scaling == "strong"]
    assert strong, "the package has scores"
    for score in strong:
        runs = benchmark_runs(root / "results" / score.system / score.benchmark, score.benchmark, "training", ruleset)
        assert olympic_mean([r.to_dict() for r in runs]) == pytest.approx(score.minutes, rel=1e-9), score
        assert sum(r.counted for r in runs) == len(runs) - 2  # the best and the worst (or a non-compliant) dropped
        assert all(r.compliant for r in runs if r.counted)


def test_a_non_compliant_run_counts_as_one_of_the_dropped():
    """Cisco's hpf_n8 dlrm_dcnv2 has one failing file (the official checker says so): it is dropped,
    and only the best of the others with it."""
    root = _submitter("training_results_v5.1", "Cisco")
    runs = benchmark_runs(root / "results" / "hpf_n8" / "dlrm_dcnv2", "dlrm_dcnv2", "training", "5.1.0")
    bad = [r for r in runs if not r.compliant]
    assert [r.file for r in bad] == ["result_1.txt"]
    assert not bad[0].counted
    good = sorted((r for r in runs if r.compliant), key=lambda r: r.minutes)
    assert not good[0].counted and all(r.counted for r in good[1:])
