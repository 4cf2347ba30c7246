"""LoadGen's logs: the detail log (``:::MLLOG {json}`` lines) and the human summary.

The detail log is read line by line, once per file, keeping the first value of every key with its
line number (the official parser also takes the first one), LoadGen's error records, and the
reason the official parser would refuse the file: no marker on the first line, a marker line
that is not JSON, bytes that are not UTF-8. Nothing here raises on bad input."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

MARKERS = (":::MLLOG", ":::ENDPTS")

# LoadGen logs the performance sample set as one record whose value is a list of integers
# (loaded_qsl_set: up to hundreds of thousands of them). Decoding it is most of the cost of reading
# a log, and no rule reads it: such a list is validated byte-wise (digits and commas, no empty
# element) and the rest of the record decoded with null in its place, which is valid JSON exactly
# when the whole record is.
_BIG_LINE = 4096
_VALUE_LIST = '"value": ['
_LIST_BYTES = b"0123456789, "
# a detail log up to this size is read whole and decoded in one call; larger ones line by line
_WHOLE_FILE_BYTES = 64 * 1024 * 1024


def _int_list_ok(chunk: str) -> bool:
    if not chunk.isascii():
        return False
    compact = chunk.replace(" ", "").encode("ascii")
    if not compact:
        return True
    return (
        not compact.translate(None, _LIST_BYTES)
        and b",," not in compact
        and not compact.startswith(b",")
        and not compact.endswith(b",")
    )


def _slim(body: str) -> str:
    """The record text with a long integer-list value replaced by null (when it is one)."""
    if len(body) > _BIG_LINE:
        i = body.find(_VALUE_LIST)
        if i != -1:
            start = i + len(_VALUE_LIST)
            end = body.find("]", start)
            if end != -1 and _int_list_ok(body[start:end]):
                return body[: start - 1] + "null" + body[end + 1 :]
    return body


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

    def _add(self, number: int, record: Any) -> bool:
        if not isinstance(record, dict) or not isinstance(record.get("key"), str):
            self.problem = "a marker line is not a well-formed LoadGen record"
            self.problem_line = number
            return False
        key = record["key"]
        if key not in self.values:
            self.values[key] = record.get("value")
            self.lines[key] = number
        meta = record.get("metadata")
        if isinstance(meta, dict) and meta.get("is_error"):
            self.errors.append((number, record.get("value")))
        return True

    def _fail(self, problem: str, line: int | None) -> DetailLog:
        self.problem, self.problem_line = problem, line
        self.values.clear()
        self.lines.clear()
        self.errors.clear()
        return self


_NO_MARKER = "the first line has no :::MLLOG marker: this is not a LoadGen detail log"
_BAD_RECORD = "a marker line is not a well-formed LoadGen record"


def _marker(first_line: str) -> str:
    return next((m for m in MARKERS if first_line.startswith(m)), "")


# Records whose value a rule reads (by key prefix) are decoded in full; the others (LoadGen's
# build information, requested settings, logger counters, the sample set) are checked for the
# shape of a record (an object opening with its key and closing on the same line) and skipped,
# unless they are flagged as errors. This is what makes reading a round's logs fast.
_DECODED_PREFIXES = (
    "result_",
    "effective_",
    "early_stopping",
    "num_errors",
    "sut_name",
    "qsl_reported",
    "power_",
    "requested_use_token_latencies",
)
_KEY_OPEN = ' {"key": "'
_ERROR_FLAG = '"is_error": true'


def read_detail_log(path: str) -> DetailLog:
    """Never raises: a missing, unreadable or malformed log comes back with ``missing`` or
    ``problem`` set."""
    log = DetailLog(path)
    try:
        size = os.path.getsize(path)
        if size > _WHOLE_FILE_BYTES:
            return _read_streaming(log)
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        log.missing = True
        return log
    except OSError as exc:
        return log._fail(f"unreadable ({exc.strerror or exc})", None)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return log._fail("bytes that are not UTF-8", data.count(b"\n", 0, exc.start) + 1)
    if not text:
        return log
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    marker = _marker(lines[0])
    if not marker:
        return log._fail(_NO_MARKER, 1)
    cut = len(marker)
    key_at = cut + len(_KEY_OPEN)
    numbers: list[int] = []
    bodies: list[str] = []
    seen: set[str] = set()
    for n, line in enumerate(lines, start=1):
        if not line.startswith(marker):
            continue
        if line.startswith(_KEY_OPEN, cut):
            end = line.find('"', key_at)
            key = line[key_at:end] if end != -1 else ""
            if (
                key
                and (key in seen or not key.startswith(_DECODED_PREFIXES))
                and line.rstrip().endswith("}")
                and _ERROR_FLAG not in line
            ):
                continue
            seen.add(key)
        numbers.append(n)
        bodies.append(_slim(line[cut:]))
    try:
        records = json.loads("[" + ",".join(bodies) + "]")
        if len(records) != len(bodies):
            raise ValueError("records run into each other")
    except ValueError:
        records = []
        for n, body in zip(numbers, bodies, strict=True):
            try:
                records.append(json.loads(body))
            except ValueError:
                return log._fail(_BAD_RECORD, n)
    values, lines_of, errors = log.values, log.lines, log.errors
    for n, record in zip(numbers, records, strict=True):
        if type(record) is not dict or type(record.get("key")) is not str:
            return log._fail(_BAD_RECORD, n)
        key = record["key"]
        if key not in values:
            values[key] = record.get("value")
            lines_of[key] = n
        meta = record.get("metadata")
        if type(meta) is dict and meta.get("is_error"):
            errors.append((n, record.get("value")))
    return log


def _read_streaming(log: DetailLog) -> DetailLog:
    marker, number = "", 0
    try:
        with open(log.path, encoding="utf-8") as f:
            for number, raw in enumerate(f, start=1):
                line = raw.rstrip()
                if number == 1:
                    marker = _marker(line)
                    if not marker:
                        return log._fail(_NO_MARKER, 1)
                if not line.startswith(marker):
                    continue
                try:
                    record = json.loads(_slim(line[len(marker) :]))
                except UnicodeDecodeError:
                    raise
                except ValueError:
                    return log._fail(_BAD_RECORD, number)
                if not log._add(number, record):
                    return log._fail(_BAD_RECORD, number)
    except UnicodeDecodeError:
        return log._fail("bytes that are not UTF-8", number + 1)
    except OSError as exc:
        return log._fail(f"unreadable ({exc.strerror or exc})", None)
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
