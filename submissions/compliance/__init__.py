"""The MLPerf compliance engine: the official MLPerf rules, with the official checker's verdicts.

A pure Python package (no Django), used by the Celery checks and as a command::

    python -m submissions.compliance --ruleset 5.1.0 [--usage training|hpc] PATH [PATH ...]

The library API (documented in docs/compliance.md)::

    check_file(path, usage, ruleset) -> FileReport
    check_package(path, usage, ruleset, jobs=1, progress=None) -> PackageReport
    check_systems(path, usage, ruleset) -> list[Finding]
    check_paths(paths, usage, ruleset, jobs=1) -> Report
    usages() -> list[str]                      # the suites it checks: ['hpc', 'inference', 'training']
    available_rulesets(usage) -> list[str]     # [] for a suite without rules
    latest_ruleset(usage) -> str               # "" for a suite without rules
    allowed_benchmarks(usage, ruleset) -> list[str]   # RulesetError for an unknown one

These four (catalogue.py) are the ruleset catalogue of the whole portal (working groups ask them too).

Every report has ``to_dict()`` giving the JSON document the command prints.
"""

from .api import ENGINE_NAME, ENGINE_VERSION, Report, check_paths, engine_id, rules_id
from .catalogue import RULESET_OPTIONAL, allowed_benchmarks, available_rulesets, checker_name, latest_ruleset, usages
from .engine import check_file
from .findings import ADVISORY, ERROR, WARNING, Check, FileReport, Finding, PackageReport, Score
from .package import check_package, check_systems, is_package
from .rules import RulesetError

__all__ = [
    "ADVISORY",
    "ENGINE_NAME",
    "ENGINE_VERSION",
    "ERROR",
    "RULESET_OPTIONAL",
    "WARNING",
    "Check",
    "FileReport",
    "Finding",
    "PackageReport",
    "Report",
    "RulesetError",
    "Score",
    "allowed_benchmarks",
    "available_rulesets",
    "check_file",
    "check_package",
    "check_paths",
    "check_systems",
    "checker_name",
    "engine_id",
    "is_package",
    "latest_ruleset",
    "rules_id",
    "usages",
]
