"""The engine's RCP statistics (``rcp_stats``, no scipy or numpy) against the official
``RCP_Checker`` (which imports both): every record of every shipped ruleset and benchmark, and
interpolated records, bit for bit."""

from __future__ import annotations

import itertools
import random
import warnings

import numpy as np
import pytest
from mlperf_logging.rcp_checker import rcp_checker

from submissions.compliance import rcp_stats
from submissions.compliance.rules import package_root

CASES = sorted(
    (folder.name.split("_", 1)[0], folder.name.split("_", 1)[1], path.stem.removeprefix("rcps_"))
    for folder in (package_root() / "rcp_checker").iterdir()
    if folder.is_dir() and "_" in folder.name
    for path in folder.glob("rcps_*.json")
)
FIELDS = ("Benchmark", "BS", "RCP Mean", "RCP Stdev", "Max Speedup", "Min Epochs", "Epochs to converge")


def official(usage: str, ruleset: str, benchmark: str) -> rcp_checker.RCP_Checker:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rcp_checker.RCP_Checker(usage, ruleset, benchmark, False)


def same(mine: dict, theirs: dict) -> None:
    for name in FIELDS:
        assert mine[name] == theirs[name], name  # exactly, not approximately


def test_every_shipped_rcp_file_is_covered() -> None:
    assert len(CASES) > 50 and ("training", "5.1.0", "llama2_70b_lora") in CASES


def test_submission_runs_are_the_official_ones() -> None:
    assert rcp_stats.submission_runs() == rcp_checker.submission_runs


@pytest.mark.parametrize(("usage", "ruleset", "benchmark"), CASES)
def test_records_pruning_and_interpolation_equal_the_official_checker(usage: str, ruleset: str, benchmark: str) -> None:
    if benchmark not in rcp_checker.submission_runs[usage]:
        with pytest.raises(rcp_stats.RcpDataError):
            rcp_stats.RcpData(usage, ruleset, benchmark)
        return
    theirs = official(usage, ruleset, benchmark)
    mine = rcp_stats.RcpData(usage, ruleset, benchmark)
    assert list(mine.rcp_data) == list(theirs.rcp_data)
    for name, record in theirs.rcp_data.items():
        same(mine.rcp_data[name], record)
    assert list(mine.pruned_rcp_data) == list(theirs.pruned_rcp_data)
    sizes = sorted({r["BS"] for r in theirs.pruned_rcp_data.values()})
    probes = {sizes[0] - 1, sizes[-1] + 1, *sizes}
    probes |= {(a + b) / 2 for a, b in itertools.pairwise(sizes)}
    probes |= {a + 1 for a in sizes}
    for bs in sorted(probes):
        for lookup in ("find_top_min_rcp", "find_bottom_max_rcp"):
            mine_r = getattr(mine, lookup)(bs)
            their_r = getattr(theirs, f"_{lookup}")(bs, "pruned_rcps")
            assert (mine_r and mine_r["BS"]) == (their_r and their_r["BS"])
        assert (mine.find_rcp(bs) or {}).get("BS") == (theirs._find_rcp(bs, "pruned_rcps") or {}).get("BS")
        low, high = theirs._find_top_min_rcp(bs, "pruned_rcps"), theirs._find_bottom_max_rcp(bs, "pruned_rcps")
        if low is not None and high is not None:
            same(mine.create_interp_rcp(bs, low, high), theirs._create_interp_rcp(bs, low, high)[1])
    assert mine.find_min_rcp()["BS"] == theirs._find_min_rcp("pruned_rcps")["BS"]


def test_numpy_arithmetic_is_reproduced_exactly() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        n = rng.randint(1, 300)
        values = [rng.random() * 10 ** rng.randint(-3, 9) for _ in range(n)]
        if rng.random() < 0.3:
            values = [rng.randint(1, 10**7) for _ in range(n)]
        assert rcp_stats.np_mean(values) == np.mean(values)
        assert rcp_stats.np_std(values) == np.std(values)
        x0, x1 = sorted(rng.sample(range(1, 10**5), 2))
        y0, y1 = rng.random() * 1e6, rng.random() * 1e6
        for x in (x0 - 1, x0, (x0 + x1) / 2, rng.uniform(x0, x1), x1, x1 + 1):
            assert rcp_stats.np_interp(x, (x0, x1), (y0, y1)) == np.interp(x, [x0, x1], [y0, y1])


def test_student_t_p_values_match_scipy_closely() -> None:
    from scipy import stats

    rng = random.Random(11)
    for _ in range(2000):
        n1, n2 = rng.randint(2, 100), rng.randint(2, 100)
        mean, stdev = rng.random() * 1e5, rng.random() * 1e4 + 1e-3
        mid = mean * rng.random()
        t, p = stats.ttest_ind_from_stats(mid, stdev, n1, mean, stdev, n2, equal_var=True)
        expected = p / 2 if t < 0 else 1 - p / 2
        assert rcp_stats.one_sided_p_value(mid, stdev, n1, mean, stdev, n2) == pytest.approx(
            expected, rel=1e-11, abs=1e-300
        )
