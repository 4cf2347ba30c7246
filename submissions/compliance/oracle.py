"""The official checker, run in process: the reference the engine is compared with in tests and
in the benchmark. Not used by the engine itself.

The official package checker writes ``scaling.json`` into the folders it checks, so packages are
checked in a temporary copy. Its verdict is not returned (it only logs), so the two steps of
``check_training_package`` are called directly. Where the official code raises, the verdict is
``crash``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from .rcp import RCP_RULESETS

OfficialVerdict = Literal["pass", "fail", "crash"]


@dataclass(slots=True)
class OfficialResult:
    verdict: OfficialVerdict
    error: str | None = None
    # package checks only: {(system, benchmark): minutes} from the official result summarizer
    scores: dict[tuple[str, str], float] = field(default_factory=dict)
    # hpc packages only: the summarizer's weak-scaling metrics per (system, benchmark), and the
    # weak-scaling folders it crashes on, with the exception
    weak_scores: dict[tuple[str, str], WeakScores] = field(default_factory=dict)
    weak_crashes: dict[tuple[str, str], str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WeakScores:
    """``_compute_weak_score_standalone``'s ``<benchmark>:<metric>`` values."""

    time_to_train_all: float
    number_of_models: int
    instance_scale: int | None


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous)


def official_file(path: str | os.PathLike[str], usage: str = "training", ruleset: str = "5.1.0") -> OfficialResult:
    """``python -m mlperf_logging.compliance_checker --usage U --ruleset R PATH``, in process."""
    from mlperf_logging.compliance_checker import mlp_compliance

    # the official queue of configs is a module global: a previous crash may have left entries
    mlp_compliance.enqueued_configs.clear()
    try:
        with _quiet():
            checker = mlp_compliance.make_checker(usage, ruleset, False, False)
            valid, _, _, _ = mlp_compliance.main(os.fspath(path), f"{usage}_{ruleset}/common.yaml", checker)
        return OfficialResult("pass" if valid else "fail")
    except Exception as exc:
        return OfficialResult("crash", f"{type(exc).__name__}: {exc}")
    finally:
        mlp_compliance.enqueued_configs.clear()


def official_package(
    path: str | os.PathLike[str],
    usage: str = "training",
    ruleset: str = "5.1.0",
    *,
    in_place: bool = False,
    scores: bool = False,
) -> OfficialResult:
    """``python -m mlperf_logging.package_checker PATH U R`` on a copy (or in place, for a folder
    that is already a scratch copy), with the result summarizer's scores when asked."""
    if in_place:
        return _official_package(os.fspath(path), usage, ruleset, scores)
    with tempfile.TemporaryDirectory(prefix="official-") as tmp:
        copy = os.path.join(tmp, os.path.basename(os.path.normpath(os.fspath(path))))
        shutil.copytree(path, copy, symlinks=True)
        return _official_package(copy, usage, ruleset, scores)


def _official_package(folder: str, usage: str, ruleset: str, want_scores: bool) -> OfficialResult:
    from mlperf_logging.compliance_checker import mlp_compliance
    from mlperf_logging.package_checker import package_checker as pc

    # the summarizer first, on the package as submitted: the package checker's RCP step writes
    # scaling.json, which a summarizer run after it would apply
    scores = official_scores(folder, usage, ruleset) if want_scores else {}
    weak: tuple[dict[tuple[str, str], WeakScores], dict[tuple[str, str], str]] = ({}, {})
    if want_scores and usage == "hpc":
        weak = official_weak_scores(folder, usage, ruleset)
    mlp_compliance.enqueued_configs.clear()
    try:
        with _quiet():
            ok = True
            if ruleset in RCP_RULESETS:  # the official checker checks systems for these only
                ok = pc.check_systems(folder, usage, ruleset)
            ok = pc.check_training_result_files(folder, usage, ruleset, False, False, False, False, False) and ok
        result = OfficialResult("pass" if ok else "fail")
    except Exception as exc:
        return OfficialResult("crash", f"{type(exc).__name__}: {exc}")
    finally:
        mlp_compliance.enqueued_configs.clear()
    result.scores = scores
    result.weak_scores, result.weak_crashes = weak
    return result


def official_scores(folder: str, usage: str, ruleset: str) -> dict[tuple[str, str], float]:
    """The result summarizer's strong-scaling scores (``_compute_strong_score_standalone`` on each
    allowed benchmark folder) of a package as submitted: call it before anything writes a
    ``scaling.json`` into the folder (the package checker does)."""
    from mlperf_logging.benchmark_meta import get_allowed_benchmarks
    from mlperf_logging.compliance_checker import mlp_compliance
    from mlperf_logging.result_summarizer import result_summarizer as rs

    out: dict[tuple[str, str], float] = {}
    allowed = set(get_allowed_benchmarks(usage, ruleset))
    results = os.path.join(folder, "results")
    for system in sorted(os.listdir(results)):
        parent = os.path.join(results, system, "strong") if usage == "hpc" else os.path.join(results, system)
        if not os.path.isdir(parent):
            continue
        for benchmark in sorted(os.listdir(parent)):
            bfolder = os.path.join(parent, benchmark)
            if benchmark not in allowed or not os.path.isdir(bfolder):
                continue
            mlp_compliance.enqueued_configs.clear()
            try:
                with _quiet():
                    score, _, _ = rs._compute_strong_score_standalone(benchmark, system, False, bfolder, usage, ruleset)
            except Exception:  # noqa: S112 - the summarizer crashes on this folder: no score
                continue
            if score is not None:
                out[(system, benchmark)] = float(score)
    return out


def official_weak_scores(
    folder: str, usage: str = "hpc", ruleset: str = "3.0.0"
) -> tuple[dict[tuple[str, str], WeakScores], dict[tuple[str, str], str]]:
    """The result summarizer's hpc weak-scaling metrics (``_compute_weak_score_standalone`` on
    each allowed ``results/<system>/weak/<benchmark>`` folder), and the folders it crashes on.
    Call it on a scratch copy."""
    from mlperf_logging.benchmark_meta import get_allowed_benchmarks
    from mlperf_logging.compliance_checker import mlp_compliance
    from mlperf_logging.result_summarizer import result_summarizer as rs

    scores: dict[tuple[str, str], WeakScores] = {}
    crashes: dict[tuple[str, str], str] = {}
    allowed = set(get_allowed_benchmarks(usage, ruleset))
    results = os.path.join(folder, "results")
    for system in sorted(os.listdir(results)):
        parent = os.path.join(results, system, "weak")
        if not os.path.isdir(parent):
            continue
        for benchmark in sorted(os.listdir(parent)):
            bfolder = os.path.join(parent, benchmark)
            if benchmark not in allowed or not os.path.isdir(bfolder):
                continue
            mlp_compliance.enqueued_configs.clear()
            try:
                with _quiet():
                    metrics, _ = rs._compute_weak_score_standalone(benchmark, system, False, bfolder, usage, ruleset)
            except Exception as exc:  # the summarizer crashes on this folder: no score
                crashes[(system, benchmark)] = f"{type(exc).__name__}: {exc}"
                continue
            finally:
                mlp_compliance.enqueued_configs.clear()
            if metrics:
                scores[(system, benchmark)] = WeakScores(
                    time_to_train_all=metrics[f"{benchmark}:time_to_train_all"],
                    number_of_models=metrics[f"{benchmark}:number_of_models"],
                    instance_scale=metrics[f"{benchmark}:instance_scale"],
                )
    return scores, crashes


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """One row of the result summarizer's table: a system's columns and its scores."""

    submitter: str  # the system description's
    system: str  # the system description's file name without .json
    system_name: str  # the summarizer's "system" column
    accelerator: str
    accelerator_count: int
    scores: dict[str, float]  # benchmark -> minutes (strong scaling)


def official_summary(
    folder: str | os.PathLike[str], usage: str = "training", ruleset: str = "5.1.0"
) -> list[SummaryRow]:
    """``result_summarizer.summarize_results`` (what ``python -m mlperf_logging.result_summarizer
    FOLDER USAGE RULESET`` tabulates) on a scratch copy of one package: its strong-scaling rows.
    Raises what the summarizer raises."""
    from mlperf_logging.compliance_checker import mlp_compliance
    from mlperf_logging.result_summarizer import result_summarizer as rs

    with tempfile.TemporaryDirectory(prefix="summarizer-") as tmp:
        copy = os.path.join(tmp, os.path.basename(os.path.normpath(os.fspath(folder))))
        shutil.copytree(folder, copy, symlinks=True)
        mlp_compliance.enqueued_configs.clear()
        try:
            with _quiet():
                strong = rs.summarize_results(copy, usage, ruleset)[0]
        finally:
            mlp_compliance.enqueued_configs.clear()
    return summary_rows(strong.to_dict("records"), usage, ruleset)


def summary_rows(records: list[dict[str, Any]], usage: str, ruleset: str) -> list[SummaryRow]:
    """Rows of the summarizer's strong-scaling table (a DataFrame's or its CSV's records)."""
    import math

    from mlperf_logging.benchmark_meta import get_allowed_benchmarks

    benchmarks = get_allowed_benchmarks(usage, ruleset)
    rows = []
    for r in records:
        scores = {}
        for b in benchmarks:
            value = r.get(b)
            if value is not None and value != "" and not (isinstance(value, float) and math.isnan(value)):
                scores[b] = float(value)
        rows.append(
            SummaryRow(
                submitter=str(r["submitter"]),
                system=str(r["details_url"]).rsplit("/", 1)[1].removesuffix(".json"),
                system_name=str(r["system"]),
                accelerator=str(r["accelerator_model_name"]),
                accelerator_count=int(r["accelerators_count"]),
                scores=scores,
            )
        )
    return rows
