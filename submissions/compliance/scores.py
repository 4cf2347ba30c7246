"""Scores as the official result summarizer computes them (``result_summarizer.py``).

* Strong scaling (training, hpc ``strong/``; ``_compute_strong_score_standalone``): per system and
  benchmark, the olympic mean of the compliant runs' time to train (``run_stop`` minus
  ``run_start``, in minutes), times the factor of a ``scaling.json`` that the package itself ships
  in the benchmark folder (1.0 without one). The summarizer reads that file *before* its own RCP
  step writes one, so on a package as submitted the RCP factor the package checker would write is
  not applied (it only shows on a second run over the same folder, which the engine never makes:
  it writes nothing).
* The system columns (``summarize_results``): the system's pretty name, accelerator and
  accelerator count from ``systems/<system>.json``; a system whose description lacks one of the
  summarizer's fields gets no row, so no score.
* HPC weak scaling (``weak/``; ``_compute_weak_score_standalone``): the number of converging
  runs (models), their instance scale, and the time to train them all (earliest ``run_start`` to
  latest ``run_stop``, in minutes, no scaling factor); no score with fewer converging runs than
  the benchmark's result file count.

Power (energy) scores are not computed.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine import FileFacts
    from .findings import FileReport


# summarize_results: the fields a system description needs (without one it raises a FieldError,
# and then a NameError in its handler, which prints an undefined ``system_file``: it crashes)
SUMMARY_FIELDS = (
    "division",
    "status",
    "submitter",
    "system_name",
    "host_processor_model_name",
    "number_of_nodes",
    "host_processor_core_count",
    "host_processors_per_node",
    "accelerator_model_name",
    "accelerators_per_node",
    "framework",
    "hw_notes",
    "sw_notes",
)


class SummarizerCrash(Exception):
    """Where the official result summarizer raises (and so prints no table at all)."""


@dataclass(frozen=True, slots=True)
class SystemColumns:
    """The summarizer's columns for a system: ``system``, ``accelerator_model_name``,
    ``accelerators_count``."""

    system_name: str
    accelerator: str
    accelerator_count: int


def system_columns(desc: Any) -> SystemColumns:
    """The row prefix ``summarize_results`` builds from a system description. Raises
    SummarizerCrash where the summarizer raises (a missing field, a count that ``int()``
    rejects, a description that is not an object)."""
    if not isinstance(desc, dict):
        raise SummarizerCrash("the system description is not a JSON object")
    missing = [f for f in SUMMARY_FIELDS if f not in desc]
    if missing:
        raise SummarizerCrash(f"the field {missing[0]!r} is missing")
    try:
        name = desc["system_name"]
        if name == "tpu-v3":  # _pretty_system_name
            name = f"TPUv3.{int(desc['accelerators_per_node']) * 2}"
        accelerator = desc["accelerator_model_name"]
        if accelerator == "tpu-v3":  # _pretty_accelerator_model_name
            accelerator = "TPUv3"
        int(desc["host_processors_per_node"]) * int(desc["number_of_nodes"])  # host_processors_count
        count = int(desc["accelerators_per_node"]) * int(desc["number_of_nodes"])
        framework = desc["framework"]
        if "TensorFlow" in framework:  # _pretty_framework
            re.search(r" commit hash = .*", framework)
        ";".join(s for s in (desc["hw_notes"], desc["sw_notes"]) if s)  # notes
    except Exception as exc:
        raise SummarizerCrash(f"{type(exc).__name__}: {exc}") from None
    return SystemColumns(str(name), str(accelerator), count)


def shipped_scaling_factor(path: str) -> float:
    """``_get_scaling_factor``: the ``scaling_factor`` of a ``scaling.json`` in the benchmark
    folder, 1.0 without one. Raises SummarizerCrash where the summarizer raises (not JSON, no
    ``scaling_factor``, a factor that is not a number)."""
    if not os.path.isfile(path):
        return 1.0
    try:
        with open(path) as f:  # the locale's encoding, as there
            factor = json.load(f)["scaling_factor"]
        if not isinstance(factor, int | float):  # score *= factor raises on anything else
            raise TypeError(f"scaling_factor {_short(factor)} is not a number")
        return float(factor)
    except Exception as exc:
        raise SummarizerCrash(f"{type(exc).__name__}: {exc}") from None


def olympic_average(scores: list[float], dropped_scores: int, max_dropped_scores: int) -> float | None:
    """``_compute_olympic_average``: drop the best and the worst ``max_dropped_scores`` runs,
    counting runs already dropped (non-compliant ones) as the worst."""
    scores.sort()
    countable = scores[max_dropped_scores : len(scores) - (max_dropped_scores - dropped_scores)]
    if not countable:
        return None
    return sum(countable) * 1.0 / len(countable)


def benchmark_score(
    benchmark: str, runs: list[tuple[FileReport, FileFacts]], scaling_factor: float = 1.0
) -> float | None:
    """Minutes, or None when the summarizer gives no score (too many non-compliant runs)."""
    scores: list[float] = []
    dropped = 0
    for report, facts in runs:
        # the summarizer drops a run whose compliance check fails (a ValueError there); a run
        # the official checker crashes on makes the summarizer crash: no score at all
        if report.official_crash:
            return None
        if not report.passed or facts.run_start is None or facts.run_stop is None:
            dropped += 1
            continue
        scores.append((facts.run_stop - facts.run_start) / 60 / 1000)
    max_dropped = 4 if benchmark == "unet3d" else 1
    if dropped > max_dropped:
        return None
    average = olympic_average(scores, dropped, max_dropped)
    if average is None:
        return None
    return average * scaling_factor


@dataclass(frozen=True, slots=True)
class WeakScalingScore:
    """The result summarizer's weak-scaling metrics for one benchmark folder."""

    time_to_train_all: float  # minutes from the earliest run_start to the latest run_stop
    number_of_models: int  # converging (compliant) runs
    instance_scale: int | None  # number_of_nodes * max(accelerators_per_node, 1) of a run


def _instance_scale(facts: FileFacts) -> int:
    """``_query_instance_scale``: ValueError when not recorded or not a number (the summarizer
    then counts the run without a scale); other exceptions make the summarizer crash."""
    if facts.number_of_nodes is None:
        raise ValueError("number_of_nodes not recorded")
    if facts.accelerators_per_node is None:
        raise ValueError("accelerators_per_node not recorded")
    return int(facts.number_of_nodes) * max(int(facts.accelerators_per_node), 1)


def weak_scaling_score(
    runs: list[tuple[FileReport, FileFacts]], required_runs: int
) -> tuple[WeakScalingScore | None, str]:
    """``_compute_weak_score_standalone``, runs in glob order: every compliant run with
    ``run_start`` and ``run_stop`` counts as a model; the time to train all spans the counted runs.

    Returns the score, or None and why the summarizer gives none: fewer than ``required_runs``
    (the benchmark's result file count) converging runs, or a case where it crashes (a run the
    official checker crashes on, runs with different instance scales, an instance scale that
    ``int()`` rejects with something other than a ValueError)."""
    global_start, global_stop = float("inf"), float("-inf")
    number_of_models = 0
    instance_scale: int | None = None
    scale_path = ""
    for report, facts in runs:
        if report.official_crash:
            return None, f"the official result summarizer crashes on {report.path}"
        if not report.passed or facts.run_start is None or facts.run_stop is None:
            continue
        start, stop = facts.run_start, facts.run_stop
        global_start = min(global_start, start)
        global_stop = max(global_stop, stop)
        number_of_models += 1  # counted before the instance scale is asked for, as there
        try:
            scale = _instance_scale(facts)
        except ValueError:
            continue
        except Exception as exc:  # TypeError, OverflowError, ...: the summarizer crashes
            return None, (
                f"{report.path}: the instance scale (number_of_nodes {_short(facts.number_of_nodes)}, "
                f"accelerators_per_node {_short(facts.accelerators_per_node)}) is not a number "
                f"({type(exc).__name__}); the official result summarizer crashes here"
            )
        if instance_scale is None:
            instance_scale, scale_path = scale, report.path
        elif instance_scale != scale:  # the summarizer's assert fails
            return None, (
                f"runs of different instance scales ({instance_scale} in {scale_path}, {scale} in "
                f"{report.path}); the official result summarizer crashes here"
            )
    if number_of_models < required_runs:
        return None, (
            f"{number_of_models} converging run(s); the official result summarizer needs at least "
            f"{required_runs} for a weak-scaling score"
        )
    return WeakScalingScore((global_stop - global_start) / 60 / 1000, number_of_models, instance_scale), ""


def _short(value: object, limit: int = 40) -> str:
    if isinstance(value, list | dict):  # never repr a big JSON value
        return "a JSON array" if isinstance(value, list) else "a JSON object"
    text = repr(value[: limit + 1] if isinstance(value, str) else value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
