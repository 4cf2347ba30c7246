"""Advisories: what the official tools let through, collected while a file is read."""

from __future__ import annotations

from typing import Any

from .configrun import _short
from .findings import ADVISORY, Check, Finding
from .logparse import LogLine


class _Advisories:
    """What the official tools let through: collected while reading, never a verdict."""

    __slots__ = ("back_count", "back_first", "org", "start", "stop", "stop_meta")

    def __init__(self) -> None:
        self.back_count = 0
        self.back_first: tuple[int, float, float] | None = None
        self.start: tuple[float, int] | None = None
        self.stop: tuple[float, int] | None = None
        self.stop_meta: Any = None
        self.org: tuple[Any, int] | None = None

    def backwards(self, line: int, before: float, after: float) -> None:
        self.back_count += 1
        if self.back_first is None:
            self.back_first = (line, before, after)

    def record(self, rec: LogLine) -> None:
        key = rec.key
        if key == "run_start":
            if self.start is None:
                self.start = (rec.timestamp, rec.line)
        elif key == "run_stop":
            if self.stop is None:
                self.stop = (rec.timestamp, rec.line)
                self.stop_meta = rec.value["metadata"] if type(rec.value) is dict else None
        elif key == "submission_org" and self.org is None and type(rec.value) is dict:
            self.org = (rec.value["value"], rec.line)

    def findings(self, expected_org: str | None) -> list[Finding]:
        out: list[Finding] = []
        if self.back_first is not None:  # set with the first backwards step, as back_count
            line, before, after = self.back_first
            out.append(
                Finding(
                    ADVISORY,
                    Check.ADVISORY_TIME_BACKWARDS,
                    f"time_ms goes backwards {self.back_count} time(s); first here, from {before:.0f} to {after:.0f}",
                    key="time_ms",
                    line=line,
                )
            )
        if self.start and self.stop and self.stop[0] < self.start[0]:
            out.append(
                Finding(
                    ADVISORY,
                    Check.ADVISORY_RUN_STOP_BEFORE_START,
                    f"run_stop (time_ms {self.stop[0]:.0f}) is earlier than run_start (line {self.start[1]}, "
                    f"time_ms {self.start[0]:.0f})",
                    key="run_stop",
                    line=self.stop[1],
                )
            )
        if self.stop is not None:
            meta = self.stop_meta
            status = meta.get("status") if type(meta) is dict else None
            if status != "success":
                out.append(
                    Finding(
                        ADVISORY,
                        Check.ADVISORY_RUN_STOP_STATUS,
                        f'run_stop status is {_short(status)}, not "success": the run did not converge',
                        key="run_stop",
                        line=self.stop[1],
                    )
                )
        if expected_org is not None and self.org is not None and self.org[0] != expected_org:
            out.append(
                Finding(
                    ADVISORY,
                    Check.ADVISORY_SUBMISSION_ORG,
                    f"submission_org is {_short(self.org[0])} but the package folder is {expected_org!r}",
                    key="submission_org",
                    line=self.org[1],
                )
            )
        return out
