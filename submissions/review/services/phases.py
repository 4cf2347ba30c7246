"""The review phases and who hears of a submission's review."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence

from consortium.members.models import Organisation, Person
from submissions.models import Submission
from submissions.notices import submission_mail
from submissions.permissions import can_view_submission
from submissions.review import permissions
from workinggroups import schedules
from workinggroups import selectors as rounds
from workinggroups.models import GroupMembership, Round
from workinggroups.permissions import CHAIR_ROLES

# ---------------------------------------------------------------- phases and notices


def phase_refusal(round: Round, kinds: Sequence[str], action: str, at: dt.datetime) -> str | None:
    """Why `action` is not possible now: the round is not in one of the phases `kinds`."""
    current = rounds.round_current_phase(round, at)
    if current is not None and current.kind in kinds:
        return None
    labels = " or ".join(schedules.PHASE_LABELS[k].lower() for k in kinds)
    now_label = current.label.lower() if current else "between phases"
    return f"{action} only during {labels}; {round.name} is {now_label} now."


def review_audience(submission: Submission, organisations: Iterable[Organisation]) -> list[str]:
    """The people to tell about `submission`: those who act for `organisations` and the group's
    chairs, each only if they may see the submission now (the one visibility predicate)."""
    org_ids = {o.pk for o in organisations}
    people = list(
        Person.objects.filter(organisation_id__in=org_ids, roles__role__in=permissions.ACTING_ROLES)
        .select_related("user")
        .distinct()
    )
    chair_ids = GroupMembership.objects.filter(group=submission.round.group, role__in=CHAIR_ROLES).values("person")
    people += list(Person.objects.filter(pk__in=chair_ids).select_related("user"))
    emails: dict[str, None] = {}
    for person in people:
        user = person.user
        if user is not None and user.is_active and can_view_submission(user, submission):
            emails[user.email] = None
    return list(emails)


def _notify(submission: Submission, organisations: Iterable[Organisation], subject: str, body: str) -> None:
    # One message per event: the key is the subject and body, so a repeated call mails nothing new.
    digest = hashlib.sha256(f"{subject}\n{body}".encode()).hexdigest()[:32]
    submission_mail(
        key=f"review:{submission.pk}:{digest}",
        submission=submission,
        recipients=review_audience(submission, organisations),
        subject=subject,
        body=body,
    )
