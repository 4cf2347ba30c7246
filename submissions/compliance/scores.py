"""Scores as the official result summarizer computes them (``result_summarizer.py``,
``_compute_strong_score_standalone``): per system and benchmark, the olympic mean of the
compliant runs' time to train (``run_stop`` minus ``run_start``, in minutes), times the RCP scaling
factor that the package checker's RCP step determines for the closed division.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .engine import FileFacts
    from .findings import FileReport


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
