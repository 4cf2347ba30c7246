"""Review assignments: made for a round, marked done."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from consortium.audit.services import audit_record
from consortium.members.models import Organisation, User
from submissions import selectors as submission_selectors
from submissions.models import InferenceScore, Score, Submission
from submissions.review import pairing, permissions
from submissions.review.models import (
    ReviewAssignment,
)
from workinggroups.models import Round

# ---------------------------------------------------------------- review assignments


def round_result_counts(round: Round) -> dict[int, int]:
    """Results (scored system × benchmark) of each submitting organisation's counting versions."""
    counts: dict[int, int] = {}
    for submission in Submission.objects.filter(round=round, versions__in_time=True).distinct():
        version = submission_selectors.official_version(submission)
        n = Score.objects.filter(version=version).count() if version else 0
        n += InferenceScore.objects.filter(version=version).count() if version else 0
        counts[submission.organisation_id] = counts.get(submission.organisation_id, 0) + n
    return counts


@transaction.atomic
def review_assignments_make(*, actor: User, round: Round, at: dt.datetime | None = None) -> list[ReviewAssignment]:
    """Pair the submitting organisations by result count (MLPerf's required reviews). Existing
    assignments are kept; only missing pairs are added, so running it twice adds nothing."""
    at = at or timezone.now()
    if not permissions.is_review_chair(actor, round):
        raise PermissionDenied("Only the round's chairs and staff assign reviews.")
    counts = round_result_counts(round)
    names = dict(Organisation.objects.filter(pk__in=counts).values_list("pk", "name"))
    by_name = {names[pk]: pk for pk in counts}
    pairs = pairing.review_pairs({names[pk]: n for pk, n in counts.items()})
    created = []
    for reviewer, reviewed in pairs:
        assignment, new = ReviewAssignment.objects.get_or_create(
            round=round, reviewer_id=by_name[reviewer], reviewed_id=by_name[reviewed], defaults={"assigned_at": at}
        )
        if new:
            created.append(assignment)
    audit_record(
        actor=actor,
        action="review.assignments_made",
        target=round,
        data={"pairs": [list(p) for p in pairs], "added": len(created)},
    )
    return created


@transaction.atomic
def review_mark_done(*, actor: User, assignment: ReviewAssignment, at: dt.datetime | None = None) -> ReviewAssignment:
    at = at or timezone.now()
    if not permissions.acts_for(actor, assignment.reviewer) and not permissions.is_review_chair(
        actor, assignment.round
    ):
        raise PermissionDenied("Only the reviewing organisation (or a chair) marks its review done.")
    if assignment.done_at is None:
        ReviewAssignment.objects.filter(pk=assignment.pk, done_at=None).update(done_at=at, done_by=actor)
        assignment.refresh_from_db()
        audit_record(actor=actor, action="review.review_done", target=assignment, organisation=assignment.reviewer)
    return assignment
