"""The ruleset catalogue of the whole portal: which suites the engine checks, which rulesets each
has and which benchmarks (models, for inference) a ruleset allows. Training and HPC rulesets are the
rule folders of the pinned mlperf-logging package (``rules.py``); inference rulesets are the inference
checker's rule data (``inference/rulesets/<version>.json``). Working groups ask this module, so the
portal has one answer."""

from __future__ import annotations

from . import rules
from .inference.ruleset import available_inference_rulesets, load_ruleset

INFERENCE = "inference"
# Suites whose rounds may run without a ruleset (only the generic checks then).
RULESET_OPTIONAL = (INFERENCE,)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def usages() -> list[str]:
    """Every suite the engine checks: ``['hpc', 'inference', 'training']``."""
    return sorted({*rules.usages(), INFERENCE})


def available_rulesets(usage: str) -> list[str]:
    """The ruleset versions of ``usage``, oldest first; [] for a suite without rulesets."""
    if usage == INFERENCE:
        return sorted(available_inference_rulesets(), key=_version_key)
    return rules.available_rulesets(usage)


def latest_ruleset(usage: str) -> str:
    """The newest ruleset of ``usage``, or "" for a suite without rulesets."""
    shipped = available_rulesets(usage)
    return shipped[-1] if shipped else ""


def allowed_benchmarks(usage: str, ruleset: str) -> list[str]:
    """The benchmarks (inference: models) ``ruleset`` allows; RulesetError for an unknown one."""
    if usage == INFERENCE:
        return list(load_ruleset(ruleset).data["models"])
    return rules.allowed_benchmarks(usage, ruleset)


def checker_name(usage: str) -> str:
    """What checks a suite's results, for messages."""
    return "The inference checker" if usage == INFERENCE else "The pinned mlperf-logging package"
