"""Writes of the results explorer: the details it adds to the published record, filled at
publication from the frozen version (its system description and the engine's run-by-run times; for
inference, each score's accuracy and power)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.db import transaction

from submissions import services as submission_services
from submissions.models import InferenceScore
from submissions.results.models import PublishedResultDetail, PublishedScoreDetail
from submissions.results.runs import benchmark_runs
from submissions.review.models import PublishedResult, PublishedScore
from workinggroups.models import Round

ENGINE_SUITES = ("training", "hpc")


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def host_facts(desc: dict[str, Any]) -> dict[str, Any]:
    """The result summarizer's host columns: host_processor_model_name, and host_processors_per_node
    × number_of_nodes (its host_processors_count)."""
    per_node, nodes = _int(desc.get("host_processors_per_node")), _int(desc.get("number_of_nodes"))
    return {
        "host_processor": str(desc.get("host_processor_model_name", "") or "")[:300],
        "host_processor_count": per_node * nodes if per_node is not None and nodes is not None else None,
    }


def _description(root: Path | None, system: str) -> dict[str, Any]:
    path = root / "systems" / f"{system}.json" if root is not None else None
    if path is None or not path.is_file():
        return {}
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _model_scenario(suite: str, benchmark: str) -> tuple[str, str]:
    if suite == "inference" and "/" in benchmark:
        model, scenario = benchmark.split("/", 1)
        return model, scenario
    return benchmark, ""


def _inference_scores(round: Round) -> dict[tuple[int, str, str], InferenceScore]:
    """The inference scores behind a round's published scores, by (version, system, benchmark)."""
    if round.suite != "inference":
        return {}
    versions = PublishedResult.objects.filter(round=round).values("version_id")
    return {(s.version_id, s.system, s.benchmark[:100]): s for s in InferenceScore.objects.filter(version__in=versions)}


@transaction.atomic
def published_details_record(*, round: Round) -> int:
    """The details of every published result of `round` that has none yet (safe to run again: what
    exists is kept). Returns how many results got details."""
    results = list(
        PublishedResult.objects.filter(round=round, detail__isnull=True).select_related("version").order_by("position")
    )
    scores = PublishedScore.objects.filter(result__round=round, detail__isnull=True).select_related("result__version")
    roots: dict[int, Path | None] = {}

    def root_of(result: PublishedResult) -> Path | None:
        if result.version_id not in roots:
            roots[result.version_id] = submission_services.version_package_root(result.version)
        return roots[result.version_id]

    result_details = []
    for r in results:
        desc = _description(root_of(r), r.system)
        result_details.append(PublishedResultDetail(result=r, suite=round.suite, description=desc, **host_facts(desc)))
    PublishedResultDetail.objects.bulk_create(result_details)
    inference = _inference_scores(round)
    details = []
    for s in scores:
        runs: list[dict[str, Any]] = []
        root = root_of(s.result)
        if root is not None and round.suite in ENGINE_SUITES and round.ruleset and s.scaling == "strong":
            folder = root / "results" / s.result.system / s.benchmark
            if folder.is_dir():
                runs = [r.to_dict() for r in benchmark_runs(folder, s.benchmark, round.suite, round.ruleset)]
        model, scenario = _model_scenario(round.suite, s.benchmark)
        measured = inference.get((s.result.version_id, s.result.system, s.benchmark))
        extra = {} if measured is None else {
            "model": measured.model, "scenario": measured.scenario, "accuracy": measured.accuracy,
            "accuracy_metric": measured.accuracy_metric, "power": measured.power, "power_units": measured.power_units,
        }  # fmt: skip
        details.append(PublishedScoreDetail(score=s, **{"model": model, "scenario": scenario, "runs": runs, **extra}))
    PublishedScoreDetail.objects.bulk_create(details)
    return len(results)
