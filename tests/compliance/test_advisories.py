"""Advisory findings: what the official tools let through. They never change a verdict."""

from __future__ import annotations

import json
from pathlib import Path

from submissions.compliance import ADVISORY, Check, check_file
from submissions.compliance.oracle import official_file
from tests.compliance.logs import training_log

RULES = ("training", "6.1.0")


def advisories(path: Path) -> dict[str, list[int | None]]:
    report = check_file(path, *RULES)
    assert report.verdict == official_file(path, *RULES).verdict
    out: dict[str, list[int | None]] = {}
    for f in report.findings:
        if f.severity == ADVISORY:
            out.setdefault(f.check, []).append(f.line)
    return out


def _retime(line: str, time_ms: int) -> str:
    record = json.loads(line[9:])
    record["time_ms"] = time_ms
    return ":::MLLOG " + json.dumps(record)


def test_a_clean_log_has_no_advisories(tmp_path: Path) -> None:
    assert advisories(training_log(*RULES[1:], "llama31_8b").write(tmp_path / "r.txt")) == {}


def test_run_stop_before_run_start(tmp_path: Path) -> None:
    log = training_log("6.1.0", "llama31_8b")
    start = next(i for i, ln in enumerate(log.lines) if '"run_start"' in ln)
    stop = len(log.lines) - 1
    log.lines[stop] = _retime(log.lines[stop], json.loads(log.lines[start][9:])["time_ms"] - 5)
    found = advisories(log.write(tmp_path / "r.txt"))
    assert found[Check.ADVISORY_RUN_STOP_BEFORE_START] == [stop + 1]
    assert found[Check.ADVISORY_TIME_BACKWARDS] == [stop + 1]


def test_run_stop_status_not_success(tmp_path: Path) -> None:
    log = training_log("6.1.0", "llama31_8b", status="aborted")
    found = advisories(log.write(tmp_path / "r.txt"))
    assert found[Check.ADVISORY_RUN_STOP_STATUS] == [len(log.lines)]


def test_time_going_backwards_is_reported_once_with_a_count(tmp_path: Path) -> None:
    log = training_log("6.1.0", "llama31_8b")
    for i in (10, 20):
        log.lines[i] = _retime(log.lines[i], 1)
    path = log.write(tmp_path / "r.txt")
    report = check_file(path, *RULES)
    [finding] = [f for f in report.findings if f.check == Check.ADVISORY_TIME_BACKWARDS]
    assert finding.line == 11 and "2 time(s)" in finding.message
    assert report.verdict == official_file(path, *RULES).verdict
