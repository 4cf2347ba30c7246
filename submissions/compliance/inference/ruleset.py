"""Per-version rule data for the inference checker: ``rulesets/<version>.json`` beside this file.

A new round is a new JSON file (copy the last one, change what the round changed); the checker's
code reads every number, list and file name from here. ``Ruleset`` is a thin typed view over it
with the few look-ups the official checker's configuration makes (model-name resolution, the
scenarios a system type requires, the accuracy targets)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ..rules import RulesetError

RULESET_DIR = Path(__file__).with_name("rulesets")


@dataclass(frozen=True, slots=True)
class Target:
    """One accuracy metric bound: ``value`` is the number compared with, as the official
    checker computes it (reference, less ``minus``, times ``factor``)."""

    metric: str
    value: float


def _targets(items: list[dict[str, Any]]) -> tuple[Target, ...]:
    out = []
    for t in items:
        value = t["reference"]
        if "minus" in t:
            value = value - t["minus"]
        if "factor" in t:
            value = value * t["factor"]
        out.append(Target(t["metric"], value))
    return tuple(out)


@dataclass(frozen=True)
class Ruleset:
    name: str
    data: dict[str, Any]
    patterns: dict[str, re.Pattern[str]] = field(default_factory=dict)
    targets: dict[str, tuple[Target, ...]] = field(default_factory=dict)
    upper_limits: dict[str, tuple[Target, ...]] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    @property
    def version(self) -> str:
        return str(self.data["version"])

    def resolve_model(self, model: str, extra_mapping: dict[str, Any] | None = None) -> str:
        """The official model a result folder's model name stands for (unknown names come back
        unchanged): the official name itself, the round's mapping, the submitter's
        ``model_mapping.json`` (open division), then the checker's substring guesses."""
        if model in self.data["models"]:
            return model
        mapping = self.data["model_mapping"]
        if mapping.get(model):
            return str(mapping[model])
        if extra_mapping is not None:
            extra: str | None = extra_mapping.get(model)
            if extra:
                return extra
        guessed = model
        for guess in self.data["model_guesses"]:
            if any(s in model for s in guess["contains"]):
                guessed = guess["model"]
                break
        return str(mapping.get(guessed, guessed))

    def system_type_key(self, system_type: Any) -> str | None:
        if not isinstance(system_type, str):
            return None
        key: str | None = self.data["system_types"].get(system_type)
        return key

    def required_scenarios(self, system_type: str, model: str) -> set[str] | None:
        table = self.data["required_scenarios"][system_type]
        model = self.resolve_model(model)
        return set(table[model]) if model in table else None

    def optional_scenarios(self, system_type: str, model: str) -> set[str]:
        table = self.data["optional_scenarios"][system_type]
        model = self.resolve_model(model)
        return set(table.get(model, ()))

    def compliance_tests(self, model: str) -> list[str]:
        tests = self.data["compliance_tests"]
        return list(tests["per_model"].get(model, tests["default"]))

    def delta_percent(self, model: str, metric: str) -> float:
        spec = self.data["compliance_accuracy_delta_percent"]
        per_model = spec["per_model"].get(model, {})
        if metric in per_model:
            return float(per_model[metric])
        if spec["high_accuracy_marker"] in model:
            return float(spec["high_accuracy_default"])
        return float(spec["default"])

    def unit(self, model: str, scenario: str) -> str | None:
        units = self.data["units"]
        unit: str | None = units["per_model"].get(model, {}).get(scenario, units["default"].get(scenario))
        return unit


def available_inference_rulesets() -> list[str]:
    return sorted(p.stem for p in RULESET_DIR.glob("*.json"))


@cache
def ruleset_digest(name: str) -> str:
    """The SHA-256 of a ruleset's data (a changed rule file is another ruleset); RulesetError for an
    unknown one."""
    data = load_ruleset(name).data
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


@cache
def load_ruleset(name: str) -> Ruleset:
    path = RULESET_DIR / f"{name}.json"
    if not path.is_file():
        raise RulesetError(
            f"unknown ruleset {name!r} for inference; expected one of {', '.join(available_inference_rulesets())}"
        )
    data = json.loads(path.read_text(encoding="utf-8"))
    return Ruleset(
        name=name,
        data=data,
        patterns={k: re.compile(v) for k, v in data["accuracy_patterns"].items()},
        targets={m: _targets(v) for m, v in data["accuracy_targets"].items()},
        upper_limits={m: _targets(v) for m, v in data["accuracy_upper_limits"].items()},
    )


def inference_rules_id(ruleset: str | None) -> str:
    """The rules behind an inference report: the ruleset file, named by its content."""
    rules = "MLPerf Inference submission checker rules"
    return f"{rules} {ruleset} (sha256 {ruleset_digest(ruleset)[:12]})" if ruleset else rules
