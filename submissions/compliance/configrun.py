"""One config's pass over a file's log lines: the rules of ``mlperf_logging/compliance_checker/
mlp_compliance.py`` (4.1.68) for one YAML config (``configured_checks`` there): BEGIN, for each
line of a key the config names PRE, CHECK, POST, FIRST_CHECK and ATLEAST_ONE_CHECK, then the REQ
counts and END. The file-level pass that runs the configs side by side is ``engine.py``.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from .findings import ERROR, WARNING, Check, Finding
from .logparse import LogLine
from .rules import Config, KeyRule, Snippet

if TYPE_CHECKING:
    from .engine import _FileRun

MAX_FINDINGS_PER_KEY = 20


def is_integer(value: Any) -> bool:  # the helper the official rules call
    return bool(abs(round(value) - value) < 0.00001)


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
                if sn.code is None:
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
        self._count_for_req(ll, rule, rv)
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

    def _count_for_req(self, ll: LogLine, rule: KeyRule, rv: Any) -> None:
        """What the REQ counts and their messages need: occurrences, the first value and how
        many equal it, the first two lines, a few distinct values of EXACTLY_ONE keys."""
        t = self.track[ll.key]
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

    def _exec(self, ll: LogLine, sn: Snippet, action: str) -> None:
        try:
            if sn.code is None:
                raise sn.compile_error()
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
                if sn.code is None:
                    raise sn.compile_error()
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
            if sn.code is None:
                raise sn.compile_error()
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
        self._check_at_least_one_checks()
        alternatives: set[tuple[Any, ...]] = set()
        for k, rule in self.rules.items():
            if "REQ" in rule.raw:
                req = rule.raw["REQ"]
                try:
                    self._check_req(k, req, alternatives)
                except Exception as exc:
                    raise _Crash(
                        f"the REQ of '{k}' ({req!r}) makes the official checker raise {exc!r}", key=k
                    ) from None
        self._check_one_of(alternatives)
        self._run_end()

    def _check_at_least_one_checks(self) -> None:
        """ATLEAST_ONE_CHECK: some line of the key satisfied it (e.g. the target accuracy)."""
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

    def _check_req(self, k: Any, req: Any, alternatives: set[tuple[Any, ...]]) -> None:
        """REQ: EXACTLY_ONE, AT_LEAST_ONE, AT_LEAST(n), OPTIONAL; AT_LEAST_ONE_OR(...) groups
        are collected for :meth:`_check_one_of`. May raise where the official code raises."""
        t = self.track[k]
        count = t[0]
        if req == "OPTIONAL" and count == 0:
            return
        if req == "EXACTLY_ONE" and count != 1:
            self._check_exactly_one(k, t)
        if req == "AT_LEAST_ONE" and count < 1:
            self._keyed(
                k,
                Finding(ERROR, Check.RULE_AT_LEAST, f"'{k}' must occur at least once but is missing", key=_key_text(k)),
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

    def _check_exactly_one(self, k: Any, t: list[Any]) -> None:
        """EXACTLY_ONE not met: a warning when every occurrence has the same value."""
        count = t[0]
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
            return
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

    def _check_one_of(self, alternatives: set[tuple[Any, ...]]) -> None:
        """AT_LEAST_ONE_OR: one key of each group occurs."""
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

    def _run_end(self) -> None:
        """END: its code, then its CHECKs."""
        config = self.config
        if config.end_pre is not None:
            sn = config.end_pre
            try:
                if sn.code is None:
                    raise sn.compile_error()
                exec(sn.code, self.state)  # noqa: S102
            except Exception as exc:
                raise _Crash(f"END code of {config.name} raises {exc!r}") from None
        for sn in config.end_checks or ():
            try:
                if sn.code is None:
                    raise sn.compile_error()
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
