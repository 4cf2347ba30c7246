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

import os
import stat
from pathlib import Path
from typing import Any, TextIO

from . import logparse
from .advisories import _Advisories
from .configrun import ConfigRun
from .facts import FileFacts, _collect
from .findings import ADVISORY, ERROR, WARNING, Check, FileReport, Finding
from .logparse import BadLine, LogLine, json_loads, parse_record, parse_record_060
from .rcp import rcp_reads
from .rules import Config, KeyRule, load_config, root_config, validate

REPLAY_BUFFER_LINES = 50_000  # records kept for configs enqueued mid-file
MAX_BAD_LINE_FINDINGS = 100  # a file of garbage must not make a report as large as itself


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


def _open(path: Path) -> TextIO:
    return open(path, encoding="latin-1", newline=None)  # the official parser's reading


def _check(
    path: Path,
    usage: str,
    ruleset: str,
    report: FileReport,
    expected_org: str | None,
    facts: FileFacts | None,
) -> None:
    reading = _StreamingPass(usage, ruleset, report, facts)
    with _open(path) as f:
        reading.read(f)
    root = reading.finish_configs(path)
    reading.report_file(root, expected_org)


class _StreamingPass:
    """One pass over a file's lines with every config side by side (the module's opening comment
    says how this gives the official results): the configs queue, the line findings, and what
    the package checks and advisories collect on the way."""

    def __init__(self, usage: str, ruleset: str, report: FileReport, facts: FileFacts | None) -> None:
        self.fr = _FileRun(usage, ruleset)
        self.usage = usage
        self.ruleset = ruleset
        self.legacy = self.fr.legacy
        self.token = logparse.TOKEN_060 if self.legacy else logparse.TOKEN
        self.report = report
        self.findings = report.findings
        self.facts = facts
        self.rcp = facts.rcp if facts is not None else None
        self.adv = _Advisories()
        self.bad_lines = 0
        self.crash_line: Finding | None = None
        self.n_records = 0
        self.prev_ts: float | None = None
        self.active: list[ConfigRun] = []
        self.deferred: list[ConfigRun] = []
        # key -> [(run, rule)] for the active runs that name the key
        self.interest: dict[Any, list[tuple[ConfigRun, KeyRule]]] = {}
        self.buffer: list[LogLine] | None = []  # the replay buffer, None once it overflowed
        self.needs_list = False
        self.root = self.fr.new_run(root_config(usage, ruleset))
        self.fr.new_runs.clear()
        self.start_config(self.root)

    # -- the configs queue (enqueue_config: first in, first out) ---------------------------

    def start_config(self, run: ConfigRun) -> None:
        """BEGIN, then replay the lines read so far, then follow the file with the others."""
        if self.needs_list:
            return
        if run.config.begin_uses_loglines:
            self.needs_list = True  # finish reading for the line findings; rules run listwise after
            self.active.clear()
            self.interest.clear()
            return
        run.begin(None)
        if self.buffer is None:
            self.deferred.append(run)
        else:
            for rec in self.buffer:
                run.feed_any(rec)
            self.active.append(run)
            for k, rule in run.rules.items():
                self.interest.setdefault(k, []).append((run, rule))
        self.start_enqueued()

    def start_enqueued(self) -> None:
        new_runs = self.fr.new_runs
        while new_runs and not self.needs_list:
            self.start_config(new_runs.pop(0))

    # -- reading: mlp_parser's lines ----------------------------------------------------------

    def read(self, f: TextIO) -> None:
        """Every line holding the token, as the official parser keeps it: the text from the
        last token, stripped (a long line streamed in chunks)."""
        chunk = logparse.READ_CHUNK
        token = self.token
        readline = f.readline
        index = -1
        line = 0
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
                self.too_long(line)
                continue
            rec = parse_record_060(text, index, line) if self.legacy else self.parse(text, index, line)
            if isinstance(rec, BadLine):  # no subclasses: as `type(rec) is`, and mypy narrows both branches
                self.bad_line(rec)
            else:
                self.record(rec)

    def too_long(self, line: int) -> None:
        """log.line_too_long: a record not held in memory."""
        self.bad_lines += 1
        if self.bad_lines <= MAX_BAD_LINE_FINDINGS:
            self.findings.append(
                Finding(
                    ERROR,
                    Check.LOG_LINE_TOO_LONG,
                    f"the MLLOG record is longer than {logparse.MAX_PAYLOAD_CHARS} characters",
                    line=line,
                )
            )
        if self.rcp is not None:
            self.rcp.feed_unreadable(line)

    def parse(self, text: str, index: int, line: int) -> LogLine | BadLine:
        """``json.loads`` and ``float(time_ms)`` as mlp_parser; the RCP reader sees the raw text
        of the lines it reads, parsed or not (it raises where the official one would)."""
        payload = text[9:]
        rcp = self.rcp
        try:
            obj = json_loads(payload)
        except (ValueError, RecursionError) as exc:
            if rcp is not None and rcp_reads(payload):
                rcp.feed(payload, exc, False, line)
            return parse_record(text, index, line)
        if rcp is not None and rcp_reads(payload):
            rcp.feed(payload, obj, True, line)
        try:  # the common case of parse_record, without parsing the JSON again
            t = obj["time_ms"]
            return LogLine(
                text,
                t if type(t) is float else float(t),
                obj["key"],
                {"value": obj["value"], "metadata": obj["metadata"]},
                index,
                line,
            )
        except Exception:
            return parse_record(text, index, line)

    def bad_line(self, rec: BadLine) -> None:
        """log.malformed_record (the official parser raises: the first always reported) or
        log.parse_error ("Log lines had parsing errors"), at most MAX_BAD_LINE_FINDINGS."""
        self.bad_lines += 1
        if rec.crash:
            finding = Finding(ERROR, Check.LOG_MALFORMED_RECORD, rec.message, line=rec.line)
            if self.crash_line is None:
                self.crash_line = finding
                self.findings.append(finding)
            elif self.bad_lines <= MAX_BAD_LINE_FINDINGS:
                self.findings.append(finding)
        elif self.bad_lines <= MAX_BAD_LINE_FINDINGS:
            self.findings.append(Finding(ERROR, Check.LOG_PARSE_ERROR, rec.message, line=rec.line))

    def record(self, rec: LogLine) -> None:
        """A parsed record: time order and advisories, the package facts, the replay buffer,
        then the rules of every config that names its key."""
        self.n_records += 1
        ts = rec.timestamp
        if self.prev_ts is not None and ts < self.prev_ts:
            self.adv.backwards(rec.line, self.prev_ts, ts)
        self.prev_ts = ts
        key = rec.key
        try:
            pairs = self.interest.get(key)
            advised = key in _ADVISED
        except TypeError:  # an unhashable key: no rule names it
            pairs = None
            advised = False
        if advised:
            self.adv.record(rec)
        if self.facts is not None:
            _collect(self.facts, rec)
        buffer = self.buffer
        if buffer is not None:
            buffer.append(rec)
            if len(buffer) > REPLAY_BUFFER_LINES:
                self.buffer = None
        if pairs is not None:
            for run, rule in pairs:
                run.feed(rec, rule)
            if self.fr.new_runs:
                self.start_enqueued()

    # -- after the last line --------------------------------------------------------------------

    def finish_configs(self, path: Path) -> ConfigRun:
        """END and the REQ counts; configs enqueued too late for the replay buffer get passes of
        their own, and configs whose BEGIN reads ``loglines`` run listwise. Returns the root."""
        if self.needs_list:
            return _run_listwise(path, self.token, self.legacy, self.usage, self.ruleset)
        _finish_all(self.fr, self.active, self.deferred)
        while self.deferred:
            if _another_pass(path, self.token, self.legacy, self.fr, self.deferred):
                return _run_listwise(path, self.token, self.legacy, self.usage, self.ruleset)
        return self.root

    def report_file(self, root: ConfigRun, expected_org: str | None) -> None:
        """The file's findings: the line findings' tail, no records, the configs' messages in the
        official order, the advisories."""
        findings = self.findings
        if self.bad_lines > MAX_BAD_LINE_FINDINGS:
            findings.append(
                Finding(
                    ERROR,
                    Check.LOG_PARSE_ERROR,
                    f"... and {self.bad_lines - MAX_BAD_LINE_FINDINGS} more MLLOG lines that do not parse (not listed)",
                )
            )
        if self.facts is not None and self.bad_lines:
            self.facts.seed_error = self.facts.seed_error or "the log has MLLOG lines that do not parse"
        if self.crash_line is not None:
            self.report.official_crash = True
        if self.n_records == 0:
            findings.append(Finding(ERROR, Check.LOG_NO_RECORDS, "the file has no MLLOG records"))
        if _merge(root, findings):
            self.report.official_crash = True
        findings.extend(self.adv.findings(expected_org))


_ADVISED = frozenset({"run_start", "run_stop", "submission_org"})


def _finish_all(fr: _FileRun, active: list[ConfigRun], deferred: list[ConfigRun]) -> None:
    for run in active:
        run.finish()
        # configs enqueued by END code have seen no line yet: they need a pass of their own
        while fr.new_runs:
            late = fr.new_runs.pop(0)
            late.begin(None)
            deferred.append(late)


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
