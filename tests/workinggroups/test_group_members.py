"""Chairs add, change and remove members directly; a group keeps at least one chair."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from consortium.audit.models import AuditEvent
from workinggroups import permissions, services
from workinggroups.models import GroupMembership

pytestmark = pytest.mark.django_db
Role = GroupMembership.Role


def test_chair_adds_changes_and_removes_a_member(roles):
    membership = services.group_member_add(
        group=roles.group, person=roles.member.person, role=Role.MEMBER, actor=roles.chair
    )
    services.group_member_set_role(membership=membership, role=Role.CO_CHAIR, actor=roles.chair)
    assert permissions.is_chair(roles.member, roles.group)
    assert permissions.can_schedule_round(roles.member, roles.group)
    services.group_member_remove(membership=membership, actor=roles.chair, reason="Moved on")
    assert not GroupMembership.objects.filter(person=roles.member.person).exists()
    assert list(
        AuditEvent.objects.filter(action__startswith="workinggroups.member")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == [
        "workinggroups.member_added",
        "workinggroups.member_role_changed",
        "workinggroups.member_removed",
    ]


def test_adding_answers_an_open_request(roles):
    request = services.join_request_create(group=roles.group, actor=roles.member)
    services.group_member_add(group=roles.group, person=roles.member.person, role=Role.OBSERVER, actor=roles.chair)
    request.refresh_from_db()
    assert request.state == "approved"


def test_cannot_add_twice(roles):
    services.group_member_add(group=roles.group, person=roles.member.person, role=Role.MEMBER, actor=roles.chair)
    with pytest.raises(ValidationError, match="already in Training"):
        services.group_member_add(group=roles.group, person=roles.member.person, role=Role.MEMBER, actor=roles.chair)


def test_last_chair_stays_until_replaced(roles):
    chair = GroupMembership.objects.get(group=roles.group, role=Role.CHAIR)
    with pytest.raises(ValidationError, match="needs a chair"):
        services.group_member_set_role(membership=chair, role=Role.MEMBER, actor=roles.chair)
    with pytest.raises(ValidationError, match="needs a chair"):
        services.group_member_remove(membership=chair, actor=roles.staff)
    services.group_member_add(group=roles.group, person=roles.primary.person, role=Role.CHAIR, actor=roles.chair)
    services.group_member_remove(membership=chair, actor=roles.chair)
    assert not permissions.is_chair(roles.chair, roles.group)


def test_co_chair_cannot_name_a_chair(roles):
    services.group_member_add(group=roles.group, person=roles.member.person, role=Role.CO_CHAIR, actor=roles.chair)
    with pytest.raises(PermissionDenied, match="name or remove a chair"):
        services.group_member_add(group=roles.group, person=roles.primary.person, role=Role.CHAIR, actor=roles.member)
    services.group_member_add(group=roles.group, person=roles.primary.person, role=Role.MEMBER, actor=roles.member)


def test_non_chairs_cannot_change_members(roles):
    for user in (roles.member, roles.submitter, roles.primary, roles.dataset_admin):
        with pytest.raises(PermissionDenied):
            services.group_member_add(group=roles.group, person=roles.member.person, role=Role.MEMBER, actor=user)


def test_a_member_leaves_by_themselves(roles):
    membership = services.group_member_add(
        group=roles.group, person=roles.member.person, role=Role.MEMBER, actor=roles.chair
    )
    services.group_member_remove(membership=membership, actor=roles.member)
    assert AuditEvent.objects.filter(action="workinggroups.member_left").exists()


def test_chaired_groups(roles):
    assert list(permissions.chaired_groups(roles.chair)) == [roles.group]
    assert list(permissions.chaired_groups(roles.member)) == []
    assert list(permissions.chaired_groups(None)) == []
