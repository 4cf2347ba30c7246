"""The reference convergence points (RCPs) and their statistics, as the official ``RCP_Checker``
computes them (``mlperf_logging/rcp_checker/rcp_checker.py``), without importing it: that module
imports scipy and numpy at its top, which costs a whole command more time than checking a round.

The data are the pinned package's own (``rcp_checker/<usage>_<ruleset>/rcps_<benchmark>.json``;
``submission_runs`` read from the module's source with ``ast``, not imported). The arithmetic is
the official one, step by step, so that every value is bit for bit the same:

* ``np.mean`` / ``np.std``: numpy's pairwise summation (:func:`np_sum`), then one division;
* ``np.interp`` between two points: ``slope * (x - x0) + y0``;
* ``scipy.stats.ttest_ind_from_stats(..., equal_var=True)`` and its one-sided p-value: the pooled
  variance formula, and the Student t distribution through the regularised incomplete beta
  function (:func:`student_t_cdf`);
* the binary search for the minimum acceptable mean, the pruning and the interpolation.

``tests/compliance/test_rcp_stats.py`` compares every RCP record of every shipped ruleset (and
interpolated records) with the official class, exactly.
"""

from __future__ import annotations

import ast
import functools
import json
import math
from typing import Any, cast

from .rules import package_root

Record = dict[str, Any]


class RcpDataError(Exception):
    """The official constructor would raise (no data for the benchmark, an unreadable file)."""


def np_sum(values: list[float]) -> float:
    """``np.sum`` of a float64 array: pairwise summation, unrolled by eight, blocks of 128."""
    n = len(values)
    if n < 8:
        res = 0.0
        for v in values:
            res += v
        return res
    if n <= 128:
        r = values[:8]
        i = 8
        last = n - (n % 8)
        while i < last:
            for j in range(8):
                r[j] += values[i + j]
            i += 8
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        while i < n:
            res += values[i]
            i += 1
        return res
    half = n // 2
    half -= half % 8
    return np_sum(values[:half]) + np_sum(values[half:])


def np_mean(values: list[Any]) -> float:
    """``np.mean`` (nan for an empty list, as numpy gives with a warning)."""
    floats = [float(v) for v in values]
    if not floats:
        return math.nan
    return np_sum(floats) / len(floats)


def np_std(values: list[Any]) -> float:
    floats = [float(v) for v in values]
    if not floats:
        return math.nan
    mean = np_sum(floats) / len(floats)
    squares = [(v - mean) * (v - mean) for v in floats]
    return math.sqrt(np_sum(squares) / len(floats))


def np_interp(x: float, xp: tuple[float, float], fp: tuple[float, float]) -> float:
    """``np.interp`` with two points."""
    x0, x1 = float(xp[0]), float(xp[1])
    y0, y1 = float(fp[0]), float(fp[1])
    if math.isnan(x):
        return x
    if x < x0:
        return y0
    if x >= x1:
        return y1
    if x == x0:
        return y0
    slope = (y1 - y0) / (x1 - x0)
    result = slope * (x - x0) + y0
    if math.isnan(result):
        result = slope * (x - x1) + y1
        if math.isnan(result) and y0 == y1:
            result = y0
    return result


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = tiny if abs(d) < tiny else d
    d = 1.0 / d
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = tiny if abs(d) < tiny else d
        c = 1.0 + aa / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = tiny if abs(d) < tiny else d
        c = 1.0 + aa / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def student_t_cdf(df: float, t: float) -> float:
    """``scipy.special.stdtr(df, t)``."""
    if math.isnan(t) or math.isnan(df):
        return math.nan
    if math.isinf(t):
        return 0.0 if t < 0 else 1.0
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return tail if t < 0 else 1.0 - tail


def divide(a: float, b: float) -> float:
    """Division as numpy's float64 does it (inf or nan instead of ZeroDivisionError)."""
    if b == 0.0:
        if a == 0.0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def one_sided_p_value(
    subm_mean: float, subm_stdev: float, subm_n: int, ref_mean: float, ref_stdev: float, ref_n: int
) -> float:
    """``RCP_Checker._find_p_value``: ``ttest_ind_from_stats(..., equal_var=True)``, made one-sided."""
    v1 = 0.0 if subm_n == 1 else subm_stdev * subm_stdev  # numpy squares by multiplying
    v2 = 0.0 if ref_n == 1 else ref_stdev * ref_stdev
    df = subm_n + ref_n - 2.0
    svar = ((subm_n - 1) * v1 + (ref_n - 1) * v2) / df
    product = svar * (1.0 / subm_n + 1.0 / ref_n)
    denom = math.sqrt(product) if product >= 0 else math.nan
    t = divide(subm_mean - ref_mean, denom)
    p = 2 * student_t_cdf(df, -abs(t))  # 2 * sf(|t|)
    return p / 2 if t < 0 else 1 - (p / 2)


class RcpData:
    """``RCP_Checker(usage, ruleset, benchmark, verbose=False)``: the records with their
    statistics (``rcp_data``), the pruned ones (``pruned_rcp_data``), and the lookups."""

    alpha = 0.05
    tolerance = 0.0001

    def __init__(self, usage: str, ruleset: str, benchmark: str) -> None:
        runs = submission_runs().get(usage, {})
        if benchmark not in runs:
            raise RcpDataError(f"no RCP data for benchmark {benchmark!r}")
        self.benchmark = benchmark
        self.submission_runs: int = runs[benchmark]
        path = package_root() / "rcp_checker" / f"{usage}_{ruleset}" / f"rcps_{benchmark}.json"
        try:
            with open(path) as f:
                raw = json.load(f)
            processed = {}
            for name, record in raw.items():
                unit = (
                    "samples to converge"
                    if record["Benchmark"] in ["llama2_70b_lora", "flux1"]
                    else "Epochs to converge"
                )
                processed[name] = {
                    "Benchmark": record["Benchmark"],
                    "BS": record["BS"],
                    "Hyperparams": record["Hyperparams"],
                    "Epochs to converge": record[unit],
                    "RCP Mean": 0.0,
                    "RCP Stdev": 0.0,
                    "Max Speedup": 0.0,
                }
            self.rcp_data: dict[str, Record] = dict(sorted(processed.items(), key=lambda item: item[1]["BS"]))
            self._compute_rcp_stats()
        except Exception as exc:
            raise RcpDataError(f"the official RCP checker cannot load {benchmark!r}: {exc!r}") from None

    def _compute_rcp_stats(self) -> None:
        for record in self.rcp_data.values():
            epochs = record["Epochs to converge"]
            epochs.sort()
            rejected = 4 if record["Benchmark"] == "unet3d" else 1
            record["RCP Mean"] = np_mean(epochs[rejected : len(epochs) - rejected])
            record["RCP Stdev"] = np_std(epochs)
            min_epochs = self.find_min_acceptable_mean(
                record["RCP Mean"], record["RCP Stdev"], len(epochs) - rejected * 2
            )
            record["Max Speedup"] = divide(record["RCP Mean"], min_epochs)
            record["Min Epochs"] = min_epochs
        self._prune_rcps()

    def _prune_rcps(self) -> None:
        self.pruned_rcp_data: dict[str, Record] = {}
        min_epochs = list(self.rcp_data.values())
        fastest = min(min_epochs, key=lambda rc: rc["RCP Mean"])
        min_epochs = [rc for rc in min_epochs if rc["BS"] >= fastest["BS"]]
        length = len(min_epochs)
        i = 1
        while i < length - 1:
            interp = self.create_interp_rcp(min_epochs[i]["BS"], min_epochs[i - 1], min_epochs[i + 1])
            if min_epochs[i]["RCP Mean"] > interp["RCP Mean"]:
                del min_epochs[i]
                i -= 1
                length -= 1
            i += 1
        for kept in min_epochs:
            for name, record in self.rcp_data.items():
                if record["Benchmark"] == kept["Benchmark"] and record["BS"] == kept["BS"]:
                    self.pruned_rcp_data[name] = record

    def find_min_acceptable_mean(self, mean: float, stdev: float, num_samples_ref: int) -> float:
        if stdev == 0:
            return mean
        num_samples_subm = self.submission_runs - 2
        mean_max, mean_min = mean, 0.0
        mean_mid = (mean_min + mean_max) / 2
        while mean_max - mean_min > self.tolerance:
            p_value = one_sided_p_value(mean_mid, stdev, num_samples_ref, mean, stdev, num_samples_subm)
            if p_value > self.alpha:
                mean_max = mean_mid
            else:
                mean_min = mean_mid
            mean_mid = (mean_min + mean_max) / 2
        return mean_mid

    def create_interp_rcp(self, target_bs: Any, low: Record, high: Record) -> Record:
        mean = np_interp(target_bs, (low["BS"], high["BS"]), (low["RCP Mean"], high["RCP Mean"]))
        stdev = np_interp(target_bs, (low["BS"], high["BS"]), (low["RCP Stdev"], high["RCP Stdev"]))
        min_epochs = self.find_min_acceptable_mean(mean, stdev, self.submission_runs * 2)
        return {
            "Benchmark": self.benchmark,
            "BS": target_bs,
            "Hyperparams": {},
            "Epochs to converge": [],
            "RCP Mean": mean,
            "RCP Stdev": stdev,
            "Max Speedup": divide(mean, min_epochs),
            "Min Epochs": min_epochs,
        }

    def find_rcp(self, bs: Any) -> Record | None:
        for record in self.pruned_rcp_data.values():
            if record["BS"] == bs:
                return record
        return None

    def find_min_rcp(self) -> Record | None:
        min_bs: Any = 1e9
        found = None
        for record in self.pruned_rcp_data.values():
            if record["BS"] < min_bs:
                found, min_bs = record, record["BS"]
        return found

    def find_top_min_rcp(self, bs: Any) -> Record | None:
        min_bs: Any = 0
        found = None
        for record in self.pruned_rcp_data.values():
            if record["BS"] < bs and record["BS"] > min_bs:
                found, min_bs = record, record["BS"]
        return found

    def find_bottom_max_rcp(self, bs: Any) -> Record | None:
        max_bs: Any = 1e9
        found = None
        for record in self.pruned_rcp_data.values():
            if record["BS"] > bs and record["BS"] < max_bs:
                found, max_bs = record, record["BS"]
        return found


@functools.cache
def submission_runs() -> dict[str, dict[str, int]]:
    """``rcp_checker.submission_runs``, read from the pinned module's source (not imported)."""
    source = (package_root() / "rcp_checker" / "rcp_checker.py").read_text()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "submission_runs" for t in node.targets
        ):
            return cast("dict[str, dict[str, int]]", ast.literal_eval(node.value))
    raise RcpDataError("rcp_checker.submission_runs not found in the official package")


@functools.cache
def rcp_data(usage: str, ruleset: str, benchmark: str) -> RcpData:
    return RcpData(usage, ruleset, benchmark)


def is_version_at_least(version: str, min_version: str) -> bool:
    """``rcp_checker.is_version_at_least``."""
    parts = tuple(int(x) for x in version.split("."))
    mins = tuple(int(x) for x in min_version.split("."))
    width = max(len(parts), len(mins))
    return parts + (0,) * (width - len(parts)) >= mins + (0,) * (width - len(mins))
