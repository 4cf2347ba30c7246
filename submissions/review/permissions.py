"""Who may take part in a round's review. Plain predicates, used by views, API, services, templates.

Seeing submissions is `submissions.permissions.can_view_submission` (the one predicate); these build
on it for what the review adds."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from consortium.members.models import Organisation, OrganisationRole
from consortium.members.permissions import Viewer, is_staff_admin, person_of
from submissions.models import Submission
from submissions.permissions import _after_deadline, can_view_submission, organisation_submitted_to
from submissions.review.models import Objection, Vote
from workinggroups.models import Round
from workinggroups.permissions import is_chair

ACTING_ROLES = (OrganisationRole.Role.SUBMITTER, OrganisationRole.Role.PRIMARY_CONTACT)


def organisation_of(user: Viewer) -> Organisation | None:
    person = person_of(user)
    return person.organisation if person is not None and person.is_approved_member else None


def acts_for(user: Viewer, organisation: Organisation) -> bool:
    """Submitters and primary contacts act for their organisation in the review (one query)."""
    person = person_of(user)
    if person is None or person.organisation_id != organisation.pk or not person.is_approved_member:
        return False
    return person.roles.filter(organisation=organisation, role__in=ACTING_ROLES).exists()


def is_review_chair(user: Viewer, round: Round) -> bool:
    return is_staff_admin(user) or is_chair(user, round.group)


def can_view_review(user: Viewer, round: Round, at: dt.datetime | None = None) -> bool:
    """The review (objections, votes, assignments) is confidential to the committee: staff, the
    group's chairs and the organisations that submitted to the round, from the deadline on; it
    stays so after publication."""
    at = at or timezone.now()
    if is_staff_admin(user):
        return True
    if not _after_deadline(round, at):
        return False
    if is_chair(user, round.group):
        return True
    organisation = organisation_of(user)
    return organisation is not None and organisation_submitted_to(round, organisation.pk)


def can_view_objection(user: Viewer, objection: Objection) -> bool:
    return can_view_review(user, objection.round) and can_view_submission(user, objection.submission)


def submitting_organisation_of(user: Viewer, round: Round) -> Organisation | None:
    """The organisation `user` acts for in the round's review, when it submitted to the round."""
    organisation = organisation_of(user)
    if organisation is None or not acts_for(user, organisation):
        return None
    return organisation if organisation_submitted_to(round, organisation.pk) else None


def can_vote(user: Viewer, vote: Vote) -> bool:
    return submitting_organisation_of(user, vote.round) is not None


def can_withdraw(user: Viewer, submission: Submission) -> bool:
    return acts_for(user, submission.organisation) or is_review_chair(user, submission.round)
