"""Group memberships change in the admin through the working group services: audited, the last
chair stays, an addition answers the person's open join request."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from consortium.audit.models import AuditEvent
from tests.adminforms import add_inline_row, change_form_data
from tests.workinggroups.factories import JoinRequestFactory
from workinggroups.models import GroupMembership, JoinRequest

Role = GroupMembership.Role
pytestmark = pytest.mark.django_db


def _group_url(group) -> str:
    return reverse("admin:workinggroups_workinggroup_change", args=[group.pk])


def test_adding_a_member_in_the_group_admin_goes_through_the_service(roles):
    group = roles.group
    request = JoinRequestFactory(group=group, person=roles.member.person)
    staff = roles.client("staff")
    data = change_form_data(staff, _group_url(group))
    add_inline_row(data, "memberships", person=roles.member.person.pk, role=Role.MEMBER, group=group.pk)
    assert staff.post(_group_url(group), data).status_code == 302
    membership = GroupMembership.objects.get(group=group, person=roles.member.person)
    assert membership.added_by == roles.staff
    assert AuditEvent.objects.filter(action="workinggroups.member_added", target_id=str(membership.pk)).exists()
    request.refresh_from_db()
    assert request.state == JoinRequest.State.APPROVED


def test_group_admin_keeps_the_last_chair(roles):
    group = roles.group
    staff = roles.client("staff")
    data = change_form_data(staff, _group_url(group))
    data["memberships-0-role"] = Role.MEMBER
    response = staff.post(_group_url(group), data)
    assert "needs a chair" in " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert GroupMembership.objects.get(group=group, person=roles.chair.person).role == Role.CHAIR


def test_group_admin_hands_the_chair_over_in_one_save(roles):
    group = roles.group
    staff = roles.client("staff")
    data = change_form_data(staff, _group_url(group))
    data["memberships-0-DELETE"] = "on"
    add_inline_row(data, "memberships", person=roles.member.person.pk, role=Role.CHAIR, group=group.pk)
    assert staff.post(_group_url(group), data).status_code == 302
    assert list(GroupMembership.objects.filter(group=group).values_list("person", "role")) == [
        (roles.member.person.pk, Role.CHAIR)
    ]
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"workinggroups.member_added", "workinggroups.member_removed"} <= actions


def test_membership_admin_role_change_and_delete_go_through_the_services(roles):
    group = roles.group
    member = GroupMembership.objects.create(group=group, person=roles.member.person, role=Role.MEMBER)
    staff = roles.client("staff")
    url = reverse("admin:workinggroups_groupmembership_change", args=[member.pk])
    data = change_form_data(staff, url) | {"role": Role.OBSERVER}
    assert staff.post(url, data).status_code == 302
    event = AuditEvent.objects.get(action="workinggroups.member_role_changed")
    assert event.data == {"from": Role.MEMBER, "to": Role.OBSERVER}
    chair = GroupMembership.objects.get(group=group, person=roles.chair.person)
    response = staff.post(reverse("admin:workinggroups_groupmembership_delete", args=[chair.pk]), {"post": "yes"})
    assert "needs a chair" in " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert GroupMembership.objects.filter(pk=chair.pk).exists()
    staff.post(reverse("admin:workinggroups_groupmembership_delete", args=[member.pk]), {"post": "yes"})
    assert not GroupMembership.objects.filter(pk=member.pk).exists()
    assert AuditEvent.objects.filter(action="workinggroups.member_removed", target_id=str(member.pk)).exists()
