"""Publication of a round's results, corrections and the tie-break order."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from consortium.audit.services import audit_record
from consortium.members.models import User
from submissions import selectors as submission_selectors
from submissions import services as submission_services
from submissions.models import InferenceScore, Score, Submission, SubmissionVersion
from submissions.results.services import published_details_record
from submissions.review import permissions
from submissions.review.models import (
    Correction,
    Objection,
    Outcome,
    Publication,
    PublishedResult,
    PublishedScore,
    RoundReview,
    Vote,
)
from submissions.review.systems import system_facts
from workinggroups import schedules
from workinggroups import selectors as rounds
from workinggroups.models import Round

# ---------------------------------------------------------------- publication


def record_version(round: Round) -> str:
    """The prefix of the round's result IDs: "5.1" for "Training v5.1", "inference-5.1" for "Inference
    v5.1" (result IDs are unique across suites), the round's slug when another round has the prefix."""
    found = re.search(r"v?(\d+(?:\.\d+)+)", round.name) or re.search(r"(\d+(?:[.-]\d+)+)", round.slug)
    if not found:
        return round.slug
    prefix = found.group(1).replace("-", ".")
    if round.suite != Round.Suite.TRAINING:
        prefix = f"{round.suite}-{prefix}"
    if Publication.objects.filter(record_version=prefix).exclude(round=round).exists():
        return round.slug
    return prefix


def _system_descriptions(version: SubmissionVersion) -> tuple[str, dict[str, dict[str, Any]]]:
    root = submission_services.version_package_root(version)
    if root is None:
        return "", {}
    descs = {}
    for path in sorted((root / "systems").glob("*.json")) if (root / "systems").is_dir() else []:
        try:
            descs[path.stem] = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            descs[path.stem] = {}
    return root.name, descs


def publishable_versions(round: Round) -> list[SubmissionVersion]:
    """The counting version of every submission that is not withdrawn and whose checks passed."""
    out = []
    for submission in Submission.objects.filter(round=round, withdrawal__isnull=True).select_related("organisation"):
        version = submission_selectors.official_version(submission)
        if version is not None and version.verdict == SubmissionVersion.Verdict.PASSED:
            out.append(version)
    return out


def publication_waits_for(round: Round) -> list[SubmissionVersion]:
    """Counting versions whose checks are still running: publication waits for them."""
    out = []
    for submission in Submission.objects.filter(round=round, withdrawal__isnull=True):
        version = submission_selectors.official_version(submission)
        if version is not None and version.verdict == SubmissionVersion.Verdict.PENDING:
            out.append(version)
    return out


def round_publish(*, round: Round, actor: User | None = None, at: dt.datetime | None = None) -> Publication | None:
    """Freeze the round: each counting version's systems become published results with stable IDs
    (<record version>-NNNN, in the order division, organisation, system). Run twice, publishes once.
    While a counting version's checks still run, nothing is published (None): the next run tries again."""
    at = at or timezone.now()
    with transaction.atomic():
        locked = Round.objects.select_for_update().get(pk=round.pk)
        existing = Publication.objects.filter(round=locked).first()
        if existing is not None:
            return existing
        if publication_waits_for(locked):
            return None
        prefix = record_version(locked)
        phase = rounds.round_phase(locked, schedules.PUBLICATION)
        moment = phase.starts_at if phase is not None and phase.starts_at <= at else at
        rows = []
        for version in publishable_versions(locked):
            submission = version.submission
            folder, descs = _system_descriptions(version)
            decided = set(
                Objection.objects.filter(submission=submission, state__in=["decided", "closed"]).values_list(
                    "outcome", flat=True
                )
            )
            scores: dict[str, list[Score | InferenceScore]] = {}
            found: list[Score | InferenceScore] = [*version.scores.all(), *version.inference_scores.all()]
            for score in found:
                scores.setdefault(score.system, []).append(score)
            for system, items in scores.items():
                facts = system_facts(descs.get(system, {}))
                # The engine's summarizer columns, where its scores check recorded them (the one source).
                engine = next((i for i in items if isinstance(i, Score) and i.system_name), None)
                if engine is not None:
                    facts.update(
                        system_name=engine.system_name,
                        accelerator=engine.accelerator,
                        accelerator_count=engine.accelerator_count,
                    )
                facts["division"] = facts["division"] or submission.division
                if isinstance(items[0], InferenceScore):  # checked as the division's folder it was uploaded to
                    facts["division"] = items[0].division or submission.division
                if Outcome.MOVED_OPEN in decided:
                    facts["division"] = Submission.Division.OPEN
                if Outcome.MOVED_PREVIEW in decided:
                    facts["availability"] = Submission.Category.PREVIEW.label
                facts["availability"] = facts["availability"] or submission.get_category_display()
                rows.append(
                    (submission, version, folder or submission.organisation.results_folder, system, facts, items)
                )
        rows.sort(key=lambda r: (r[4]["division"], r[0].organisation.name.casefold(), r[3]))
        publication = Publication.objects.create(
            round=locked, published_at=moment, frozen_at=at, run_by=actor, record_version=prefix, result_count=len(rows)
        )
        for n, (submission, version, folder, system, facts, items) in enumerate(rows, 1):
            result = PublishedResult.objects.create(
                round=locked,
                result_id=f"{prefix}-{n:04d}",
                position=n,
                submission=submission,
                version=version,
                version_sha256=version.sha256,
                organisation=submission.organisation,
                organisation_name=submission.organisation.name,
                submitter_folder=folder,
                system=system,
                published_at=moment,
                **facts,
            )
            PublishedScore.objects.bulk_create(published_score(result, s) for s in items)
        published_details_record(round=locked)  # the explorer's details (submissions/results/)
        Objection.objects.filter(round=locked, state__in=Objection.OPEN_STATES).update(
            state=Objection.State.CLOSED, closed_at=at
        )
        audit_record(
            actor=actor,
            action="review.round_published",
            target=locked,
            data={"results": len(rows), "first": f"{prefix}-0001" if rows else None},
        )
    return publication


def published_score(result: PublishedResult, score: Score | InferenceScore) -> PublishedScore:
    """The published record's row of a score: a training or HPC time to train in minutes; an
    inference score with its units, under the benchmark ``<model>/<scenario>``."""
    if isinstance(score, InferenceScore):
        return PublishedScore(result=result, benchmark=score.benchmark[:100], score=score.value, units=score.units)
    return PublishedScore(result=result, benchmark=score.benchmark, scaling=score.scaling, score=score.minutes)


def rounds_publish_due(*, at: dt.datetime | None = None) -> list[Publication]:
    """Beat: publish every round whose publication moment has passed and that is not yet published."""
    at = at or timezone.now()
    due = Round.objects.filter(
        published=True, phases__kind=schedules.PUBLICATION, phases__starts_at__lte=at, publication__isnull=True
    ).distinct()
    published = [round_publish(round=r, at=at) for r in due]
    return [p for p in published if p is not None]


CORRECTABLE = ("system_name", "accelerator", "accelerator_count", "nodes", "framework", "availability", "division")


@transaction.atomic
def result_correct(
    *, actor: User, result: PublishedResult, field: str, new_value: str, reason: str, at: dt.datetime | None = None
) -> Correction:
    """A recorded change to a published result (a field, or "score:<benchmark>"); the ID stays."""
    at = at or timezone.now()
    if not permissions.is_review_chair(actor, result.round):
        raise PermissionDenied("Only the round's chairs and staff correct published results.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the published result is corrected."})
    result = PublishedResult.objects.select_for_update().get(pk=result.pk)
    if field.startswith("score:"):
        score = result.scores.filter(benchmark=field.removeprefix("score:"), scaling="strong").first()
        if score is None:
            raise ValidationError({"field": f"{result.result_id} has no score for {field.removeprefix('score:')}."})
        try:
            value: Any = float(new_value)
        except ValueError:
            raise ValidationError({"new_value": "A score is a number of minutes."}) from None
        old = score.score
        PublishedScore.objects.filter(pk=score.pk).update(score=value)
    elif field in CORRECTABLE:
        old = getattr(result, field)
        value = new_value
        if field in ("accelerator_count", "nodes"):
            try:
                value = int(new_value)
            except ValueError:
                raise ValidationError({"new_value": f"{field} is a whole number."}) from None
        PublishedResult.objects.filter(pk=result.pk).update(**{field: value})
    else:
        raise ValidationError({"field": f"Correct one of: {', '.join(CORRECTABLE)}, or score:<benchmark>."})
    correction = Correction.objects.create(
        result=result,
        field=field,
        old_value=str(old),
        new_value=str(value),
        reason=reason.strip(),
        corrected_by=actor,
        corrected_at=at,
    )
    audit_record(
        actor=actor,
        action="review.result_corrected",
        target=result,
        reason=reason,
        data={"field": field, "old": str(old), "new": str(value)},
    )
    return correction


@transaction.atomic
def round_tie_break_set(*, actor: User, round: Round, order: Sequence[str]) -> RoundReview:
    """The round's fixed tie-break order of outcomes, set by the chairs before the first vote; once a
    vote has opened it is fixed (each vote also keeps the order it opened with)."""
    if not permissions.is_review_chair(actor, round):
        raise PermissionDenied("Only the round's chairs and staff set the tie-break order.")
    if Vote.objects.filter(round=round).exists():
        raise PermissionDenied("A vote has opened in this round: its tie-break order is fixed.")
    cleaned = [o.strip() for o in order if o.strip()]
    unknown = [o for o in cleaned if o not in Outcome.values]
    if unknown or not cleaned or len(set(cleaned)) != len(cleaned):
        raise ValidationError(
            {
                "order": f"List each outcome once, first wins, from: {', '.join(Outcome.values)}."
                + (f" Unknown: {', '.join(unknown)}." if unknown else "")
            }
        )
    review, _ = RoundReview.objects.select_for_update().get_or_create(round=round)
    old = review.tie_break_order
    review.tie_break_order = cleaned
    review.save(update_fields=["tie_break_order"])
    audit_record(actor=actor, action="review.tie_break_set", target=round, data={"old": old, "new": cleaned})
    return review
