"""LoadGen's logs: the detail log (``:::MLLOG {json}`` lines) and the human summary.

The detail log is read line by line, once per file, keeping the first value of every key with its
line number (the official parser also takes the first one), LoadGen's error records, and the
reason the official parser would refuse the file: no marker on the first line, a marker line
that is not JSON, bytes that are not UTF-8. Nothing here raises on bad input."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

MARKERS = (":::MLLOG", ":::ENDPTS")


@dataclass(slots=True)
class DetailLog:
    path: str
    values: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    # (line, value) of records whose metadata says is_error
    errors: list[tuple[int, Any]] = field(default_factory=list)
    # why the official parser raises on this file (it then has no values), and where
    problem: str | None = None
    problem_line: int | None = None
    missing: bool = False

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def line(self, key: str) -> int | None:
        return self.lines.get(key)

    @property
    def readable(self) -> bool:
        return not self.missing and self.problem is None

    def num_errors(self) -> Any:
        """As the official parser counts: the ``num_errors`` record when there is one, else the
        records flagged as errors."""
        if "num_errors" in self.values:
            return self.values["num_errors"]
        return len(self.errors)


def read_detail_log(path: str) -> DetailLog:
    log = DetailLog(path)
    marker = ""
    number = 0
    try:
        with open(path, encoding="utf-8") as f:
            for number, raw in enumerate(f, start=1):
                line = raw.rstrip()
                if number == 1:
                    marker = next((m for m in MARKERS if line.startswith(m)), "")
                    if not marker:
                        log.problem = "the first line has no :::MLLOG marker: this is not a LoadGen detail log"
                        log.problem_line = 1
                        break
                if not line.startswith(marker):
                    continue
                try:
                    record = json.loads(line[len(marker) :])
                    key = record["key"]
                    is_error = record["metadata"]["is_error"] if "metadata" in record else None
                except (ValueError, KeyError, TypeError):
                    log.problem = "a marker line is not a well-formed LoadGen record"
                    log.problem_line = number
                    break
                if not isinstance(key, str):
                    log.problem = "a record's key is not a string"
                    log.problem_line = number
                    break
                if key not in log.values:
                    log.values[key] = record.get("value")
                    log.lines[key] = number
                if is_error:
                    log.errors.append((number, record.get("value")))
    except FileNotFoundError:
        log.missing = True
    except UnicodeDecodeError:
        log.problem = "bytes that are not UTF-8"
        log.problem_line = number + 1
    except OSError as exc:
        log.problem = f"unreadable ({exc.strerror or exc})"
    if log.problem:
        log.values.clear()
        log.lines.clear()
        log.errors.clear()
    return log


_SUMMARY_LINE = re.compile(r"^\s*([^:]+?)\s*:\s*(.*?)\s*$")

# summary label -> detail log key
SUMMARY_KEYS = {
    "Result is": "result_validity",
    "Samples per second": "result_samples_per_second",
    "Tokens per second": "result_tokens_per_second",
    "Completed samples per second": "result_completed_samples_per_sec",
    "Completed tokens per second": "result_completed_tokens_per_second",
    "Scheduled samples per second": "result_scheduled_samples_per_sec",
    "Scenario": "effective_scenario",
}


@dataclass(slots=True)
class SummaryLog:
    path: str
    values: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    problem: str | None = None


def read_summary_log(path: str, max_lines: int = 400) -> SummaryLog:
    """The first ``max_lines`` lines of ``mlperf_log_summary.txt``: the labels LoadGen prints
    for the result, keyed by the detail log key each one repeats."""
    out = SummaryLog(path)
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, start=1):
                if number > max_lines:
                    break
                m = _SUMMARY_LINE.match(line)
                if m and m.group(1) in SUMMARY_KEYS:
                    key = SUMMARY_KEYS[m.group(1)]
                    if key not in out.values:
                        out.values[key] = m.group(2)
                        out.lines[key] = number
    except OSError as exc:
        out.problem = f"unreadable ({exc.strerror or exc})"
    return out
