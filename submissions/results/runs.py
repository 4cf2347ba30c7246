"""The run-by-run times behind a published olympic mean, as the official result summarizer takes
them: each result file's time to train (run_stop - run_start), whether it counts as compliant (the
compliance engine's verdict, the summarizer's), and which runs the olympic mean kept. Pure: no Django."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from submissions.compliance.engine import FileFacts, check_file_facts


@dataclass(frozen=True, slots=True)
class Run:
    file: str
    minutes: float | None
    compliant: bool
    counted: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _result_files(folder: Path) -> list[Path]:
    return sorted(
        (p for p in folder.glob("result_*.txt") if p.is_file()),
        key=lambda p: (int(p.stem[7:]) if p.stem[7:].isdigit() else 1 << 30, p.name),
    )


def benchmark_runs(folder: Path, benchmark: str, usage: str, ruleset: str) -> list[Run]:
    """The runs of one benchmark folder (results/<system>/<benchmark>), in file order."""
    measured: list[tuple[str, float | None, bool]] = []
    for path in _result_files(folder):
        report, facts = check_file_facts(path, usage, ruleset, display_path=path.name, facts=FileFacts())
        minutes = None
        if facts is not None and facts.run_start is not None and facts.run_stop is not None:
            minutes = (facts.run_stop - facts.run_start) / 60 / 1000
        compliant = report.passed and not report.official_crash and minutes is not None
        measured.append((path.name, minutes, compliant))
    # the summarizer's olympic mean: drop the best and the worst `max_dropped` runs, counting the
    # runs that are not compliant as the worst already dropped
    max_dropped = 4 if benchmark == "unet3d" else 1  # as in submissions.compliance.scores.benchmark_score
    dropped = sum(1 for _, _, ok in measured if not ok)
    ranked = sorted((m, name) for name, m, ok in measured if ok and m is not None)
    kept = {name for _, name in ranked[max_dropped : len(ranked) - max(max_dropped - dropped, 0)]}
    return [Run(file=name, minutes=m, compliant=ok, counted=name in kept) for name, m, ok in measured]


def olympic_mean(runs: list[dict[str, Any]]) -> float | None:
    counted = [r["minutes"] for r in runs if r.get("counted") and r.get("minutes") is not None]
    return sum(counted) / len(counted) if counted else None
