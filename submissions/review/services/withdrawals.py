"""Withdrawals of a submission during review."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from consortium.audit.services import audit_record
from consortium.members.models import User
from submissions.models import Submission
from submissions.permissions import can_view_submission
from submissions.review import permissions
from submissions.review.models import (
    Publication,
    Withdrawal,
)
from submissions.review.services.phases import _notify
from workinggroups import schedules
from workinggroups import selectors as rounds

# ---------------------------------------------------------------- withdrawals


@transaction.atomic
def submission_withdraw(
    *, actor: User, submission: Submission, reason: str, at: dt.datetime | None = None, ip_address: str | None = None
) -> Withdrawal:
    """Until the revision deadline (MLPerf: the final opportunity to withdraw) the submitter (or a
    chair) withdraws a submission: it is not published. Nothing is deleted."""
    at = at or timezone.now()
    submission = (
        Submission.objects.select_for_update(of=("self",))
        .select_related("round__group", "organisation")
        .get(pk=submission.pk)
    )
    if not can_view_submission(actor, submission, at):
        raise PermissionDenied("No such submission (or you may not see it).")
    if not permissions.can_withdraw(actor, submission):
        raise PermissionDenied(f"Only submitters and primary contacts of {submission.organisation} withdraw it.")
    round = submission.round
    revision = rounds.round_phase(round, schedules.REVISION)
    deadline = revision.ends_at if revision else rounds.round_deadline_with_grace(round)
    if deadline is None or at >= deadline or Publication.objects.filter(round=round).exists():
        when = f" ({deadline:%d %b %Y %H:%M} UTC)" if deadline else ""
        raise PermissionDenied(f"The revision deadline{when} has passed; results can no longer be withdrawn.")
    if Withdrawal.objects.filter(submission=submission).exists():
        raise PermissionDenied("This submission is already withdrawn.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the submission is withdrawn; the review committee sees it."})
    withdrawal = Withdrawal.objects.create(
        submission=submission, reason=reason.strip(), withdrawn_by=actor, withdrawn_at=at
    )
    audit_record(
        actor=actor,
        action="review.submission_withdrawn",
        target=submission,
        organisation=submission.organisation,
        ip_address=ip_address,
        reason=reason,
    )
    _notify(
        submission,
        [submission.organisation],
        f"{submission} withdrawn",
        f"{submission} was withdrawn from {round.name}: {reason.strip()}\n",
    )
    return withdrawal
