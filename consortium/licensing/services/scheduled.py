"""Cascades and scheduled work: departures, membership, expiry, reminders, grace periods."""

import datetime as dt

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from consortium.licensing import notices
from consortium.licensing.access import (
    GOOD_STANDING,
    AgreementStatus,
    agreement_status,
    published_number,
)
from consortium.licensing.models import (
    Agreement,
    AgreementVersion,
    Grant,
    GrantNoticeKind,
)
from consortium.licensing.services._shared import Cause, GrantState
from consortium.licensing.services.grants import _grant_expire, _grant_reinstate, _grant_suspend, _notice
from consortium.members.models import Organisation, Person, User
from consortium.members.selectors import current_membership


def grants_suspend_for_departure(*, person: Person, organisation: Organisation, actor: User) -> int:
    """Departure hook (members.services): a leaver's grants that rested on the organisation are suspended.

    Runs inside the roster transaction."""
    count = 0
    for grant in Grant.objects.filter(
        person=person, membership_organisation=organisation, state=GrantState.ACTIVE
    ).select_related("dataset"):
        count += _grant_suspend(
            grant=grant,
            cause=Cause.DEPARTURE,
            actor=actor,
            reason=f"{person} left {organisation}, on whose membership this access depended.",
        )
    return count


def _membership_good(organisation_id: int | None, day: dt.date, cache: dict[int, bool]) -> bool:
    assert organisation_id is not None  # asked for grants filtered on membership_organisation
    if organisation_id not in cache:
        org = Organisation.objects.prefetch_related("memberships").get(pk=organisation_id)
        membership = current_membership(org, day)
        cache[organisation_id] = membership is not None and membership.status_on(day) in GOOD_STANDING
    return cache[organisation_id]


@transaction.atomic
def grants_apply_membership(*, at: dt.datetime | None = None) -> dict[str, int]:
    """Suspends grants whose organisation's membership lapsed or was withdrawn or suspended; lifts such
    suspensions (and departures of people who came back) once the membership is in good standing."""
    at = at or timezone.now()
    day = timezone.localdate(at)
    cache: dict[int, bool] = {}
    suspended = reinstated = 0
    for grant in Grant.objects.filter(state=GrantState.ACTIVE, membership_organisation__isnull=False).select_related(
        "dataset", "membership_organisation"
    ):
        if not _membership_good(grant.membership_organisation_id, day, cache):
            suspended += _grant_suspend(
                grant=grant,
                cause=Cause.MEMBERSHIP,
                actor=None,
                reason=f"{grant.membership_organisation}'s membership is not in good standing.",
            )
    for grant in Grant.objects.filter(
        state=GrantState.SUSPENDED,
        suspension_cause__in=[Cause.MEMBERSHIP, Cause.DEPARTURE],
        membership_organisation__isnull=False,
    ).select_related("person"):
        if not _membership_good(grant.membership_organisation_id, day, cache):
            continue
        person = grant.person if grant.person_id else None
        if person is not None and not (
            person.organisation_id == grant.membership_organisation_id and person.is_approved_member
        ):
            continue
        reinstated += _grant_reinstate(grant=grant, actor=None, reason="Membership in good standing again")
    return {"suspended": suspended, "reinstated": reinstated}


@transaction.atomic
def grants_expire(*, at: dt.datetime | None = None) -> int:
    at = at or timezone.now()
    count = 0
    for grant in Grant.objects.filter(state=GrantState.ACTIVE, ends_at__lte=at).select_related("dataset"):
        if _grant_expire(grant=grant, at=at):
            assert grant.ends_at is not None  # filtered on ends_at
            count += 1
            _notice(
                grant,
                GrantNoticeKind.EXPIRED,
                reference=grant.ends_at.date().isoformat(),
                subject=f"Your access to {grant.dataset} has expired",
                body=f"Your access to {grant.dataset} ended on {grant.ends_at:%d %b %Y}.\n\n"
                f"{notices.dataset_link(grant)}\n",
            )
    return count


@transaction.atomic
def grants_send_expiry_reminders(*, at: dt.datetime | None = None) -> int:
    """Reminds holders 30 and 7 days before the end; each reminder once per end date."""
    at = at or timezone.now()
    sent = 0
    for grant in Grant.objects.filter(
        state=GrantState.ACTIVE, ends_at__gt=at, ends_at__lte=at + dt.timedelta(days=30)
    ).select_related("dataset", "person__user"):
        assert grant.ends_at is not None  # filtered on ends_at
        days_left = (grant.ends_at - at).days
        reference = grant.ends_at.date().isoformat()
        if days_left < 7:
            kind = GrantNoticeKind.EXPIRY_7
        elif notices.grant_notice_sent(grant.pk, GrantNoticeKind.EXPIRY_7, reference):
            continue
        else:
            kind = GrantNoticeKind.EXPIRY_30
        sent += _notice(
            grant,
            kind,
            reference=reference,
            subject=f"Your access to {grant.dataset} ends on {grant.ends_at:%d %b %Y}",
            body=f"Your access to {grant.dataset} ends on {grant.ends_at:%d %b %Y}. "
            f"Renew it from the dataset page:\n\n{notices.dataset_link(grant)}\n",
        )
    return sent


def _live_grants_under(agreement: Agreement) -> QuerySet[Grant]:
    return Grant.objects.filter(dataset__agreement=agreement, state=GrantState.ACTIVE).select_related(
        "dataset__agreement", "person__organisation", "organisation"
    )


def _status_for_grant(grant: Grant, at: dt.datetime) -> AgreementStatus:
    agreement = grant.dataset.agreement
    assert agreement is not None  # a grant under an agreement (_live_grants_under)
    if grant.organisation_id:
        return agreement_status(agreement, person=None, organisation=grant.organisation, at=at)
    return agreement_status(agreement, person=grant.person, organisation=None, at=at)


@transaction.atomic
def grants_apply_grace_periods(*, at: dt.datetime | None = None) -> int:
    """Suspends grants whose holder has not accepted a material version whose grace period ended."""
    at = at or timezone.now()
    count = 0
    agreements = Agreement.objects.filter(versions__is_material=True, versions__published_at__isnull=False).distinct()
    for agreement in agreements:
        for grant in _live_grants_under(agreement):
            status = _status_for_grant(grant, at)
            if status.acceptance is None or status.required is None or status.satisfied:
                continue  # (no version in force: nothing is required yet)
            count += _grant_suspend(
                grant=grant,
                cause=Cause.REACCEPTANCE,
                actor=None,
                reason=f"Version {status.required.label} of “{agreement}” must be accepted "
                f"(grace period ended {status.required.grace_ends:%d %b %Y}).",
            )
    return count


@transaction.atomic
def agreement_version_notify_holders(*, version_id: int, at: dt.datetime | None = None) -> int:
    """Tells each holder who accepted an older text that a material version needs accepting; once each."""
    at = at or timezone.now()
    version = AgreementVersion.objects.select_related("agreement").filter(pk=version_id).first()
    if version is None or not version.is_published or not version.is_material:
        return 0
    sent = 0
    for grant in _live_grants_under(version.agreement):
        status = _status_for_grant(grant, at)
        accepted = status.acceptance
        if accepted is None or published_number(accepted.agreement_version) >= published_number(version):
            continue
        sent += _notice(
            grant,
            GrantNoticeKind.NEW_VERSION,
            reference=str(version.pk),
            subject=f"Please accept version {version.label} of {version.agreement}",
            body=f"Version {version.label} of “{version.agreement}” changes it materially. Accept it before "
            f"{version.grace_ends:%d %b %Y} to keep access to {grant.dataset}:\n\n"
            f"{notices.dataset_link(grant)}\n",
        )
    return sent


def licensing_daily(*, at: dt.datetime | None = None) -> dict[str, int]:
    """The daily run, each step its own transaction and safe to repeat."""
    at = at or timezone.now()
    result = {"expired": grants_expire(at=at)}
    result.update(grants_apply_membership(at=at))
    for version in AgreementVersion.objects.filter(is_material=True, published_at__isnull=False, number__gt=1):
        if timezone.localdate(at) < version.grace_ends:
            result["new_version_notices"] = result.get("new_version_notices", 0) + agreement_version_notify_holders(
                version_id=version.pk, at=at
            )
    result["reacceptance_suspended"] = grants_apply_grace_periods(at=at)
    result["reminders"] = grants_send_expiry_reminders(at=at)
    return result
