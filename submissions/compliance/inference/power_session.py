"""The Power WG's checks of a power session (``performance/{power,ranging,run_1}``).

The official submission checker runs the Power WG's ``power_checker.py`` on every power result and
fails the result when any of its checks fails. This module applies the same checks, with their
values from the ruleset's ``power_session`` data. Each check runs on its own, as there: a check that
cannot run (a missing key, a malformed value) fails, and a check that warns stops at its first
warning. Pure: reads files, returns findings.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DATE_IN_LINE = re.compile(r"(\d*-\d*-\d* \d*:\d*:\d*\.\d*)")
PTD_DATE = r"(^\d\d-\d\d-\d\d\d\d \d\d:\d\d:\d\d.\d\d\d)"
TIME_FORMAT = "%m-%d-%Y %H:%M:%S.%f"


@dataclass(frozen=True)
class PowerFinding:
    severity: str  # "error" or "warning"
    message: str
    path: str
    line: int | None = None


class _Fail(Exception):
    def __init__(self, message: str, path: str, line: int | None = None) -> None:
        super().__init__(message)
        self.path, self.line = path, line


class _Warn(_Fail):
    pass


def _utc(text: str) -> float:
    return datetime.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=datetime.UTC).timestamp()


def _json_line(path: str, key: str) -> int | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                if f'"{key}"' in line:
                    return n
    except OSError:
        pass
    return None


class _Session:
    def __init__(self, rules: dict[str, Any], perf: str) -> None:
        self.rules, self.perf = rules, perf
        self.power = os.path.join(perf, "power")

    def load(self, name: str) -> tuple[str, dict[str, Any]]:
        path = os.path.join(self.power, name)
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise _Fail(f"{name} cannot be read as JSON ({exc})", path) from None
        if not isinstance(data, dict):
            raise _Fail(f"{name} is not a JSON object", path)
        absent = sorted(set(self.rules["required_fields"]) - data.keys())
        if absent:
            raise _Fail(f"{name} lacks the required fields {', '.join(absent)}", path)
        return path, data

    def loadgen_window(self, run: str) -> tuple[float, float]:
        """power_begin and power_end of a run's detail log, as UTC epoch seconds."""
        path = os.path.join(self.perf, run, "mlperf_log_detail.txt")
        begin = end = None
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                low = line.lower()
                key = "power_begin" if "power_begin" in low else "power_end" if "power_end" in low else None
                if key is None:
                    continue
                m = DATE_IN_LINE.search(line)
                if not m or not m.group(0):
                    raise _Fail(f"no timestamp on the {key} line", path, n)
                if key == "power_begin":
                    begin = _utc(m.group(0))
                else:
                    end = _utc(m.group(0))
                if begin and end:
                    break
        if begin is None or end is None:
            raise _Fail(f"no {'power_begin' if begin is None else 'power_end'} time", path)
        return begin, end

    def average_power(self, run: str) -> float:
        begin, end = self.loadgen_window(run)
        path = os.path.join(self.perf, run, "spl.txt")
        watts = []
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.startswith("Time"):
                    continue
                parts = line.split(",")
                ts = _utc(parts[1])
                if begin < ts < end:
                    w = float(parts[3])
                    float(parts[9])  # the power factor column must parse, as there
                    if w > 0:
                        watts.append(w)
        return round(sum(watts) / len(watts), 5) if watts else -1.0


def _sources(s: _Session, path: str, sd: dict[str, Any]) -> None:
    if sd["sources"] not in s.rules["sources_checksums"]:
        raise _Fail(
            "the power client/server sources do not match a released version's checksums",
            path,
            _json_line(path, "sources"),
        )


def _ptd_messages(s: _Session, path: str, sd: dict[str, Any]) -> None:
    line = _json_line(path, "ptd_messages")
    msgs = sd["ptd_messages"]
    identify = next((m["reply"] for m in msgs if m["cmd"] == "Identify"), "")
    if not identify:
        raise _Fail("no reply to PTD's Identify command", path, line)
    model = identify.split(",")[0]
    m = re.search(r"(?<=version=)(.+?)-", identify)
    version = m.group(1) if m else ""
    if version not in s.rules["ptd_versions"]:
        raise _Fail(f"PTD version {version!r} is not supported ({', '.join(s.rules['ptd_versions'])})", path, line)
    if model not in s.rules["meters"]:
        raise _Fail(f"power meter {model!r} is not supported", path, line)
    for prefix, expected in s.rules["replies"]:
        stops = 0
        for msg in msgs:
            if not msg["cmd"].startswith(prefix):
                continue
            want = expected
            if msg["cmd"] == "Stop":
                if stops == 2:
                    expected = want = s.rules["third_stop_reply"]
                stops += 1
            if msg["reply"] != want:
                raise _Fail(f"PTD replied {msg['reply']!r} to {msg['cmd']!r}, expected {want!r}", path, line)

    def initial(index: int) -> str:
        fields = msgs[2]["reply"].split(",")
        try:
            if fields[index] == "0" and float(fields[index + 1]) > 0:
                return str(fields[index + 1])
        except (ValueError, IndexError):
            raise _Fail(f"no initial meter ranges in {msgs[2]['reply']!r}", path, line) from None
        return "Auto"

    def third(prefix: str) -> str:
        cmds = [m["cmd"] for m in msgs if m["cmd"].startswith(prefix)]
        if len(cmds) < 3:
            raise _Fail(f"no third {prefix!r} command", path, line)
        return str(cmds[2])

    for prefix, index in (("SR,A", 1), ("SR,V", 3)):
        want = f"{prefix},{initial(index)}"
        if third(prefix) != want:
            raise _Fail(f"the meter range was not set back to its initial value: expected {want!r}", path, line)


def _uuid(s: _Session, client: tuple[str, dict[str, Any]], server: tuple[str, dict[str, Any]]) -> None:
    for side in ("client", "server"):
        if uuid.UUID(client[1]["uuid"][side]) != uuid.UUID(server[1]["uuid"][side]):
            raise _Fail(
                f"the {side} uuid differs between client.json and server.json", server[0], _json_line(server[0], "uuid")
            )


def _session_name(s: _Session, client: tuple[str, dict[str, Any]], server: tuple[str, dict[str, Any]]) -> None:
    if client[1]["session_name"] != server[1]["session_name"]:
        raise _Fail(
            f"session name {client[1]['session_name']!r} in client.json "
            f"but {server[1]['session_name']!r} in server.json",
            server[0],
            _json_line(server[0], "session_name"),
        )


def _phases(s: _Session, client: tuple[str, dict[str, Any]], server: tuple[str, dict[str, Any]]) -> None:
    r = s.rules
    cpath, c = client
    tolerance = r["time_tolerance_ms"] / 1000
    for mode in ("ranging", "testing"):
        pc, ps = c["phases"][mode], server[1]["phases"][mode]
        if len(pc) != len(ps):
            raise _Fail(
                f"client.json and server.json have different numbers of {mode} phases",
                cpath,
                _json_line(cpath, "phases"),
            )
        for i, (a, b) in enumerate(zip(pc, ps, strict=True)):
            diff = abs(a[0] - b[0])
            if diff > tolerance:
                raise _Fail(
                    f"client and server clocks differ by {diff * 1000:.0f} ms at {mode} phase {i + 1} "
                    f"(at most {r['time_tolerance_ms']} ms)",
                    cpath,
                    _json_line(cpath, "phases"),
                )
    windows = {"ranging": s.loadgen_window("ranging"), "testing": s.loadgen_window("run_1")}
    for mode, (begin, end) in windows.items():
        phases = c["phases"][mode]
        for what, t in (("begin", begin), ("end", end)):
            # a one-hour shift is accepted, as a stopgap for daylight saving time there
            if not any(phases[1][0] < x < phases[2][0] for x in (t, t - r["dst_shift_s"])):
                run = "ranging" if mode == "ranging" else "run_1"
                raise _Fail(
                    f"LoadGen's power_{what} lies outside the {mode} phase of the power session",
                    os.path.join(s.perf, run, "mlperf_log_detail.txt"),
                )
    ranging, testing = (e - b for b, e in windows.values())
    warning = None
    if (ranging - testing) / ranging > r["ranging_duration_warning_fraction"]:
        warning = f"the testing run ({testing:.2f} s) is much shorter than the ranging run ({ranging:.2f} s)"
    rw, tw = s.average_power("ranging"), s.average_power("run_1")
    delta = round((tw / rw - 1) * 100, 2)
    if not delta > r["min_testing_power_delta_percent"]:
        raise _Fail(
            f"the average power of the testing run ({tw} W) is {delta}% of the ranging run's ({rw} W), "
            f"below the {r['min_testing_power_delta_percent']}% limit",
            os.path.join(s.perf, "run_1", "spl.txt"),
        )
    if warning:
        raise _Warn(warning, cpath)


def _messages(s: _Session, client: tuple[str, dict[str, Any]], server: tuple[str, dict[str, Any]]) -> None:
    spath = server[0]
    mc, ms = client[1]["messages"], server[1]["messages"]
    line = _json_line(spath, "messages")
    if len(mc) != len(ms):
        raise _Fail(f"client.json has {len(mc)} messages, server.json {len(ms)}", spath, line)
    for i, (a, b) in enumerate(zip(mc, ms, strict=True)):
        if a["cmd"] != b["cmd"]:
            raise _Fail(f"message {i} differs: {a['cmd']!r} from the client, {b['cmd']!r} at the server", spath, line)
        if a["cmd"] != "time" and a["reply"] != b["reply"]:
            raise _Fail(f"the replies to {a['cmd']!r} differ between client.json and server.json", spath, line)
    versions = []
    for pattern, text in ((s.rules["client_version"], ms[0]["cmd"]), (s.rules["server_version"], ms[0]["reply"])):
        m = re.search(pattern, text)
        if m is None:
            raise _Fail(f"no power client/server version in {text!r}", spath, line)
        versions.append(m.group(1))
    if versions[0] != versions[1]:
        raise _Fail(f"power client v{versions[0]} ran against server v{versions[1]}", spath, line)


def _results(s: _Session, client: tuple[str, dict[str, Any]], server: tuple[str, dict[str, Any]]) -> None:
    checked = set(s.rules["checked_result_files"])
    on_disk: dict[str, str] = {}
    for top, _dirs, files in os.walk(s.perf):
        for name in files:
            full = os.path.join(top, name)
            rel = os.path.relpath(full, s.perf).replace(os.sep, "/")
            if rel in checked:
                with open(full, "rb") as f:
                    on_disk[rel] = hashlib.sha1(f.read()).hexdigest()  # noqa: S324 - the Power WG's hash
    rc = {k: v for k, v in client[1]["results"].items() if k in checked}
    rs = {k: v for k, v in server[1]["results"].items() if k in checked}
    spath = server[0]
    line = _json_line(spath, "results")
    for k in sorted(rc.keys() & rs.keys()):
        if rc[k] != rs[k]:
            raise _Fail(f"client.json and server.json record different checksums for {k}", spath, line)
    recorded = {**rc, **rs}
    for what, names in (
        ("missing from", recorded.keys() - on_disk.keys()),
        ("not recorded in", on_disk.keys() - recorded.keys()),
    ):
        if names:
            raise _Fail(
                f"{', '.join(sorted(names))} {what} the result folder, against client.json and server.json", spath, line
            )
    changed = sorted(k for k in recorded if recorded[k] != on_disk[k])
    if changed:
        raise _Fail(
            f"{', '.join(changed)} changed since the power session recorded its checksum",
            os.path.join(s.perf, changed[0]),
        )
    absent = sorted(checked - recorded.keys())
    if absent:
        raise _Fail(f"the power session recorded no checksum for {', '.join(absent)}", spath, line)


def _ptd_logs(s: _Session, client: tuple[str, dict[str, Any]], server: tuple[str, dict[str, Any]]) -> None:
    r = s.rules
    path = os.path.join(s.power, "ptd_logs.txt")
    load_begin, load_end = s.loadgen_window("run_1")
    int(server[1]["timezone"])  # must be an integer offset, as there
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    date = re.compile(PTD_DATE)
    after_date = re.compile(f"(?<={PTD_DATE}).+")

    def stamp(line: str, n: int) -> float:
        m = date.search(line)
        if not m or not m.group(0):
            raise _Fail(f"no timestamp on {line.strip()!r}", path, n)
        return _utc(m.group(0))

    mark = f": Go with mark {server[1]['session_name'] + '_ranging'!r}"
    start = stop = None
    for n, line in enumerate(lines, 1):
        if date.search(line):
            m = after_date.search(line)
            if m is None:
                continue
            msg = m.group(0).strip()
        else:
            msg = line
        if start is None and msg == mark:
            start = stamp(line, n)
        if stop is None and start is not None and msg == ": Completed test":
            stop = stamp(line, n)
            break
    if start is None or stop is None:
        raise _Fail("no ranging run (its Go with mark and Completed test lines) in ptd_logs.txt", path)
    activated = re.compile(r["uncertainty_activated"])
    for n, line in enumerate(lines, 1):
        if activated.search(line):
            if not stamp(line, n) < start:
                raise _Fail("uncertainty checking was activated after the ranging run started", path, n)
            break
    else:
        raise _Fail("ptd_logs.txt never says uncertainty checking for the Yokogawa meter is activated", path)
    fatal_warning = re.compile(r["testing_fatal_warning"])
    for n, line in enumerate(lines, 1):
        warn = re.search(r"(?<=WARNING:).+", line)
        if warn and warn.group(0):
            t = stamp(line, n)
            # the margin is the tolerance in ms added to seconds there; kept so verdicts agree
            margin = r["time_tolerance_ms"]
            if load_begin + margin < t < load_end - margin:
                if fatal_warning.search(warn.group(0).strip()):
                    raise _Fail(f"{line.strip()!r} during the testing run", path, n)
                raise _Warn(f"PTD warns during the testing run: {line.strip()!r}", path, n)
        err = re.search(r"(?<=ERROR:).+", line)
        if err and err.group(0):
            t = stamp(line, n)
            text = err.group(0).strip()
            if text in r["testing_accepted_errors"]:
                raise _Warn(f"PTD error accepted as a warning: {line.strip()!r}", path, n)
            if not start < t < stop:
                raise _Fail(f"PTD error outside the ranging run: {line.strip()!r}", path, n)
            if not any(text.startswith(p) for p in r["ranging_fatal_error_prefixes"]):
                raise _Warn(f"PTD error during the ranging run, accepted: {line.strip()!r}", path, n)


def _ptd_config(s: _Session, server: tuple[str, dict[str, Any]]) -> None:
    path, sd = server
    config = sd["ptd_config"]
    device = config["device_type"]
    line = _json_line(path, "ptd_config")
    if device not in s.rules["meters"].values():
        raise _Fail(f"PTD device number {device} is not supported", path, line)
    if device == s.rules["two_channel_device"]:
        command = config["command"]
        channels = next((command[i + 1] for i in range(len(command)) if command[i] == "-c"), "")
        if not (len(channels.split(",")) == 2 and config["channel"] and len(config["channel"]) == 2):
            raise _Fail(f"device {device} is a two-channel meter but ran on one channel", path, line)


def _debug(s: _Session, server: tuple[str, dict[str, Any]]) -> None:
    if server[1].get("debug", False) is not False:
        raise _Fail("the power server ran in debug mode", server[0], _json_line(server[0], "debug"))


def check_power_session(rules: dict[str, Any], perf: str) -> list[PowerFinding]:
    """Every check of the Power WG's checker on the ``performance`` folder of a power result."""
    s = _Session(rules, perf)
    try:
        client, server = s.load("client.json"), s.load("server.json")
    except _Fail as exc:
        return [PowerFinding("error", str(exc), exc.path, exc.line)]
    checks: list[tuple[str, Callable[[], None]]] = [
        ("client sources", lambda: _sources(s, *client)),
        ("server sources", lambda: _sources(s, *server)),
        ("PTD commands and replies", lambda: _ptd_messages(s, *server)),
        ("uuid", lambda: _uuid(s, client, server)),
        ("session name", lambda: _session_name(s, client, server)),
        ("time sync", lambda: _phases(s, client, server)),
        ("client/server messages", lambda: _messages(s, client, server)),
        ("results checksums", lambda: _results(s, client, server)),
        ("PTD log", lambda: _ptd_logs(s, client, server)),
        ("PTD configuration", lambda: _ptd_config(s, server)),
        ("server debug mode", lambda: _debug(s, server)),
    ]
    findings = []
    for name, run in checks:
        try:
            run()
        except _Warn as exc:
            findings.append(PowerFinding("warning", f"{name}: {exc}", exc.path, exc.line))
        except _Fail as exc:
            findings.append(PowerFinding("error", f"{name}: {exc}", exc.path, exc.line))
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            # the Power WG's checker fails a check it cannot run
            findings.append(PowerFinding("error", f"{name}: cannot be checked ({type(exc).__name__}: {exc})", s.power))
    return findings
