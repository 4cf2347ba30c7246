"""The official rules, loaded from the installed, pinned ``mlperf-logging`` package.

Rules are data: YAML files under ``mlperf_logging/compliance_checker/<usage>_<ruleset>/``. They
embed small Python snippets (CHECK expressions, PRE/POST/BEGIN/END code) that the official checker
``eval``s; they come from the pinned package, never from a user, so the engine evaluates them the
same way. Each snippet is compiled once per process (the official checker re-parses the YAML and
re-compiles every snippet for every file, which is most of its cost).

Nothing here reads a path that a user controls: a config named by a rule at run time (for example
``enqueue_config('training_5.1.0/{}_common.yaml'.format(v['value']))``) is only loaded when it
resolves to a file inside the package's rule folder.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType
from typing import Any

import yaml

RULES_PACKAGE = "mlperf_logging"
_RULESET_RE = re.compile(r"^(?P<usage>[a-z]+)_(?P<ruleset>\d+\.\d+\.\d+)$")


class RulesetError(ValueError):
    """An unknown usage or ruleset: a caller's mistake, reported as a usage error."""


@functools.cache
def package_root() -> Path:
    spec = importlib.util.find_spec(RULES_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the mlperf-logging package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


@functools.cache
def rules_root() -> Path:
    return (package_root() / "compliance_checker").resolve()


@functools.cache
def rules_version() -> str:
    return importlib.metadata.version("mlperf-logging")


@functools.cache
def _ruleset_dirs() -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for entry in os.listdir(rules_root()):
        m = _RULESET_RE.match(entry)
        if m and (rules_root() / entry / "common.yaml").is_file():
            found.setdefault(m["usage"], []).append(m["ruleset"])
    return {
        usage: tuple(sorted(rulesets, key=lambda r: tuple(int(p) for p in r.split("."))))
        for usage, rulesets in found.items()
    }


def usages() -> list[str]:
    """The suites the pinned package ships rules for (``training``, ``hpc``)."""
    return sorted(_ruleset_dirs())


def available_rulesets(usage: str) -> list[str]:
    """Ruleset versions shipped for ``usage``, oldest first, e.g. ``['0.6.0', ..., '6.1.0']``."""
    return list(_ruleset_dirs().get(usage, ()))


def latest_ruleset(usage: str) -> str:
    """The newest ruleset shipped for ``usage``, or ``""`` for a suite without rulesets."""
    rulesets = available_rulesets(usage)
    return rulesets[-1] if rulesets else ""


def validate(usage: str, ruleset: str) -> None:
    if usage not in _ruleset_dirs():
        raise RulesetError(f"unknown usage {usage!r}; expected one of {', '.join(usages())}")
    if ruleset not in _ruleset_dirs()[usage]:
        raise RulesetError(
            f"unknown ruleset {ruleset!r} for {usage}; expected one of {', '.join(available_rulesets(usage))}"
        )


def allowed_benchmarks(usage: str, ruleset: str) -> list[str]:
    """Benchmarks a package may contain for this suite and ruleset (the official list, deduplicated)."""
    validate(usage, ruleset)
    from mlperf_logging.benchmark_meta import get_allowed_benchmarks

    try:
        return list(dict.fromkeys(get_allowed_benchmarks(usage, ruleset)))
    except ValueError:
        return []


def result_file_counts(usage: str) -> dict[str, int]:
    from mlperf_logging.benchmark_meta import get_result_file_counts

    return dict(get_result_file_counts(usage))


def root_config(usage: str, ruleset: str) -> str:
    """The config name the official checker starts from."""
    return f"{usage}_{ruleset}/common.yaml"


# --- compiled rules -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Snippet:
    """One code snippet from a rule, compiled once. ``error`` is raised where the official
    checker's ``eval``/``exec`` of the source would raise (not a string, syntax error)."""

    source: str
    code: CodeType | None
    error: BaseException | None = None  # set exactly when code is None

    def compile_error(self) -> BaseException:
        """What running the snippet raises when it did not compile (``code`` is None)."""
        assert self.error is not None
        return self.error


def _snippet(raw: Any, mode: str, where: str) -> Snippet:
    try:
        text = raw.strip()  # the official checker evaluates raw.strip()
        return Snippet(str(raw), compile(text, where, mode, dont_inherit=True))
    except Exception as exc:  # mirrors eval(raw.strip()) raising at run time
        return Snippet(str(raw), None, exc)


def _snippets(raw: Any, where: str) -> tuple[Snippet, ...]:
    tests = raw if type(raw) is list else [raw]
    return tuple(_snippet(t, "eval", where) for t in tests)


@dataclass(slots=True)
class KeyRule:
    name: str
    raw: dict[str, Any]
    pre: Snippet | None
    checks: tuple[Snippet, ...] | None
    post: Snippet | None
    first_check: tuple[Snippet, ...] | None
    at_least_one_check: Snippet | None
    # 'submission_' keys run PRE/CHECK/POST on their first occurrence only (mlp_compliance.py)
    once: bool
    exactly_one: bool


@dataclass(slots=True)
class Config:
    """One YAML rule file, ready to run. ``load_error`` is set when the official checker would
    crash on the file's structure (it asserts and indexes without guarding)."""

    name: str
    path: Path | None
    empty: bool = False
    begin: Snippet | None = None
    begin_uses_loglines: bool = False
    key_rules: dict[Any, KeyRule] = field(default_factory=dict)
    end_pre: Snippet | None = None
    end_checks: tuple[Snippet, ...] | None = None
    load_error: BaseException | None = None
    missing: bool = False


def _names_used(code: CodeType) -> set[str]:
    names = set(code.co_names) | set(code.co_varnames)
    for const in code.co_consts:
        if isinstance(const, CodeType):
            names |= _names_used(const)
    return names


def resolve_config(name: Any) -> Path | None:
    """Where the official checker would look for config ``name``, if that is inside the rule folder."""
    if not isinstance(name, str) or "\x00" in name:
        return None
    root = rules_root()
    candidate = Path(os.path.realpath(os.path.join(root, name)))
    try:
        candidate.relative_to(root)
    except ValueError:
        return None  # outside the pinned rules: never read it
    return candidate


@functools.cache
def load_config(name: str) -> Config:
    """The config the official checker would open for ``name`` (cached per process)."""
    path = resolve_config(name)
    if path is None or not path.exists():
        return Config(name=name, path=None, missing=True)
    return load_config_file(path, name)


# The official checker's BaseLoader (every scalar a string); its libyaml build where PyYAML has
# one, about ten times faster and the same result (tests/compliance/test_rules_source.py compares
# the two on every shipped rule file).
YAML_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


def load_config_file(path: Path, name: str) -> Config:
    """Compile one YAML rule file. Only for files of the pinned package (and tests' own rules)."""
    config = Config(name=name, path=path)
    try:
        with open(path, encoding="utf-8") as f:
            checks = yaml.load(f, Loader=YAML_LOADER)  # noqa: S506 - BaseLoader, like the official checker
        if checks is None:
            config.empty = True
            return config
        _compile_config(config, checks, name)
    except Exception as exc:  # the official checker has no guard here: it would crash
        config.load_error = exc
    return config


def _head(block: Any) -> Any:
    return list(block)[0]  # noqa: RUF015 - the official checker's expression, with its failure modes


def _compile_config(config: Config, checks: Any, name: str) -> None:
    begin_blocks = [x for x in checks if _head(x) == "BEGIN"]
    if len(begin_blocks) > 1:  # the official checker asserts
        raise ValueError("more than one BEGIN block")
    if begin_blocks:
        config.begin = _snippet(begin_blocks[0]["BEGIN"]["CODE"], "exec", f"{name}:BEGIN")
        if config.begin.code is not None:
            config.begin_uses_loglines = "loglines" in _names_used(config.begin.code)
    for k in checks:
        if _head(k) != "KEY":
            continue
        raw = k["KEY"]
        key = raw["NAME"]
        where = f"{name}:{key}"
        config.key_rules[key] = KeyRule(
            name=key,
            raw=raw,
            pre=_snippet(raw["PRE"], "exec", where) if "PRE" in raw else None,
            checks=_snippets(raw["CHECK"], where) if "CHECK" in raw else None,
            post=_snippet(raw["POST"], "exec", where) if "POST" in raw else None,
            first_check=_snippets(raw["FIRST_CHECK"], where) if "FIRST_CHECK" in raw else None,
            at_least_one_check=_snippet(raw["ATLEAST_ONE_CHECK"], "eval", where)
            if "ATLEAST_ONE_CHECK" in raw
            else None,
            once="submission_" in key,
            exactly_one=raw.get("REQ") == "EXACTLY_ONE",
        )
    end_blocks = [x for x in checks if _head(x) == "END"]
    if len(end_blocks) > 1:
        raise ValueError("more than one END block")
    if end_blocks:
        end = end_blocks[0]["END"]
        if "PRE" in end:
            config.end_pre = _snippet(end["PRE"], "exec", f"{name}:END")
        if "CHECK" in end:
            config.end_checks = _snippets(end["CHECK"], f"{name}:END")
