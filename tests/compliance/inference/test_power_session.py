"""The Power WG's checks of a power session, on small synthetic ``performance`` folders: one that
passes, and one per rule that fails it, plus bad input that must give findings, never a crash."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from submissions.compliance.inference.power_session import PowerFinding, check_power_session
from submissions.compliance.inference.ruleset import load_ruleset
from tests.compliance.inference.builder import power_session, write_power_session

RANGING = ("07-31-2025 09:10:00.000", "07-31-2025 09:20:00.000")
TESTING = ("07-31-2025 09:26:00.000", "07-31-2025 09:56:00.000")


def _mllog(key: str, value: str) -> str:
    return (
        f':::MLLOG {{"key": "{key}", "value": "{value}", "time_ms": 0, "namespace": "mlperf::logging", '
        f'"event_type": "POINT_IN_TIME", "metadata": {{"is_error": false, "is_warning": false}}}}'
    )


def _runs(perf: Path, ranging_watts: float = 1000.0, testing_watts: float = 1000.0) -> None:
    for run, (begin, end), watts in (("ranging", RANGING, ranging_watts), ("run_1", TESTING, testing_watts)):
        folder = perf / run
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "mlperf_log_detail.txt").write_text(
            _mllog("power_begin", begin) + "\n" + _mllog("power_end", end) + "\n"
        )
        (folder / "mlperf_log_summary.txt").write_text("Result is : VALID\n")
        minute = begin[:14]
        (folder / "spl.txt").write_text(
            "".join(
                f"Time,{minute}{m:02d}:30.000,Watts,{watts},Volts,230.0,Amps,4.3,PF,0.99,Mark,x\n"
                for m in range(int(begin[14:16]), int(end[14:16]))
            )
        )


def _check(perf: Path) -> list[PowerFinding]:
    return check_power_session(load_ruleset("5.1")["power_session"], str(perf))


def _build(tmp_path: Path, change: Callable[[dict[str, Any]], None] | None = None, **watts: float) -> Path:
    perf = tmp_path / "performance"
    _runs(perf, **watts)
    session = power_session(RANGING, TESTING)
    if change:
        change(session)
    write_power_session(perf, session)
    return perf


def _errors(findings: list[PowerFinding]) -> list[PowerFinding]:
    return [f for f in findings if f.severity == "error"]


def test_a_clean_session_passes_every_check(tmp_path: Path) -> None:
    assert _check(_build(tmp_path)) == []


def _ptd(session: dict[str, Any], which: str, **change: str) -> None:
    msg = next(m for m in session["server"]["ptd_messages"] if m["cmd"] == which)
    msg.update(change)


def _set_messages(session: dict[str, Any], i: int, **change: str) -> None:
    session["server"]["messages"][i].update(change)


FAILING: dict[str, tuple[Callable[[dict[str, Any]], None], str, str]] = {
    "unreleased sources": (
        lambda s: s["client"]["sources"].update({"client.py": "0" * 40}),
        "client sources",
        "power/client.json",
    ),
    "old PTD": (
        lambda s: _ptd(s, "Identify", reply="YokogawaWT310,version=1.9.2-abc,Yokogawa"),
        "PTD version '1.9.2'",
        "power/server.json",
    ),
    "unknown meter": (
        lambda s: _ptd(s, "Identify", reply="FlukeX,version=1.10.0-abc,Fluke"),
        "power meter 'FlukeX'",
        "power/server.json",
    ),
    "range refused": (lambda s: _ptd(s, "SR,A,5", reply="Error: bad range"), "'SR,A,5'", "power/server.json"),
    "range not reset": (lambda s: _ptd(s, "SR,A,20", cmd="SR,A,Auto"), "initial value", "power/server.json"),
    "uuid": (
        lambda s: s["server"].update(uuid={**s["server"]["uuid"], "client": "11111111-1111-1111-1111-111111111111"}),
        "client uuid",
        "power/server.json",
    ),
    "session name": (lambda s: s["client"].update(session_name="other"), "session name", "power/server.json"),
    "clock skew": (
        lambda s: s["server"]["phases"]["testing"][2].__setitem__(0, s["client"]["phases"]["testing"][2][0] + 1.5),
        "clocks differ by 1500 ms",
        "power/client.json",
    ),
    "loadgen outside the phase": (
        lambda s: (
            s["client"]["phases"]["testing"][2].__setitem__(0, s["client"]["phases"]["testing"][1][0] + 1)
            or s["server"]["phases"]["testing"][2].__setitem__(0, s["client"]["phases"]["testing"][1][0] + 1)
        ),
        "lies outside the testing phase",
        "run_1/mlperf_log_detail.txt",
    ),
    "message count": (lambda s: s["server"]["messages"].pop(), "has 8 messages, server.json 7", "power/server.json"),
    "client version": (
        lambda s: [
            _set_messages(s, 0, reply="mlcommons/power server v3"),
            s["client"]["messages"][0].update(reply="mlcommons/power server v3"),
        ],
        "client v4 ran against server v3",
        "power/server.json",
    ),
    "uncertainty not activated": (
        lambda s: s["ptd_log"].pop(0),
        "never says uncertainty checking",
        "power/ptd_logs.txt",
    ),
    "uncertainty too late": (
        lambda s: s["ptd_log"].insert(2, s["ptd_log"].pop(0).replace("09:05", "09:11")),
        "activated after the ranging run started",
        "power/ptd_logs.txt",
    ),
    "no ranging in the ptd log": (
        lambda s: s["ptd_log"].__setitem__(1, s["ptd_log"][1].replace("sess_ranging", "x_ranging")),
        "no ranging run",
        "power/ptd_logs.txt",
    ),
    "ptd error in testing": (
        lambda s: s["ptd_log"].insert(4, "07-31-2025 09:30:00.000: ERROR: Bad watts reading nan from meter"),
        "outside the ranging run",
        "power/ptd_logs.txt",
    ),
    "uncertainty above 1% in testing": (
        lambda s: s["ptd_log"].insert(
            4, "07-31-2025 09:40:00.000: WARNING: Uncertainty 1.50%, which is above 1.00% limit for the last sample!"
        ),
        "during the testing run",
        "power/ptd_logs.txt",
    ),
    "unsupported device number": (
        lambda s: s["server"]["ptd_config"].update(device_type=12),
        "device number 12",
        "power/server.json",
    ),
    "two-channel meter on one channel": (
        lambda s: s["server"]["ptd_config"].update(device_type=77),
        "two-channel meter",
        "power/server.json",
    ),
    "debug server": (lambda s: s["server"].update(debug=True), "debug mode", "power/server.json"),
    "checksums disagree": (
        lambda s: s["client"].update(results={"power/client.log": "0" * 40}),
        "different checksums for power/client.log",
        "power/server.json",
    ),
}


@pytest.mark.parametrize("case", sorted(FAILING))
def test_each_rule_fails_the_session(tmp_path: Path, case: str) -> None:
    change, message, file = FAILING[case]
    errors = _errors(_check(_build(tmp_path, change)))
    assert len(errors) == 1, errors
    assert message in errors[0].message and errors[0].path.endswith(file)


def test_a_ptd_log_line_is_named_by_its_line(tmp_path: Path) -> None:
    change, _, _ = FAILING["ptd error in testing"]
    (error,) = _errors(_check(_build(tmp_path, change)))
    assert error.line == 5


def test_testing_power_far_below_ranging_fails(tmp_path: Path) -> None:
    (error,) = _errors(_check(_build(tmp_path, ranging_watts=1000.0, testing_watts=940.0)))
    assert "-6.0%" in error.message and error.path.endswith("run_1/spl.txt")
    assert _check(_build(tmp_path / "b", ranging_watts=1000.0, testing_watts=960.0)) == []


def test_a_file_changed_after_the_session_fails(tmp_path: Path) -> None:
    perf = _build(tmp_path)
    with (perf / "run_1" / "mlperf_log_summary.txt").open("a") as f:
        f.write("edited\n")
    (error,) = _errors(_check(perf))
    assert "run_1/mlperf_log_summary.txt changed" in error.message


def test_accepted_ptd_errors_and_warnings_only_warn(tmp_path: Path) -> None:
    usb = _build(tmp_path, lambda s: s["ptd_log"].insert(4, "07-31-2025 09:30:00.000: ERROR: USB."))
    ranging = _build(tmp_path / "b", lambda s: s["ptd_log"].insert(2, "07-31-2025 09:15:00.000: ERROR: Odd reply"))
    for perf in (usb, ranging):
        findings = _check(perf)
        assert findings and not _errors(findings) and findings[0].path.endswith("ptd_logs.txt")


# -- bad input ------------------------------------------------------------------------------------


def test_malformed_or_incomplete_session_json_is_a_finding(tmp_path: Path) -> None:
    perf = _build(tmp_path)
    (perf / "power" / "server.json").write_text("{not json")
    (error,) = _check(perf)
    assert error.severity == "error" and error.path.endswith("power/server.json")
    data = json.loads((perf / "power" / "client.json").read_text())
    del data["phases"]
    (perf / "power" / "client.json").write_text(json.dumps(data))
    (error,) = _check(perf)
    assert "phases" in error.message and error.path.endswith("power/client.json")


def test_missing_session_json_is_a_finding(tmp_path: Path) -> None:
    perf = _build(tmp_path)
    (perf / "power" / "client.json").unlink()
    (error,) = _check(perf)
    assert error.severity == "error" and error.path.endswith("power/client.json")


def test_non_utf8_ptd_log_is_a_finding(tmp_path: Path) -> None:
    perf = _build(tmp_path)
    log = perf / "power" / "ptd_logs.txt"
    log.write_bytes(log.read_bytes() + b"07-31-2025 09:30:00.000: \xff\xfe garbage\n")
    errors = _errors(_check(perf))
    assert any("PTD log" in e.message and "UnicodeDecodeError" in e.message for e in errors)


def test_wrongly_typed_session_fields_are_findings(tmp_path: Path) -> None:
    perf = _build(tmp_path, lambda s: s["server"].update(ptd_messages="none", phases={}, timezone="UTC"))
    errors = _errors(_check(perf))
    assert {e.message.split(":")[0] for e in errors} >= {"PTD commands and replies", "time sync", "PTD log"}
