"""Writes of grants: created, taken up, revoked, extended, suspended, reinstated, expired."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from consortium.audit.services import audit_record
from consortium.licensing import notices
from consortium.licensing.access import (
    Missing,
    access_decision,
)
from consortium.licensing.models import (
    Acceptance,
    AccessRequest,
    Dataset,
    Grant,
    GrantNoticeKind,
)
from consortium.licensing.services._shared import Cause, GrantState, _mail, _require_admin
from consortium.members.models import Organisation, Person, User


def _default_end(dataset: Dataset, start: dt.datetime) -> dt.datetime | None:
    return start + dt.timedelta(days=dataset.grant_days) if dataset.grant_days else None


def _expire_stale(grants: QuerySet[Grant]) -> None:
    """Active grants past their end are expired before a new one for the same holder is made."""
    now = timezone.now()
    for grant in grants.filter(state=GrantState.ACTIVE, ends_at__lte=now):
        _grant_expire(grant=grant, at=now)


def _grant_create(
    *,
    dataset: Dataset,
    person: Person | None = None,
    organisation: Organisation | None = None,
    actor: User | None,
    access_request: AccessRequest | None = None,
    acceptance: Acceptance | None = None,
    ends_at: dt.datetime | None = None,
    reason: str = "",
    ip_address: str | None = None,
) -> Grant:
    holder_filter: dict[str, Person | Organisation | None] = (
        {"person": person} if person is not None else {"organisation": organisation}
    )
    live = Grant.objects.select_for_update().filter(dataset=dataset, **holder_filter)
    _expire_stale(live)
    existing = live.filter(state__in=Grant.LIVE_STATES).first()
    if existing is not None:
        raise ValidationError(
            f"{existing.holder} already has a grant for {dataset} ({existing.get_state_display().lower()}); "
            "extend or reinstate it instead."
        )
    start = timezone.now()
    if dataset.needs_membership:
        membership_org_id = (
            organisation.pk if organisation is not None else (person.organisation_id if person else None)
        )
    else:
        membership_org_id = None
    grant = Grant.objects.create(
        dataset=dataset,
        person=person,
        organisation=organisation,
        starts_at=start,
        ends_at=ends_at if ends_at is not None else _default_end(dataset, start),
        membership_organisation_id=membership_org_id,
        access_request=access_request,
        acceptance=acceptance,
        granted_by=actor if getattr(actor, "is_authenticated", False) else None,
        reason=reason,
    )
    audit_record(
        actor=actor,
        action="licensing.grant_created",
        target=grant,
        organisation=organisation or (person.organisation if person else None),
        ip_address=ip_address,
        reason=reason,
        data={
            "dataset": dataset.slug,
            "ends_at": grant.ends_at.isoformat() if grant.ends_at else None,
            "rests_on": grant.rests_on,
        },
    )
    return grant


@transaction.atomic
def grant_create(
    *,
    dataset: Dataset,
    actor: User,
    person: Person | None = None,
    organisation: Organisation | None = None,
    ends_at: dt.datetime | None = None,
    reason: str = "",
    ip_address: str | None = None,
) -> Grant:
    """A dataset admin grants access directly (to a person, or organisation-wide)."""
    _require_admin(actor)
    if (person is None) == (organisation is None):
        raise ValidationError("A grant is for a person or for an organisation, not both.")
    if ends_at is not None and ends_at <= timezone.now():
        raise ValidationError({"ends_at": "The end must be in the future."})
    return _grant_create(
        dataset=dataset,
        person=person,
        organisation=organisation,
        actor=actor,
        ends_at=ends_at,
        reason=reason,
        ip_address=ip_address,
    )


SELF_SERVICE = {Missing.GRANT_MISSING, Missing.GRANT_EXPIRED}


@transaction.atomic
def grant_take_up(*, dataset: Dataset, person: Person, actor: User, ip_address: str | None = None) -> Grant:
    """“Get access”: when nothing but the grant itself is missing (open, members-only, renewal)."""
    if dataset.requires_approval:
        raise ValidationError("This dataset needs a dataset admin's approval: request access instead.")
    decision = access_decision(person, dataset)
    if decision.allowed:
        raise ValidationError("You already have access to this dataset.")
    blocking = [r for r in decision.missing if r.code not in SELF_SERVICE]
    if blocking:
        raise ValidationError([r.message for r in blocking])
    if dataset.agreement is not None and dataset.agreement.signed_by_organisation:
        raise ValidationError(f"Access to {dataset} is organisation-wide; ask your organisation's signatory.")
    return _grant_create(
        dataset=dataset,
        person=person,
        actor=actor,
        acceptance=decision.acceptance,
        ip_address=ip_address,
    )


def _grant_locked(grant: Grant) -> Grant:
    return (
        Grant.objects.select_for_update(of=("self",))
        .select_related("dataset", "person", "organisation")
        .get(pk=grant.pk)
    )


def _holder_org(grant: Grant) -> Organisation | None:
    return grant.organisation if grant.organisation_id else (grant.person.organisation if grant.person else None)


@transaction.atomic
def grant_revoke(*, grant: Grant, actor: User, reason: str, ip_address: str | None = None) -> Grant:
    """Ends a grant at once; download links stop working with it."""
    _require_admin(actor)
    if not reason.strip():
        raise ValidationError({"reason": "Give a reason: the holder sees it."})
    grant = _grant_locked(grant)
    if grant.state not in Grant.LIVE_STATES:
        raise ValidationError(f"This grant is already {grant.get_state_display().lower()}; nothing changed.")
    grant.state = GrantState.REVOKED
    grant.suspension_cause = Cause.NONE
    grant.ended_at = timezone.now()
    grant.ended_by = actor
    grant.reason = reason.strip()
    grant.save(update_fields=["state", "suspension_cause", "ended_at", "ended_by", "reason"])
    audit_record(
        actor=actor,
        action="licensing.grant_revoked",
        target=grant,
        organisation=_holder_org(grant),
        ip_address=ip_address,
        reason=grant.reason,
    )
    _mail(
        key=f"licensing.grant:{grant.pk}:revoked",
        about=f"licensing.grant:{grant.pk}",
        recipients=notices.grant_recipients(grant),
        subject=f"Access to {grant.dataset} revoked",
        body=f"Your access to {grant.dataset} was revoked: {grant.reason}\n\n{notices.dataset_link(grant)}\n",
    )
    return grant


@transaction.atomic
def grant_extend(
    *, grant: Grant, ends_at: dt.datetime | None, actor: User, reason: str = "", ip_address: str | None = None
) -> Grant:
    """Moves the end of a grant (empty for no end). An expired grant becomes active again."""
    _require_admin(actor)
    grant = _grant_locked(grant)
    now = timezone.now()
    if grant.state == GrantState.REVOKED:
        raise ValidationError("A revoked grant cannot be extended; create a new grant instead.")
    if ends_at is not None and ends_at <= now:
        raise ValidationError({"ends_at": "The new end must be in the future."})
    previous_end = grant.ends_at
    if grant.state == GrantState.EXPIRED:
        holder: dict[str, int | None] = (
            {"person_id": grant.person_id} if grant.person_id else {"organisation_id": grant.organisation_id}
        )
        if (
            Grant.objects.filter(dataset=grant.dataset, state__in=Grant.LIVE_STATES, **holder)
            .exclude(pk=grant.pk)
            .exists()
        ):
            raise ValidationError("The holder has a newer grant for this dataset; extend that one.")
        grant.state = GrantState.ACTIVE
        grant.ended_at = None
        grant.ended_by = None
    grant.ends_at = ends_at
    grant.reason = reason.strip() or grant.reason
    grant.save(update_fields=["state", "ends_at", "ended_at", "ended_by", "reason"])
    audit_record(
        actor=actor,
        action="licensing.grant_extended",
        target=grant,
        organisation=_holder_org(grant),
        ip_address=ip_address,
        reason=reason,
        data={
            "from": previous_end.isoformat() if previous_end else None,
            "to": ends_at.isoformat() if ends_at else None,
        },
    )
    return grant


def _grant_suspend(*, grant: Grant, cause: str, actor: User | None, reason: str = "") -> bool:
    """Suspends an active grant (conditional update: a second run does nothing). True if it changed."""
    changed = Grant.objects.filter(pk=grant.pk, state=GrantState.ACTIVE).update(
        state=GrantState.SUSPENDED, suspension_cause=cause, reason=reason
    )
    if not changed:
        return False
    grant.refresh_from_db()
    audit_record(
        actor=actor,
        action="licensing.grant_suspended",
        target=grant,
        organisation=_holder_org(grant),
        reason=reason,
        data={"cause": cause},
    )
    _notice(
        grant,
        GrantNoticeKind.SUSPENDED,
        reference=f"{cause}:{timezone.now():%Y-%m-%d}",
        subject=f"Access to {grant.dataset} suspended",
        body=f"Access to {grant.dataset} is suspended: {reason}\n\n{notices.dataset_link(grant)}\n",
    )
    return True


@transaction.atomic
def grant_suspend(*, grant: Grant, actor: User, reason: str, ip_address: str | None = None) -> Grant:
    _require_admin(actor)
    if not reason.strip():
        raise ValidationError({"reason": "Give a reason: the holder sees it."})
    if not _grant_suspend(grant=grant, cause=Cause.ADMIN, actor=actor, reason=reason.strip()):
        raise ValidationError("Only an active grant can be suspended; nothing changed.")
    return grant


def _grant_reinstate(*, grant: Grant, actor: User | None, reason: str = "", ip_address: str | None = None) -> bool:
    changed = Grant.objects.filter(pk=grant.pk, state=GrantState.SUSPENDED).update(
        state=GrantState.ACTIVE, suspension_cause=Cause.NONE, reason=reason
    )
    if changed:
        grant.refresh_from_db()
        audit_record(
            actor=actor,
            action="licensing.grant_reinstated",
            target=grant,
            organisation=_holder_org(grant),
            ip_address=ip_address,
            reason=reason,
        )
    return bool(changed)


@transaction.atomic
def grant_reinstate(*, grant: Grant, actor: User, reason: str = "", ip_address: str | None = None) -> Grant:
    """A dataset admin lifts a suspension. The predicate still checks membership and agreement."""
    _require_admin(actor)
    if not _grant_reinstate(
        grant=grant, actor=actor, reason=reason or "Reinstated by a dataset admin", ip_address=ip_address
    ):
        raise ValidationError("Only a suspended grant can be reinstated; nothing changed.")
    return grant


def _grant_expire(*, grant: Grant, at: dt.datetime) -> bool:
    changed = Grant.objects.filter(pk=grant.pk, state=GrantState.ACTIVE, ends_at__lte=at).update(
        state=GrantState.EXPIRED, ended_at=at
    )
    if changed:
        grant.refresh_from_db()
        audit_record(actor=None, action="licensing.grant_expired", target=grant, organisation=_holder_org(grant))
    return bool(changed)


def _notice(grant: Grant, kind: str, *, reference: str, subject: str, body: str) -> bool:
    """Queues a notice in the outbox unless it was already queued (once per grant, kind and
    reference). True if queued now."""
    if notices.grant_notice_sent(grant.pk, kind, reference):
        return False
    return bool(
        _mail(
            key=notices.grant_notice_key(grant.pk, kind, reference),
            about=f"licensing.grant:{grant.pk}",
            recipients=notices.grant_recipients(grant),
            subject=subject,
            body=body,
        )
    )
