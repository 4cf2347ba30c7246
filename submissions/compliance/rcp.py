"""The reference-convergence-point (RCP) check, closed division, as the official package checker
runs it (``mlperf_logging/rcp_checker/rcp_checker.py``).

The RCP data are the official package's own; the statistics on them (olympic means, the t-test
based minimum acceptable mean, pruning, interpolation) are computed as ``RCP_Checker`` computes
them, bit for bit, by :mod:`.rcp_stats` (importing the official module would import scipy and
numpy, most of a command's time). The reading of the logs is done in the engine's single pass
(:class:`RcpReader`); the final comparison is reimplemented because the official method also
writes ``scaling.json`` into the checked folder.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from . import rcp_stats

RCP_RULESETS = frozenset(
    {
        "1.0.0",
        "1.1.0",
        "2.0.0",
        "2.1.0",
        "3.0.0",
        "3.1.0",
        "4.0.0",
        "4.1.0",
        "5.0.0",
        "5.1.0",
        "6.0.0",
        "6.1.0",
    }
)
_SAMPLES_BENCHMARKS = frozenset(
    {
        "llama2_70b_lora",
        "flux1",
        "llama31_405b",
        "llama31_8b",
        "gpt_oss_20b",
        "deepseekv3_671b",
        "qwen35_397b_grpo",
        "dlrmv4",
    }
)


def rcp_reads(s: str) -> bool:
    """Whether :class:`RcpReader` looks at a line with this raw text (it tests for these words,
    ``eval_`` standing for ``eval_error`` and ``eval_accuracy``): the engine feeds it no other."""
    return "run_stop" in s or "eval_" in s or "global_batch_size" in s or "submission_benchmark" in s


class RcpCrash(Exception):
    """Where the official RCP code would raise."""


class RcpReader:
    """``read_submission_file`` fed line by line (``use_train_samples`` False, as the package
    checker calls it). It looks at the raw JSON text with substring tests, like the original."""

    __slots__ = (
        "benchmark",
        "bs",
        "conv_epoch",
        "crash",
        "not_converged",
        "ruleset",
        "sd_results",
        "subm_epochs",
    )

    def __init__(self, ruleset: str) -> None:
        self.ruleset = ruleset
        self.not_converged = 1
        self.subm_epochs: Any = 1e9
        self.bs: Any = -1
        self.benchmark: Any = None
        self.conv_epoch: Any = _UNSET
        self.sd_results: dict[Any, dict[Any, Any]] = defaultdict(dict)
        self.crash: str | None = None

    def feed_unreadable(self, line: int) -> None:
        if self.crash is None:
            self.crash = f"line {line} is too long to read"

    def feed(self, s: str, obj: Any, ok: bool, line: int) -> None:
        if self.crash is not None:
            return
        try:
            self._feed(s, obj, ok)
        except Exception as exc:
            self.crash = f"line {line}: {type(exc).__name__}: {exc}"

    def _feed(self, s: str, obj: Any, ok: bool) -> None:
        def loads() -> Any:  # json.loads(str) in the original
            if not ok:
                raise obj
            return obj

        if "global_batch_size" in s:
            self.bs = loads()["value"]
        if "submission_benchmark" in s:
            self.benchmark = loads()["value"]
        benchmark = self.benchmark
        is_eval = "eval_error" in s or "eval_accuracy" in s
        if benchmark == "stable_diffusion" and is_eval:
            step_unit = "step_num" if self.ruleset in ["3.1.0"] else "samples_count"
            eval_step = loads()["metadata"][step_unit]
            eval_metric = loads()["metadata"]["metric"]
            self.sd_results[eval_step][eval_metric] = loads()["value"]
        elif benchmark in _SAMPLES_BENCHMARKS and is_eval:
            self.conv_epoch = loads()["metadata"]["samples_count"]
            _ = loads()["value"]  # read (and able to raise) in the original
        elif is_eval:
            self.conv_epoch = round(loads()["metadata"]["epoch_num"], 3)
        if "run_stop" in s and loads()["key"] == "run_stop":
            if loads()["metadata"]["status"] == "success":
                self.not_converged = 0
                if benchmark == "stable_diffusion":
                    passing = [step for step, r in self.sd_results.items() if r["FID"] <= 90.0 and r["CLIP"] >= 0.15]
                    self.conv_epoch = min(passing)
                if self.conv_epoch is _UNSET:
                    raise UnboundLocalError("local variable 'conv_epoch' referenced before assignment")
                self.subm_epochs = self.conv_epoch
            else:
                self.not_converged = 1
                self.subm_epochs = 1e9

    def result(self) -> tuple[int, Any, Any, Any]:
        if self.crash is not None:
            raise RcpCrash(self.crash)
        return self.not_converged, self.subm_epochs, self.bs, self.benchmark


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


_UNSET = _Unset()


@dataclass(frozen=True, slots=True)
class RcpResult:
    passed: bool
    message: str
    # the factor the official checker writes to scaling.json (None: it removes scaling.json)
    scaling: float | None
    evaluated: bool  # whether the comparison ran (and so scaling.json was reset)


def _checker(usage: str, ruleset: str, benchmark: Any) -> rcp_stats.RcpData:
    # the official constructor indexes submission_runs[usage][benchmark] and opens rcps_<benchmark>.json
    if not isinstance(benchmark, str):
        raise RcpCrash(f"no RCP data for benchmark {benchmark!r}")
    try:
        return rcp_stats.rcp_data(usage, ruleset, benchmark)
    except rcp_stats.RcpDataError as exc:
        raise RcpCrash(str(exc)) from None


def submission_epochs(readers: list[RcpReader]) -> tuple[Any, Any, Any]:
    """``get_submission_epochs``: files in the order the official glob lists them."""
    not_converged = 0
    subm_epochs: list[Any] = []
    bs: Any = -1
    benchmark: Any = None
    for reader in readers:
        cur_nc, cur_epochs, cur_bs, cur_benchmark = reader.result()
        subm_epochs.append(cur_epochs)
        not_converged += cur_nc
        if bs == -1:
            bs = cur_bs
        elif cur_bs != bs:
            return -1, None, None
        if benchmark is None:
            benchmark = cur_benchmark
        elif cur_benchmark != benchmark:
            return -1, None, None
    if (not_converged > 1 and benchmark != "unet3d") or (not_converged > 4 and benchmark == "unet3d"):
        return bs, None, benchmark
    return bs, subm_epochs, benchmark


def check_directory(readers: list[RcpReader], usage: str, ruleset: str, rcp_bypass: bool) -> RcpResult:
    """``rcp_checker.check_directory(..., rcp_pass='pruned_rcps', set_scaling=True)``.
    Raises RcpCrash where the official function raises."""
    try:
        bs, subm_epochs, benchmark = submission_epochs(readers)
    except RcpCrash:
        raise
    except Exception as exc:
        raise RcpCrash(f"{type(exc).__name__}: {exc}") from None
    checker = _checker(usage, ruleset, benchmark)
    if bs == -1:
        return RcpResult(False, "Could not detect global_batch_size", None, False)
    if subm_epochs is None:
        return RcpResult(False, "Insufficient convergence", None, False)

    divide = rcp_stats.divide

    def evaluate(record: dict[str, Any]) -> tuple[bool, float | None]:
        max_speedup = record["Max Speedup"]
        if rcp_stats.is_version_at_least(ruleset, "5.0.0") and benchmark == "llama31_405b":
            max_speedup = divide(record["RCP Mean"], record["Min Epochs"] - 46080)
        subm_epochs.sort()
        rejected = 4 if record["Benchmark"] == "unet3d" else 1
        mean = rcp_stats.np_mean(subm_epochs[rejected : len(subm_epochs) - rejected])
        norm = divide(record["RCP Mean"], mean)
        norm = 1.0 if norm < 1 else norm
        if mean >= divide(record["RCP Mean"], max_speedup):
            return True, (float(norm) if mean < record["RCP Mean"] else None)
        return False, None

    try:
        record = checker.find_rcp(bs)
        evaluated = True
        scaling: float | None = None
        if record is not None:
            msg = "RCP found"
            passed, scaling = evaluate(record)
        else:
            rcp_min = checker.find_top_min_rcp(bs)
            rcp_max = checker.find_bottom_max_rcp(bs)
            if rcp_min is not None and rcp_max is not None:
                msg = "RCP Interpolation"
                interp = checker.create_interp_rcp(bs, rcp_min, rcp_max)
                passed, scaling = evaluate(interp)
            elif rcp_min is not None:
                msg = f"Missing RCP, please submit RCP with BS = {bs}"
                passed, evaluated = False, False
            elif rcp_max is not None:
                min_rcp = checker.find_min_rcp()
                assert min_rcp is not None  # rcp_max is one of the records, so there is a smallest
                passed, scaling = evaluate(min_rcp)
                msg = (
                    f"Missing RCP, please submit RCP with BS = {bs}"
                    if not passed
                    else "RCP not found but slower convergence on smaller batch size"
                )
            else:
                msg = "Cannot find any RCPs"
                passed, evaluated = False, False
    except RcpCrash:
        raise
    except Exception as exc:
        raise RcpCrash(f"{type(exc).__name__}: {exc}") from None
    if (
        rcp_bypass
        and not passed
        and msg in ("RCP found", "RCP Interpolation", f"Missing RCP, please submit RCP with BS = {bs}")
    ):
        return RcpResult(True, msg + " passed using rcp_bypass", scaling, evaluated)
    return RcpResult(passed, msg, scaling, evaluated)
