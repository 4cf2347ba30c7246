"""Findings and reports: the engine's output, and the JSON shape that later code consumes.

A finding's ``check`` is a stable id (documented in docs/compliance.md); the message is for humans
and may change. Severities:

* ``error``: the official tools would reject (or crash on) this input; a file or package with an
  error finding has the verdict ``fail``;
* ``warning``: the official tools log a warning and accept;
* ``advisory``: something the official tools let through; never changes a verdict.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "advisory"]
Verdict = Literal["pass", "fail"]

ERROR: Severity = "error"
WARNING: Severity = "warning"
ADVISORY: Severity = "advisory"


class Check:
    """Stable finding ids. Grouped by where they come from."""

    # reading the log
    LOG_UNREADABLE = "log.unreadable"
    LOG_LINE_TOO_LONG = "log.line_too_long"
    LOG_PARSE_ERROR = "log.parse_error"
    LOG_MALFORMED_RECORD = "log.malformed_record"
    LOG_NO_RECORDS = "log.no_records"
    # the official YAML rules
    RULE_CHECK = "rule.check"
    RULE_CHECK_ERROR = "rule.check_error"
    RULE_CODE_ERROR = "rule.code_error"
    RULE_AT_LEAST_ONE_CHECK = "rule.at_least_one_check"
    RULE_EXACTLY_ONE = "rule.exactly_one"
    RULE_DUPLICATE = "rule.duplicate"
    RULE_AT_LEAST = "rule.at_least"
    RULE_ONE_OF = "rule.one_of"
    RULE_END_CHECK = "rule.end_check"
    RULE_CONFIG_MISSING = "rule.config_missing"
    RULE_CRASH = "rule.crash"
    # system descriptions
    SYSTEM_UNREADABLE = "system.unreadable"
    SYSTEM_MISSING_FIELD = "system.missing_field"
    SYSTEM_STATUS = "system.status"
    SYSTEM_INVALID = "system.invalid"
    # the package as a whole
    PACKAGE_LAYOUT = "package.layout"
    PACKAGE_SYSTEM_MISSING = "package.system_description_missing"
    PACKAGE_BENCHMARK_NOT_ALLOWED = "package.benchmark_not_allowed"
    PACKAGE_RESULT_COUNT = "package.result_count"
    PACKAGE_UNKNOWN_FILES = "package.unknown_files"
    PACKAGE_NONCOMPLIANT_ACCEPTED = "package.noncompliant_accepted"
    PACKAGE_NONCOMPLIANT_RUNS = "package.noncompliant_runs"
    PACKAGE_SEEDS = "package.seeds"
    PACKAGE_RCP = "package.rcp"
    PACKAGE_RCP_BYPASSED = "package.rcp_bypassed"
    PACKAGE_POWER = "package.power"
    PACKAGE_SYMLINK = "package.symlink_outside"
    PACKAGE_CRASH = "package.crash"
    # the engine itself failed (a bug): the check fails, with the reason
    ENGINE_ERROR = "engine.error"
    # advisories: what the official tools let through
    ADVISORY_RUN_STOP_BEFORE_START = "advisory.run_stop_before_start"
    ADVISORY_RUN_STOP_STATUS = "advisory.run_stop_status"
    ADVISORY_TIME_BACKWARDS = "advisory.time_backwards"
    ADVISORY_SUBMISSION_ORG = "advisory.submission_org"
    ADVISORY_RESULT_NAME = "advisory.result_name"
    ADVISORY_NO_WEAK_SCORE = "advisory.no_weak_scaling_score"
    ADVISORY_NO_SCORE = "advisory.no_score"


@dataclass(frozen=True, slots=True)
class Finding:
    severity: Severity
    check: str
    message: str
    key: str | None = None
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "check": self.check,
            "key": self.key,
            "line": self.line,
            "message": self.message,
        }


def verdict_of(findings: Iterable[Any]) -> Verdict:
    """A fail when any finding (the engine's or the inference checker's) is an error, else a pass."""
    return "fail" if any(f.severity == ERROR for f in findings) else "pass"


@dataclass(slots=True)
class FileReport:
    """The verdict on one result file. ``path`` is as given (or relative to its package)."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    # True where the official checker would raise instead of giving a verdict.
    official_crash: bool = False

    @property
    def verdict(self) -> Verdict:
        return verdict_of(self.findings)

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "verdict": self.verdict,
            "findings": [f.to_dict() for f in self.findings],
        }


Scaling = Literal["strong", "weak"]


@dataclass(frozen=True, slots=True)
class Score:
    """A score as the official result summarizer computes it.

    Strong scaling (training, hpc ``strong/``): ``minutes`` is the olympic mean time to train.
    HPC weak scaling (``scaling == "weak"``): ``minutes`` is the time to train all models,
    ``number_of_models`` the converging runs counted and ``instance_scale`` the accelerators
    per model (null when no counted run logs a usable scale), the summarizer's
    ``time_to_train_all``, ``number_of_models`` and ``instance_scale``. ``system_name``,
    ``accelerator`` and ``accelerator_count`` are the summarizer's system columns."""

    system: str
    benchmark: str
    minutes: float
    scaling: Scaling = "strong"
    number_of_models: int | None = None
    instance_scale: int | None = None
    # the summarizer's system columns, from systems/<system>.json
    system_name: str = ""
    accelerator: str = ""
    accelerator_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "system": self.system,
            "benchmark": self.benchmark,
            "minutes": self.minutes,
            "system_name": self.system_name,
            "accelerator": self.accelerator,
            "accelerator_count": self.accelerator_count,
        }
        if self.scaling == "weak":
            out["scaling"] = "weak"
            out["number_of_models"] = self.number_of_models
            out["instance_scale"] = self.instance_scale
        return out


@dataclass(slots=True)
class PackageReport:
    path: str
    submitter: str
    findings: list[Finding] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)
    scores: list[Score] = field(default_factory=list)
    official_crash: bool = False

    @property
    def verdict(self) -> Verdict:
        return verdict_of(self.findings)

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "submitter": self.submitter,
            "verdict": self.verdict,
            "findings": [f.to_dict() for f in self.findings],
            "files": [f.to_dict() for f in self.files],
            "scores": [s.to_dict() for s in self.scores],
        }
