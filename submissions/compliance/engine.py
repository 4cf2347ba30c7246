"""Checking one result file against the official YAML rules.

Semantics follow ``mlperf_logging/compliance_checker/mlp_compliance.py`` (4.1.68) step by step:

* the checker starts from ``<usage>_<ruleset>/common.yaml``; rule code may ``enqueue_config`` more
  configs (``closed_common.yaml``, ``closed_<benchmark>.yaml``), processed first in, first out;
* each config gets a fresh state ``s``; for every log line whose key the config names: PRE, CHECK,
  POST (for ``submission_*`` keys on the first occurrence only), FIRST_CHECK on the first
  occurrence, ATLEAST_ONE_CHECK on every occurrence; then the REQ counts and the END block;
* a message is keyed by the log key; a config that names a key drops the earlier configs'
  messages for it ("overwrites" them);
* the verdict is ``pass`` when no message is left. Warnings (a duplicated EXACTLY_ONE key with
  equal values) do not count.

The official checker holds every line in memory and runs the configs one after the other. Here all
configs run side by side in one streaming pass: a config enqueued at line *n* first replays the
lines before *n* from a bounded buffer, and the results are merged in the official queue order.
When the buffer overflowed (a config enqueued very late in a huge file), the late configs run in
another streaming pass. The few configs whose BEGIN code reads the whole ``loglines`` list (stable
diffusion, rulesets 3.1.0-5.0.0) are run the official way, over a list.
"""

from __future__ import annotations

import json
import math
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import logparse
from .findings import ADVISORY, ERROR, WARNING, Check, FileReport, Finding
from .logparse import BadLine, LogLine, json_loads, parse_record, parse_record_060
from .rcp import RCP_WORDS
from .rules import Config, KeyRule, Snippet, load_config, root_config, validate

REPLAY_BUFFER_LINES = 50_000  # records kept for configs enqueued mid-file
MAX_FINDINGS_PER_KEY = 20
MAX_BAD_LINE_FINDINGS = 100  # a file of garbage must not make a report as large as itself


def is_integer(value: Any) -> bool:  # the helper the official rules call
    return abs(round(value) - value) < 0.00001


class _Crash(Exception):
    """Where the official checker would raise instead of giving a verdict."""

    def __init__(self, message: str, line: int | None = None, key: Any = None, check: str = Check.RULE_CRASH):
        super().__init__(message)
        self.finding = Finding(ERROR, check, message, key=_key_text(key), line=line)


def _key_text(key: Any) -> str | None:
    if key is None:
        return None
    return key if isinstance(key, str) else json.dumps(key, default=str)


def _short(value: Any, limit: int = 80) -> str:
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _dumps_ok(state: dict[str, Any]) -> bool:
    # The official failure messages embed json.dumps(s, sort_keys=True); when that raises, the
    # checker's own error handler raises again and the whole check crashes.
    try:
        json.dumps(state["s"], sort_keys=True, indent=2)
        return True
    except Exception:
        return False


def _first_line_of(sn: Snippet) -> str:
    text = " ".join(sn.source.split())
    return text if len(text) <= 160 else text[:157] + "..."


class ConfigRun:
    """One config's pass over the log lines (``configured_checks`` in the official checker)."""

    def __init__(self, config: Config, checker: _FileRun, legacy: bool) -> None:
        self.config = config
        self.checker = checker
        self.legacy = legacy  # 0.6.0: values are raw JSON, lines without value['value'] are skipped
        self.s: dict[str, Any] = {}
        self.state: dict[str, Any] = {
            "enqueue_config": self._enqueue,
            "s": self.s,
            "is_integer": is_integer,
            "math": math,
        }
        self.rules: dict[Any, KeyRule] = config.key_rules
        # per key: [count, first value, count equal to first, first line, second line, distinct strs]
        self.track: dict[Any, list[Any]] = {k: [0, None, 0, None, None, None] for k in self.rules}
        self.has_been_exec: set[Any] = set()
        self.first_seen: set[Any] = set()
        self.at_least: dict[Any, list[Any]] = {}
        self.children: list[ConfigRun] = []
        self.keyed: dict[Any, list[Finding]] = {}
        self.keyed_more: dict[Any, int] = {}
        self.unkeyed: list[Finding] = []
        self.warnings: list[Finding] = []
        self.crash: Finding | None = None
        self.done = False

    # -- rule code hooks -------------------------------------------------------------------

    def _enqueue(self, name: Any) -> None:
        child = self.checker.new_run(name)
        self.children.append(child)

    # -- messages ----------------------------------------------------------------------------

    def _keyed(self, key: Any, finding: Finding) -> None:
        found = self.keyed.setdefault(key, [])
        if len(found) < MAX_FINDINGS_PER_KEY:
            found.append(finding)
        else:
            self.keyed_more[key] = self.keyed_more.get(key, 0) + 1

    # -- the run -----------------------------------------------------------------------------

    def begin(self, loglines: list[LogLine] | None) -> None:
        config = self.config
        try:
            if config.missing:
                raise _Crash(
                    f"rule config {config.name!r} does not exist in mlperf-logging; the official checker "
                    "reports 'Could not find config file' and then crashes opening it",
                    check=Check.RULE_CONFIG_MISSING,
                )
            if config.load_error is not None:
                raise _Crash(f"rule config {config.name!r} cannot be used: {config.load_error!r}")
            if config.begin is not None:
                sn = config.begin
                if sn.error is not None:
                    raise _Crash(f"BEGIN code of {config.name} raises: {sn.error!r}")
                # The official checker runs BEGIN with its own locals(): 's', 'state' and
                # 'loglines' are what rule code uses.
                scope = {
                    "self": None,
                    "loglines": loglines if loglines is not None else [],
                    "config_file": str(config.path),
                    "f": None,
                    "checks": None,
                    "s": self.s,
                    "state": self.state,
                    "begin_blocks": None,
                }
                try:
                    exec(sn.code, self.state, scope)  # noqa: S102 - code from the pinned rules
                except Exception as exc:
                    raise _Crash(f"BEGIN code of {config.name} raises {exc!r}") from None
        except _Crash as crash:
            self._die(crash)

    def _die(self, crash: _Crash) -> None:
        self.crash = crash.finding
        self.done = True

    def feed_any(self, ll: LogLine) -> None:
        try:
            rule = self.rules.get(ll.key)
        except TypeError:  # an unhashable key: the official checker skips the line
            return
        if rule is not None:
            self.feed(ll, rule)

    def feed(self, ll: LogLine, rule: KeyRule) -> None:
        """One log line whose key this config names."""
        if self.done:
            return
        key = ll.key
        if self.legacy:
            try:
                rv = ll.value["value"]
            except Exception:
                return
        else:
            rv = ll.value["value"]
        t = self.track[key]
        n = t[0]
        if n == 0:
            t[1] = rv
            t[2] = 1
            t[3] = ll.line
        else:
            first = t[1]
            if rv is first or rv == first:
                t[2] += 1
            if n == 1:
                t[4] = ll.line
            if rule.exactly_one:  # the values, for the message; EXACTLY_ONE keys are rare lines
                if t[5] is None:
                    t[5] = {_short(first, 40)}
                if len(t[5]) < 6:
                    t[5].add(_short(rv, 40))
        t[0] = n + 1
        try:
            if key not in self.has_been_exec:
                if rule.pre is not None:
                    self._exec(ll, rule.pre, "PRE")
                if rule.checks is not None:
                    self._checks(ll, rule.checks, "CHECK")
                if rule.post is not None:
                    self._exec(ll, rule.post, "POST")
            if rule.first_check is not None and key not in self.first_seen:
                self.first_seen.add(key)
                self._checks(ll, rule.first_check, "FIRST_CHECK")
            if rule.at_least_one_check is not None:
                self._at_least_one(ll, rule.at_least_one_check)
            if rule.once:
                self.has_been_exec.add(key)
        except _Crash as crash:
            self._die(crash)

    def _exec(self, ll: LogLine, sn: Snippet, action: str) -> None:
        try:
            if sn.error is not None:
                raise sn.error
            exec(sn.code, self.state, {"ll": ll, "v": ll.value})  # noqa: S102 - code from the pinned rules
        except Exception as exc:
            self._keyed(
                ll.key,
                Finding(
                    ERROR,
                    Check.RULE_CODE_ERROR,
                    f"{action} code for '{ll.key}' raised {type(exc).__name__}: {exc} "
                    f"({self.config.name}: {_first_line_of(sn)})",
                    key=_key_text(ll.key),
                    line=ll.line,
                ),
            )

    def _checks(self, ll: LogLine, snippets: tuple[Snippet, ...], what: str) -> None:
        state = self.state
        value = ll.value
        for sn in snippets:
            try:
                if sn.error is not None:
                    raise sn.error
                if eval(sn.code, state, {"ll": ll, "v": value}):  # noqa: S307 - code from the pinned rules
                    continue
                failed: Exception | None = None
            except Exception as exc:
                failed = exc
            if not _dumps_ok(state):
                raise _Crash(
                    f"{what} for '{ll.key}' failed and the official checker crashes while reporting it "
                    f"(its state is not JSON-serialisable): {_first_line_of(sn)}",
                    line=ll.line,
                    key=ll.key,
                )
            if failed is None:
                msg = f"{what} for '{ll.key}' failed: {_first_line_of(sn)} (value {_short(_value_of(value))})"
                check = Check.RULE_CHECK
            else:
                msg = (
                    f"{what} code for '{ll.key}' raised {type(failed).__name__}: {failed} "
                    f"({_first_line_of(sn)}; value {_short(_value_of(value))})"
                )
                check = Check.RULE_CHECK_ERROR
            self._keyed(ll.key, Finding(ERROR, check, msg, key=_key_text(ll.key), line=ll.line))

    def _at_least_one(self, ll: LogLine, sn: Snippet) -> None:
        entry = self.at_least.get(ll.key)
        if entry is None:
            entry = self.at_least[ll.key] = [0, sn, ll.line]
        try:
            if sn.error is not None:
                raise sn.error
            ok = bool(eval(sn.code, self.state, {"ll": ll, "v": ll.value}))  # noqa: S307
        except Exception as exc:
            raise _Crash(
                f"ATLEAST_ONE_CHECK for '{ll.key}' raises {type(exc).__name__}: {exc}; the official checker "
                f"does not guard it and crashes ({_first_line_of(sn)})",
                line=ll.line,
                key=ll.key,
            ) from None
        if ok:
            entry[0] += 1

    def finish(self) -> None:
        if self.done:
            return
        self.done = True
        try:
            self._finish()
        except _Crash as crash:
            self.crash = crash.finding

    def _finish(self) -> None:
        for key, (count, sn, first_line) in self.at_least.items():
            if count == 0:
                self.unkeyed.append(
                    Finding(
                        ERROR,
                        Check.RULE_AT_LEAST_ONE_CHECK,
                        f"no '{key}' line satisfies {_first_line_of(sn)} ({self.config.name})",
                        key=_key_text(key),
                        line=first_line,
                    )
                )
        alternatives: set[tuple[Any, ...]] = set()
        for k, rule in self.rules.items():
            raw = rule.raw
            if "REQ" not in raw:
                continue
            req = raw["REQ"]
            t = self.track[k]
            count = t[0]
            try:
                if req == "OPTIONAL" and count == 0:
                    continue
                if req == "EXACTLY_ONE" and count != 1:
                    if count and t[2] == count:
                        self.warnings.append(
                            Finding(
                                WARNING,
                                Check.RULE_DUPLICATE,
                                f"'{k}' must occur exactly once but occurs {count} times (all equal)",
                                key=_key_text(k),
                                line=t[4],
                            )
                        )
                    else:
                        detail = f" with different values: {', '.join(sorted(t[5] or ()))}" if count else ""
                        self._keyed(
                            k,
                            Finding(
                                ERROR,
                                Check.RULE_EXACTLY_ONE,
                                f"'{k}' must occur exactly once but occurs {count} times{detail}",
                                key=_key_text(k),
                                line=t[4] if count else None,
                            ),
                        )
                if req == "AT_LEAST_ONE" and count < 1:
                    self._keyed(
                        k,
                        Finding(
                            ERROR,
                            Check.RULE_AT_LEAST,
                            f"'{k}' must occur at least once but is missing",
                            key=_key_text(k),
                        ),
                    )
                if req.startswith("AT_LEAST("):
                    n = int(req[len("AT_LEAST(") : -1])
                    if count < n:
                        self._keyed(
                            k,
                            Finding(
                                ERROR,
                                Check.RULE_AT_LEAST,
                                f"'{k}' must occur at least {n} times but occurs {count} times",
                                key=_key_text(k),
                                line=t[3],
                            ),
                        )
                if req.startswith("AT_LEAST_ONE_OR"):
                    alts = [a.strip() for a in req[len("AT_LEAST_ONE_OR(") : -1].split(",")]
                    alternatives.add(tuple({k, *alts}))
            except Exception as exc:
                raise _Crash(f"the REQ of '{k}' ({req!r}) makes the official checker raise {exc!r}", key=k) from None
        for alts in alternatives:
            for a in alts:  # any() over the official dict: an unknown key raises KeyError
                if a not in self.track:
                    raise _Crash(
                        f"REQ alternative '{a}' is not a key of {self.config.name}: the official checker crashes"
                    )
                if self.track[a][0]:
                    break
            else:
                names = " or ".join(f"'{a}'" for a in sorted(alts))
                self.unkeyed.append(Finding(ERROR, Check.RULE_ONE_OF, f"at least one of {names} must occur"))
        config = self.config
        if config.end_pre is not None:
            sn = config.end_pre
            try:
                if sn.error is not None:
                    raise sn.error
                exec(sn.code, self.state)  # noqa: S102
            except Exception as exc:
                raise _Crash(f"END code of {config.name} raises {exc!r}") from None
        if config.end_checks is not None:
            for sn in config.end_checks:
                try:
                    if sn.error is not None:
                        raise sn.error
                    if eval(sn.code, self.state):  # noqa: S307
                        continue
                    failed: Exception | None = None
                except Exception as exc:
                    failed = exc
                if not _dumps_ok(self.state):
                    raise _Crash(f"END CHECK failed and the official checker crashes while reporting it: {sn.source}")
                msg = f"END check of {config.name} failed: {_first_line_of(sn)}"
                if failed is not None:
                    msg += f" (raised {type(failed).__name__}: {failed})"
                self.unkeyed.append(Finding(ERROR, Check.RULE_END_CHECK, msg))


def _value_of(v: Any) -> Any:
    return v.get("value") if type(v) is dict else v


@dataclass(slots=True)
class FileFacts:
    """What package checks need from a file, collected in the same pass."""

    seeds: list[tuple[Any, Any, int]] = field(default_factory=list)
    seed_error: str | None = None
    run_start: float | None = None
    run_stop: float | None = None
    # the raw values the result summarizer's _query_instance_scale finds (hpc weak scaling)
    number_of_nodes: Any = None
    accelerators_per_node: Any = None
    rcp: Any = None  # an rcp.RcpReader when asked for
    benchmark: Any = None


class _FileRun:
    """The state of checking one file."""

    def __init__(self, usage: str, ruleset: str) -> None:
        self.usage = usage
        self.ruleset = ruleset
        self.legacy = ruleset == "0.6.0" and usage == "training"
        self.new_runs: list[ConfigRun] = []

    def new_run(self, name: Any) -> ConfigRun:
        run = ConfigRun(load_config(name) if isinstance(name, str) else _missing(name), self, self.legacy)
        self.new_runs.append(run)
        return run


def _missing(name: Any) -> Config:
    return Config(name=str(name), path=None, missing=True)


def check_file(
    path: str | os.PathLike[str],
    usage: str = "training",
    ruleset: str = "5.1.0",
    *,
    display_path: str | None = None,
) -> FileReport:
    """Check one result file; the verdict is the official compliance checker's."""
    validate(usage, ruleset)
    report, _ = check_file_facts(path, usage, ruleset, display_path=display_path)
    return report


def check_file_facts(
    path: str | os.PathLike[str],
    usage: str,
    ruleset: str,
    *,
    display_path: str | None = None,
    expected_org: str | None = None,
    facts: FileFacts | None = None,
) -> tuple[FileReport, FileFacts | None]:
    report = FileReport(path=display_path if display_path is not None else os.fspath(path))
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a folder, a FIFO (would block), a device
            report.findings.append(Finding(ERROR, Check.LOG_UNREADABLE, "not a regular file"))
            report.official_crash = True
            return report, facts
        _check(Path(path), usage, ruleset, report, expected_org, facts)
    except OSError as exc:
        report.findings = [
            Finding(ERROR, Check.LOG_UNREADABLE, f"cannot read the file: {exc.strerror or exc}"),
        ]
        report.official_crash = True
    except MemoryError:
        report.findings = [Finding(ERROR, Check.LOG_UNREADABLE, "the file is too large to check")]
        report.official_crash = True
    except Exception as exc:  # a bug of the engine: a failed check with the reason, never a crash
        report.findings.append(
            Finding(ERROR, Check.ENGINE_ERROR, f"the engine could not check this file: {type(exc).__name__}: {exc}")
        )
    report.findings.sort(key=_finding_order)
    return report, facts


_SEVERITY_ORDER = {ERROR: 0, WARNING: 1, ADVISORY: 2}


def _finding_order(f: Finding) -> tuple[int, int, int]:
    return (f.line is None, f.line or 0, _SEVERITY_ORDER[f.severity])


def _open(path: Path):  # type: ignore[no-untyped-def]
    return open(path, encoding="latin-1", newline=None)  # the official parser's reading


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
        if self.back_count:
            line, before, after = self.back_first  # type: ignore[misc]
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


def _check(
    path: Path,
    usage: str,
    ruleset: str,
    report: FileReport,
    expected_org: str | None,
    facts: FileFacts | None,
) -> None:
    fr = _FileRun(usage, ruleset)
    legacy = fr.legacy
    token = logparse.TOKEN_060 if legacy else logparse.TOKEN
    findings = report.findings
    adv = _Advisories()
    bad_lines = 0
    crash_line: Finding | None = None
    n_records = 0
    rcp = facts.rcp if facts is not None else None

    root = fr.new_run(root_config(usage, ruleset))
    fr.new_runs.clear()
    active: list[ConfigRun] = []
    deferred: list[ConfigRun] = []
    # key -> [(run, rule)] for the active runs that name the key
    interest: dict[Any, list[tuple[ConfigRun, KeyRule]]] = {}
    buffer: list[LogLine] | None = []
    needs_list = False

    def start(run: ConfigRun) -> None:
        nonlocal needs_list
        if needs_list:
            return
        if run.config.begin_uses_loglines:
            needs_list = True  # finish reading for the line findings; rules run listwise after
            active.clear()
            interest.clear()
            return
        run.begin(None)
        if buffer is None:
            deferred.append(run)
        else:
            for rec in buffer:
                run.feed_any(rec)
            active.append(run)
            for k, rule in run.rules.items():
                interest.setdefault(k, []).append((run, rule))
        drain()

    def drain() -> None:
        while fr.new_runs and not needs_list:
            start(fr.new_runs.pop(0))

    start(root)
    chunk = logparse.READ_CHUNK
    rcp_words = RCP_WORDS
    with _open(path) as f:
        readline = f.readline
        index = -1
        line = 0
        prev_ts: float | None = None
        while True:
            raw = readline(chunk)
            if not raw:
                break
            line += 1
            if len(raw) == chunk and raw[-1] != "\n":
                text = logparse.long_line(raw, readline, token)
                if text is False:
                    continue
            else:
                i = raw.rfind(token)
                if i < 0:
                    continue
                text = raw[i:].strip()
            index += 1
            if text is None:
                bad_lines += 1
                if bad_lines <= MAX_BAD_LINE_FINDINGS:
                    findings.append(
                        Finding(
                            ERROR,
                            Check.LOG_LINE_TOO_LONG,
                            f"the MLLOG record is longer than {logparse.MAX_PAYLOAD_CHARS} characters",
                            line=line,
                        )
                    )
                if rcp is not None:
                    rcp.feed_unreadable(line)
                continue
            if legacy:
                rec = parse_record_060(text, index, line)
            else:
                payload = text[9:]
                try:
                    obj = json_loads(payload)
                except (ValueError, RecursionError) as exc:
                    if rcp is not None and rcp_words(payload):
                        rcp.feed(payload, exc, False, line)
                    rec = parse_record(text, index, line)
                else:
                    if rcp is not None and rcp_words(payload):
                        rcp.feed(payload, obj, True, line)
                    # the common case of parse_record, without parsing the JSON again
                    try:
                        t = obj["time_ms"]
                        rec = LogLine(
                            text,
                            t if type(t) is float else float(t),
                            obj["key"],
                            {"value": obj["value"], "metadata": obj["metadata"]},
                            index,
                            line,
                        )
                    except Exception:
                        rec = parse_record(text, index, line)
            if type(rec) is BadLine:
                bad_lines += 1
                if rec.crash:
                    finding = Finding(ERROR, Check.LOG_MALFORMED_RECORD, rec.message, line=line)
                    if crash_line is None:
                        crash_line = finding
                        findings.append(finding)
                    elif bad_lines <= MAX_BAD_LINE_FINDINGS:
                        findings.append(finding)
                elif bad_lines <= MAX_BAD_LINE_FINDINGS:
                    findings.append(Finding(ERROR, Check.LOG_PARSE_ERROR, rec.message, line=line))
                continue
            n_records += 1
            ts = rec.timestamp
            if prev_ts is not None and ts < prev_ts:
                adv.backwards(line, prev_ts, ts)
            prev_ts = ts
            key = rec.key
            try:
                pairs = interest.get(key)
                advised = key in _ADVISED
            except TypeError:  # an unhashable key: no rule names it
                pairs = None
                advised = False
            if advised:
                adv.record(rec)
            if facts is not None:
                _collect(facts, rec)
            if buffer is not None:
                buffer.append(rec)
                if len(buffer) > REPLAY_BUFFER_LINES:
                    buffer = None
            if pairs is not None:
                for run, rule in pairs:
                    run.feed(rec, rule)
                if fr.new_runs:
                    drain()
    if needs_list:
        root = _run_listwise(path, token, legacy, usage, ruleset)
    else:
        _finish_all(fr, active, deferred)
        while deferred:
            if _another_pass(path, token, legacy, fr, deferred):
                root = _run_listwise(path, token, legacy, usage, ruleset)
                break

    if bad_lines > MAX_BAD_LINE_FINDINGS:
        findings.append(
            Finding(
                ERROR,
                Check.LOG_PARSE_ERROR,
                f"... and {bad_lines - MAX_BAD_LINE_FINDINGS} more MLLOG lines that do not parse (not listed)",
            )
        )
    if facts is not None and bad_lines:
        facts.seed_error = facts.seed_error or "the log has MLLOG lines that do not parse"
    if crash_line is not None:
        report.official_crash = True
    if n_records == 0:
        findings.append(Finding(ERROR, Check.LOG_NO_RECORDS, "the file has no MLLOG records"))
    if _merge(root, findings):
        report.official_crash = True
    findings.extend(adv.findings(expected_org))


_ADVISED = frozenset({"run_start", "run_stop", "submission_org"})


def _finish_all(fr: _FileRun, active: list[ConfigRun], deferred: list[ConfigRun]) -> None:
    for run in active:
        run.finish()
        # configs enqueued by END code have seen no line yet: they need a pass of their own
        while fr.new_runs:
            late = fr.new_runs.pop(0)
            late.begin(None)
            deferred.append(late)


def _collect(facts: FileFacts, rec: LogLine) -> None:
    key = rec.key
    # the result summarizer: run_start/run_stop as its loop finds them
    if facts.run_start is None or facts.run_stop is None:
        if key == "run_start":
            facts.run_start = rec.timestamp
        if key == "run_stop":
            facts.run_stop = rec.timestamp
    # _query_instance_scale (hpc weak scaling): the same loop over number_of_nodes and
    # accelerators_per_node (a null value does not count as found); values are kept raw, the
    # score applies int() to them as the summarizer does. (0.6.0 values are not records.)
    if (
        (key == "number_of_nodes" or key == "accelerators_per_node")
        and (facts.number_of_nodes is None or facts.accelerators_per_node is None)
        and type(rec.value) is dict
    ):
        if key == "number_of_nodes":
            facts.number_of_nodes = rec.value["value"]
        else:
            facts.accelerators_per_node = rec.value["value"]
    if key == "seed" and facts.seed_error is None:
        # the seed checker's tuple (metadata file, metadata lineno, int(value)); anything raising
        # there is an error for this file
        try:
            v = rec.value
            facts.seeds.append((v["metadata"]["file"], v["metadata"]["lineno"], int(v["value"])))
        except Exception as exc:
            facts.seed_error = f"the seed record on line {rec.line} is unusable: {exc!r}"


def _another_pass(path: Path, token: str, legacy: bool, fr: _FileRun, deferred: list[ConfigRun]) -> bool:
    """Run configs that were enqueued after the replay buffer overflowed, over the whole file.
    Returns True when one of them needs the whole list of lines (run the file listwise)."""
    active = list(deferred)
    deferred.clear()
    buffer: list[LogLine] | None = []
    with _open(path) as f:
        for rec in _records(f, token, legacy):
            if buffer is not None:
                buffer.append(rec)
                if len(buffer) > REPLAY_BUFFER_LINES:
                    buffer = None
            for run in active:
                run.feed_any(rec)
            while fr.new_runs:
                run = fr.new_runs.pop(0)
                if run.config.begin_uses_loglines:
                    return True
                run.begin(None)
                if buffer is None:
                    deferred.append(run)
                    continue
                for old in buffer:
                    run.feed_any(old)
                active.append(run)
    _finish_all(fr, active, deferred)
    return False


def _records(f: Any, token: str, legacy: bool) -> Any:
    index = -1
    parse = parse_record_060 if legacy else parse_record
    for line, text in logparse.iter_token_lines(f, token):
        index += 1
        if text is None:
            continue
        rec = parse(text, index, line)
        if type(rec) is LogLine:
            yield rec


def _run_listwise(path: Path, token: str, legacy: bool, usage: str, ruleset: str) -> ConfigRun:
    """The official algorithm, over a list: for configs whose BEGIN code reads ``loglines``."""
    fr = _FileRun(usage, ruleset)
    with _open(path) as f:
        loglines = list(_records(f, token, legacy))
    root = fr.new_run(root_config(usage, ruleset))
    queue = [fr.new_runs.pop()]
    while queue:
        run = queue.pop(0)
        run.begin(loglines)
        for ll in loglines:  # BEGIN may have appended lines: iterate the list as it is now
            run.feed_any(ll)
        run.finish()
        queue.extend(fr.new_runs)
        fr.new_runs.clear()
        if run.crash is not None:
            break
    return root


def _merge(root: ConfigRun, findings: list[Finding]) -> bool:
    """Combine the configs' messages in the official queue order. Returns True on a crash."""
    order = [root]
    i = 0
    while i < len(order):
        order.extend(order[i].children)
        i += 1
    overwritable: dict[Any, list[Finding]] = {}
    more: dict[Any, int] = {}
    crashed = False
    for run in order:
        if run.config.empty:
            continue
        for k in run.rules:
            overwritable.pop(k, None)
            more.pop(k, None)
        overwritable.update(run.keyed)
        more.update(run.keyed_more)
        findings.extend(run.unkeyed)
        findings.extend(run.warnings)
        if run.crash is not None:
            # the official checker stops here: later configs never run
            findings.append(run.crash)
            crashed = True
            break
    for k, found in overwritable.items():
        findings.extend(found)
        if more.get(k):
            last = found[-1]
            findings.append(
                Finding(ERROR, last.check, f"... and {more[k]} more findings like this for '{k}'", key=last.key)
            )
    return crashed
