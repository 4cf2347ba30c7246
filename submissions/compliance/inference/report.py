"""The inference checker's output: findings naming a file and line, one report per result folder,
one per submitter package, and the JSON document the command prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..findings import Severity, Verdict, verdict_of


@dataclass(frozen=True, slots=True)
class InferenceFinding:
    severity: Severity
    check: str
    message: str
    file: str | None = None
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "check": self.check,
            "file": self.file,
            "line": self.line,
            "message": self.message,
        }


@dataclass(slots=True)
class ResultReport:
    """One result folder ``<division>/<Submitter>/results/<system>/<model>/<scenario>``."""

    path: str
    division: str
    submitter: str
    system: str
    model: str
    scenario: str
    mlperf_model: str | None = None
    score: float | None = None
    units: str | None = None
    accuracy: dict[str, str] = field(default_factory=dict)
    power: dict[str, Any] | None = None
    inferred: bool = False
    findings: list[InferenceFinding] = field(default_factory=list)

    @property
    def verdict(self) -> Verdict:
        return verdict_of(self.findings)

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    def to_dict(self) -> dict[str, Any]:
        passed = self.passed
        return {
            "path": self.path,
            "division": self.division,
            "submitter": self.submitter,
            "system": self.system,
            "model": self.model,
            "mlperf_model": self.mlperf_model,
            "scenario": self.scenario,
            "verdict": self.verdict,
            "score": self.score if passed else None,
            "units": self.units if passed else None,
            "accuracy": self.accuracy,
            "power": self.power if passed else None,
            "inferred": self.inferred,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(slots=True)
class SubmitterReport:
    """A submitter's package ``<division>/<Submitter>``: its own findings (layout, systems,
    required scenarios) and its result folders. It passes when the official checker would end
    with "submission looks OK" for it alone."""

    path: str
    division: str
    submitter: str
    findings: list[InferenceFinding] = field(default_factory=list)
    results: list[ResultReport] = field(default_factory=list)

    @property
    def verdict(self) -> Verdict:
        if verdict_of(self.findings) == "fail" or not all(r.passed for r in self.results):
            return "fail"
        return "pass"

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "division": self.division,
            "submitter": self.submitter,
            "verdict": self.verdict,
            "results_passed": sum(r.passed for r in self.results),
            "results": len(self.results),
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(slots=True)
class InferenceReport:
    ruleset: str
    packages: list[SubmitterReport] = field(default_factory=list)
    # findings about a division folder itself (loose files, an unknown division name)
    findings: list[InferenceFinding] = field(default_factory=list)

    @property
    def results(self) -> list[ResultReport]:
        return [r for p in self.packages for r in p.results]

    @property
    def passed(self) -> bool:
        return verdict_of(self.findings) == "pass" and all(p.passed for p in self.packages)

    def to_dict(self, engine: str) -> dict[str, Any]:
        return {
            "usage": "inference",
            "ruleset": self.ruleset,
            "engine": engine,
            "findings": [f.to_dict() for f in self.findings],
            "results": [r.to_dict() for r in self.results],
            "packages": [p.to_dict() for p in self.packages],
        }
