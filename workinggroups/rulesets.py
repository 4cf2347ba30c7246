"""Which `mlperf-logging` rulesets exist and which benchmarks each allows.

A small pure module (no Django) that reads the pinned official package. It is the one place the
working-groups app asks, so it can later be swapped for the compliance engine's API
(`submissions/compliance/`) without touching models, forms or views.

- The rulesets of a suite are the rule folders the package ships, e.g.
  `mlperf_logging/compliance_checker/training_6.1.0/` → ruleset `"6.1.0"` of suite `"training"`.
- The benchmarks of a ruleset come from `mlperf_logging.benchmark_meta` (the same table the
  official package checker uses; it also accepts the short form `"6.1"`).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

# Suites whose results the pinned package can check, and the inference suite, which the compliance
# engine's inference checker checks (its rulesets are its rule data: submissions/compliance/inference/
# rulesets/<version>.json). Other suites (tiny, …) have a schedule in the portal but no ruleset yet.
LOGGING_SUITES = ("training", "hpc")
INFERENCE = "inference"
CHECKED_SUITES = (*LOGGING_SUITES, INFERENCE)
# Suites whose rounds may also run without a ruleset (only the generic checks then).
RULESET_OPTIONAL = (INFERENCE,)
_FOLDER = re.compile(r"^(?P<suite>[a-z]+)_(?P<version>\d+\.\d+\.\d+)$")


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@functools.cache
def _rule_folders() -> dict[str, tuple[str, ...]]:
    try:
        from mlperf_logging import compliance_checker
    except ImportError:  # the package is pinned in requirements.txt; be explicit if it is missing
        return {}
    root = Path(compliance_checker.__file__).parent
    found: dict[str, list[str]] = {}
    for child in root.iterdir():
        match = _FOLDER.match(child.name)
        if child.is_dir() and match and match["suite"] in LOGGING_SUITES:
            found.setdefault(match["suite"], []).append(match["version"])
    return {suite: tuple(sorted(versions, key=_version_key)) for suite, versions in found.items()}


def available_rulesets(suite: str) -> list[str]:
    """The ruleset versions the pinned package ships for `suite` (for inference: the inference
    checker's), oldest first; [] for other suites."""
    if suite == INFERENCE:
        from submissions.compliance.inference.ruleset import available_inference_rulesets

        return sorted(available_inference_rulesets(), key=_version_key)
    return list(_rule_folders().get(suite, ()))


def checker_name(suite: str) -> str:
    """What checks a suite's results, for messages."""
    return "The inference checker" if suite == INFERENCE else "The pinned mlperf-logging package"


def allowed_benchmarks(suite: str, ruleset: str) -> list[str]:
    """The benchmarks `ruleset` of `suite` allows, in the package's order, without duplicates.

    Raises ValueError for a suite without rulesets or a ruleset the package does not ship.
    """
    if ruleset not in available_rulesets(suite):
        shipped = ", ".join(available_rulesets(suite)) or "none"
        raise ValueError(f"{checker_name(suite)} has no {suite} ruleset {ruleset!r} (it ships: {shipped}).")
    if suite == INFERENCE:  # the models of the round
        from submissions.compliance.inference.ruleset import load_ruleset

        return list(load_ruleset(ruleset)["models"])
    from mlperf_logging.benchmark_meta import get_allowed_benchmarks

    try:
        benchmarks = get_allowed_benchmarks(suite, ruleset)
    except ValueError:
        return []
    return list(dict.fromkeys(benchmarks))


def latest_ruleset(suite: str) -> str:
    """The newest ruleset of `suite`, or "" when the suite has none."""
    rulesets = available_rulesets(suite)
    return rulesets[-1] if rulesets else ""
