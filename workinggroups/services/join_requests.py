"""Join requests: submitted → approved | declined | withdrawn."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from consortium.audit.services import audit_record
from consortium.members.models import User
from consortium.members.permissions import person_of
from workinggroups import selectors
from workinggroups.models import (
    GroupMembership,
    JoinRequest,
    WorkingGroup,
)
from workinggroups.services._shared import Role, _date, _link, _mail, _require_manager

DEFAULT_JOIN_COOLDOWN_DAYS = 30


def join_cooldown() -> dt.timedelta:
    """How long a declined person waits before asking again (WORKINGGROUPS_JOIN_COOLDOWN_DAYS)."""
    return dt.timedelta(days=getattr(settings, "WORKINGGROUPS_JOIN_COOLDOWN_DAYS", DEFAULT_JOIN_COOLDOWN_DAYS))


@transaction.atomic
def join_request_create(
    *, group: WorkingGroup, actor: User, message: str = "", ip_address: str | None = None
) -> JoinRequest:
    """The logged-in person asks to join `group`. Refused with a clear message when archived,
    already a member, already waiting, or within the cooldown after a decline."""
    person = person_of(actor)
    if person is None or not person.is_approved_member:
        raise ValidationError(
            "Only people approved by a member organisation can ask to join a working group. "
            "Ask your organisation's primary contact to approve you first."
        )
    group = WorkingGroup.objects.select_for_update().get(pk=group.pk)
    if not group.is_active:
        raise ValidationError(f"{group} is archived and takes no new members.")
    existing = GroupMembership.objects.filter(group=group, person=person).first()
    if existing is not None:
        raise ValidationError(f"You are already in {group} as {existing.get_role_display().lower()}.")
    previous = list(JoinRequest.objects.filter(group=group, person=person).order_by("-created_at"))
    waiting = next((r for r in previous if r.is_open), None)
    if waiting is not None:
        raise ValidationError(
            f"You asked to join {group} on {_date(waiting.created_at)}; {selectors.join_deciders(group)} "
            "have not decided yet."
        )
    declined = next((r for r in previous if r.state == JoinRequest.State.DECLINED), None)
    if declined is not None and declined.decided_at is not None:
        again = declined.decided_at + join_cooldown()
        if timezone.now() < again:
            raise ValidationError(
                f"Your request was declined on {_date(declined.decided_at)}. You can ask again from {_date(again)}."
            )
    message = (message or "").strip()
    if len(message) > 2000:
        raise ValidationError({"message": "Keep the message under 2000 characters."})
    request = JoinRequest.objects.create(group=group, person=person, message=message)
    audit_record(
        actor=actor,
        action="workinggroups.join_requested",
        target=request,
        organisation=person.organisation,
        ip_address=ip_address,
    )
    return request


def _lock_open_request(join_request: JoinRequest) -> JoinRequest:
    request = JoinRequest.objects.select_for_update().select_related("group", "person__user").get(pk=join_request.pk)
    if not request.is_open:
        who = f" by {request.decided_by}" if request.decided_by and request.state != "withdrawn" else ""
        when = f" on {_date(request.decided_at)}" if request.decided_at else ""
        raise ValidationError(f"This request was already {request.state}{who}{when}.")
    return request


def _tell_applicant(request: JoinRequest) -> None:
    _mail(
        key=f"workinggroups.join_request:{request.pk}:{request.state}",
        subject=f"Your request to join {request.group}: {request.get_state_display().lower()}",
        template="workinggroups/email/join_decision.txt",
        context={"request": request, "link": _link("group_detail", slug=request.group.slug)},
        recipients=[request.person.user.email],
    )


@transaction.atomic
def join_request_approve(
    *, join_request: JoinRequest, actor: User, role: str = Role.MEMBER, ip_address: str | None = None
) -> JoinRequest:
    request = _lock_open_request(join_request)
    _require_manager(actor, request.group)
    if role not in (Role.MEMBER, Role.OBSERVER):
        raise ValidationError({"role": "Approve a request as member or observer; name chairs on the members page."})
    GroupMembership.objects.get_or_create(
        group=request.group, person=request.person, defaults={"role": role, "added_by": actor}
    )
    request.state, request.decided_at, request.decided_by = JoinRequest.State.APPROVED, timezone.now(), actor
    request.save(update_fields=["state", "decided_at", "decided_by"])
    audit_record(
        actor=actor,
        action="workinggroups.join_approved",
        target=request,
        organisation=request.person.organisation,
        ip_address=ip_address,
        data={"role": role},
    )
    _tell_applicant(request)
    return request


@transaction.atomic
def join_request_decline(
    *, join_request: JoinRequest, actor: User, reason: str, ip_address: str | None = None
) -> JoinRequest:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give a reason: the applicant reads it in the email."})
    request = _lock_open_request(join_request)
    _require_manager(actor, request.group)
    request.state, request.reason = JoinRequest.State.DECLINED, reason
    request.decided_at, request.decided_by = timezone.now(), actor
    request.save(update_fields=["state", "reason", "decided_at", "decided_by"])
    audit_record(
        actor=actor,
        action="workinggroups.join_declined",
        target=request,
        organisation=request.person.organisation,
        ip_address=ip_address,
        reason=reason,
    )
    _tell_applicant(request)
    return request


@transaction.atomic
def join_request_withdraw(*, join_request: JoinRequest, actor: User, ip_address: str | None = None) -> JoinRequest:
    request = _lock_open_request(join_request)
    person = person_of(actor)
    if person is None or person.pk != request.person_id:
        raise PermissionDenied("Only the person who asked can withdraw a request.")
    request.state, request.decided_at = JoinRequest.State.WITHDRAWN, timezone.now()
    request.save(update_fields=["state", "decided_at"])
    audit_record(
        actor=actor,
        action="workinggroups.join_withdrawn",
        target=request,
        organisation=request.person.organisation,
        ip_address=ip_address,
    )
    return request
