"""Who may see and do what with submissions."""

import datetime as dt

from django.utils import timezone

from consortium.members.models import Organisation
from consortium.members.permissions import Viewer, is_staff_admin, is_submitter, person_of
from consortium.members.selectors import current_membership
from submissions.models import Submission
from workinggroups import selectors as rounds
from workinggroups.models import Round
from workinggroups.permissions import is_chair


def organisation_may_submit(organisation: Organisation) -> bool:
    membership = current_membership(organisation)
    return bool(membership and membership.is_in_good_standing and membership.tier.may_submit_results)


def upload_refusal(user: Viewer, round: Round, organisation: Organisation) -> str | None:
    """Why `user` may not upload for `organisation` to `round`, or None when they may."""
    if not is_submitter(user, organisation):
        return f"Only people with the submitter role at {organisation} can upload its submissions."
    if not organisation_may_submit(organisation):
        return f"{organisation}'s membership does not allow submitting results (tier or status)."
    if not rounds.round_is_registered(round, organisation):
        return f"{organisation} is not registered for {round}. Register before registration closes."
    return None


def _after_deadline(round: Round, at: dt.datetime) -> bool:
    deadline = rounds.round_deadline_with_grace(round)
    return deadline is not None and at >= deadline


def results_published(round: Round, at: dt.datetime | None = None) -> bool:
    """Results are public once the round is published and its publication moment has passed (the
    embargo ends). `selectors.submissions_visible_to` says the same as a query (tested together)."""
    at = at or timezone.now()
    phase = rounds.round_phase(round, "publication")
    return phase is not None and round.published and at >= phase.starts_at


def organisation_submitted_to(round: Round, organisation_id: int | None) -> bool:
    """Whether the organisation has a submission with a version uploaded in time in the round."""
    if organisation_id is None:
        return False
    return Submission.objects.filter(round=round, organisation_id=organisation_id, versions__in_time=True).exists()


def can_view_submission(user: Viewer, submission: Submission, at: dt.datetime | None = None) -> bool:
    """The one answer to "who may know about this submission now" (pages, API, mail, exports).

    Before the deadline (plus grace) only the submitting organisation; after it also, for peer
    review, every organisation that submitted to the round and the chairs of the round's group;
    staff always; everyone once the round's results are published. Nobody else until publication."""
    at = at or timezone.now()
    if is_staff_admin(user):
        return True
    person = person_of(user)
    member = person if person is not None and person.is_approved_member else None
    if member is not None and member.organisation_id == submission.organisation_id:
        return True
    round = submission.round
    if _after_deadline(round, at):
        if is_chair(user, round.group):
            return True
        if member is not None and organisation_submitted_to(round, member.organisation_id):
            return True
    return results_published(round, at)


def can_rerun_checks(user: Viewer, submission: Submission) -> bool:
    return is_staff_admin(user) or is_chair(user, submission.round.group)


def can_open_fix_window(user: Viewer, submission: Submission) -> bool:
    return is_staff_admin(user) or is_chair(user, submission.round.group)


def can_cancel_checks(user: Viewer, submission: Submission) -> bool:
    return can_rerun_checks(user, submission) or is_submitter(user, submission.organisation)
