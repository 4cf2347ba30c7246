"""Writes of groups and their members."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from consortium.audit.services import audit_record
from consortium.members.models import Person, User
from consortium.members.permissions import person_of
from workinggroups import permissions
from workinggroups.models import (
    GroupMembership,
    JoinRequest,
    WorkingGroup,
)
from workinggroups.services._shared import Role, _require_manager


@transaction.atomic
def group_update(
    *,
    group: WorkingGroup,
    actor: User,
    purpose: str,
    charter: str,
    mailing_list: str,
    visibility: str,
    ip_address: str | None = None,
) -> WorkingGroup:
    """Chairs keep their group's description up to date (name, slug, area and status are staff's)."""
    _require_manager(actor, group)
    group = WorkingGroup.objects.select_for_update().get(pk=group.pk)
    before = {f: getattr(group, f) for f in ("purpose", "charter", "mailing_list", "visibility")}
    group.purpose, group.charter = purpose.strip(), charter
    group.mailing_list, group.visibility = mailing_list.strip(), visibility
    group.full_clean()
    group.save()
    changed = sorted(f for f, v in before.items() if getattr(group, f) != v)
    audit_record(
        actor=actor,
        action="workinggroups.group_changed",
        target=group,
        ip_address=ip_address,
        data={"changed": changed},
    )
    return group


def _chair_count(group: WorkingGroup) -> int:
    return GroupMembership.objects.filter(group=group, role=Role.CHAIR).count()


def _guard_chair_change(actor: User, group: WorkingGroup, old_role: str | None, new_role: str | None) -> None:
    touches_chair = Role.CHAIR in (old_role, new_role) and old_role != new_role
    if touches_chair and not permissions.can_change_chairs(actor, group):
        raise PermissionDenied("Only a chair of the group or staff may name or remove a chair.")
    if old_role == Role.CHAIR and new_role != Role.CHAIR:
        # Lock the group's chair rows so two demotions cannot both pass the last-chair check.
        list(GroupMembership.objects.select_for_update().filter(group=group, role=Role.CHAIR))
        if _chair_count(group) <= 1:
            raise ValidationError("A group needs a chair: name another chair first.")


@transaction.atomic
def group_member_add(
    *, group: WorkingGroup, person: Person, role: str, actor: User, ip_address: str | None = None
) -> GroupMembership:
    """Chairs add someone directly (no join request needed)."""
    _require_manager(actor, group)
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}."})
    existing = GroupMembership.objects.filter(group=group, person=person).first()
    if existing is not None:
        raise ValidationError(f"{person} is already in {group} as {existing.get_role_display()}.")
    _guard_chair_change(actor, group, None, role)
    membership = GroupMembership.objects.create(group=group, person=person, role=role, added_by=actor)
    # An open request of the same person is answered by the addition.
    JoinRequest.objects.filter(group=group, person=person, state=JoinRequest.State.SUBMITTED).update(
        state=JoinRequest.State.APPROVED, decided_at=timezone.now(), decided_by=actor
    )
    audit_record(
        actor=actor,
        action="workinggroups.member_added",
        target=membership,
        organisation=person.organisation,
        ip_address=ip_address,
        data={"role": role, "person": person.pk},
    )
    return membership


@transaction.atomic
def group_member_set_role(
    *, membership: GroupMembership, role: str, actor: User, ip_address: str | None = None
) -> GroupMembership:
    membership = GroupMembership.objects.select_for_update().select_related("group", "person").get(pk=membership.pk)
    group = membership.group
    _require_manager(actor, group)
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}."})
    if role == membership.role:
        raise ValidationError(f"{membership.person} is already {membership.get_role_display()}.")
    old = membership.role
    _guard_chair_change(actor, group, old, role)
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        actor=actor,
        action="workinggroups.member_role_changed",
        target=membership,
        organisation=membership.person.organisation,
        ip_address=ip_address,
        data={"from": old, "to": role},
    )
    return membership


@transaction.atomic
def group_member_remove(
    *, membership: GroupMembership, actor: User, reason: str = "", ip_address: str | None = None
) -> None:
    membership = GroupMembership.objects.select_for_update().select_related("group", "person").get(pk=membership.pk)
    group = membership.group
    actor_person = person_of(actor)
    is_self = actor_person is not None and actor_person.pk == membership.person_id
    if not is_self:
        _require_manager(actor, group)
    if membership.role == Role.CHAIR:
        _guard_chair_change(actor, group, Role.CHAIR, None)
    audit_record(
        actor=actor,
        action="workinggroups.member_left" if is_self else "workinggroups.member_removed",
        target=membership,
        organisation=membership.person.organisation,
        ip_address=ip_address,
        reason=reason,
        data={"role": membership.role, "person": membership.person_id},
    )
    membership.delete()
