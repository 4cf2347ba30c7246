"""Join requests: submitted → approved | declined | withdrawn, once; cooldown after a decline; mail
to the applicant; the audit log."""

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings

from consortium.audit.models import AuditEvent
from workinggroups import services
from workinggroups.models import GroupMembership, JoinRequest, WorkingGroup

pytestmark = pytest.mark.django_db


def ask(roles, user=None, message="I test training runs."):
    return services.join_request_create(group=roles.group, actor=user or roles.member, message=message)


def test_member_asks_and_chair_approves(roles, django_capture_on_commit_callbacks):
    request = ask(roles)
    assert request.state == JoinRequest.State.SUBMITTED
    with django_capture_on_commit_callbacks(execute=True):
        services.join_request_approve(join_request=request, actor=roles.chair)
    request.refresh_from_db()
    assert request.state == JoinRequest.State.APPROVED and request.decided_by == roles.chair
    membership = GroupMembership.objects.get(group=roles.group, person=roles.member.person)
    assert membership.role == GroupMembership.Role.MEMBER and membership.added_by == roles.chair
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [roles.member.email]
    assert "approved" in mail.outbox[0].subject
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert "workinggroups.join_requested" in actions and "workinggroups.join_approved" in actions


def test_approve_as_observer(roles):
    request = ask(roles)
    services.join_request_approve(join_request=request, actor=roles.staff, role=GroupMembership.Role.OBSERVER)
    assert GroupMembership.objects.get(person=roles.member.person).role == GroupMembership.Role.OBSERVER


def test_decline_needs_a_reason_and_mails_it(roles, django_capture_on_commit_callbacks):
    request = ask(roles)
    with pytest.raises(ValidationError, match="Give a reason"):
        services.join_request_decline(join_request=request, actor=roles.chair, reason="  ")
    with django_capture_on_commit_callbacks(execute=True):
        services.join_request_decline(join_request=request, actor=roles.chair, reason="Full this quarter.")
    request.refresh_from_db()
    assert request.state == JoinRequest.State.DECLINED and request.reason == "Full this quarter."
    assert "Full this quarter." in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="workinggroups.join_declined", reason="Full this quarter.").exists()


def test_a_request_is_decided_only_once(roles):
    request = ask(roles)
    services.join_request_approve(join_request=request, actor=roles.chair)
    with pytest.raises(ValidationError, match=r"already approved by chair@globex\.test"):
        services.join_request_approve(join_request=request, actor=roles.staff)
    with pytest.raises(ValidationError, match="already approved"):
        services.join_request_decline(join_request=request, actor=roles.chair, reason="Oops")
    with pytest.raises(ValidationError, match="already approved"):
        services.join_request_withdraw(join_request=request, actor=roles.member)


def test_declined_person_waits_for_the_cooldown(roles):
    request = ask(roles)
    services.join_request_decline(join_request=request, actor=roles.chair, reason="Not now")
    with pytest.raises(ValidationError, match="You can ask again from"):
        ask(roles)
    request.refresh_from_db()
    JoinRequest.objects.filter(pk=request.pk).update(decided_at=request.decided_at - dt.timedelta(days=31))
    assert ask(roles).state == JoinRequest.State.SUBMITTED


@override_settings(WORKINGGROUPS_JOIN_COOLDOWN_DAYS=0)
def test_cooldown_is_a_setting(roles):
    request = ask(roles)
    services.join_request_decline(join_request=request, actor=roles.chair, reason="Not now")
    assert ask(roles).is_open


def test_no_second_open_request_and_no_request_when_already_in(roles):
    ask(roles)
    with pytest.raises(ValidationError, match="its chairs have not decided yet"):
        ask(roles)
    with pytest.raises(ValidationError, match="already in Training as chair"):
        ask(roles, user=roles.chair)


def test_withdraw_by_the_applicant_only(roles):
    request = ask(roles)
    with pytest.raises(PermissionDenied):
        services.join_request_withdraw(join_request=request, actor=roles.chair)
    services.join_request_withdraw(join_request=request, actor=roles.member)
    request.refresh_from_db()
    assert request.state == JoinRequest.State.WITHDRAWN
    assert ask(roles).is_open  # no cooldown after a withdrawal


def test_only_chairs_and_staff_decide(roles):
    request = ask(roles)
    for user in (roles.submitter, roles.primary, roles.dataset_admin):
        with pytest.raises(PermissionDenied):
            services.join_request_approve(join_request=request, actor=user)
    request.refresh_from_db()
    assert request.is_open


def test_people_without_an_approved_organisation_cannot_ask(roles):
    with pytest.raises(ValidationError, match="approved by a member organisation"):
        ask(roles, user=roles.dataset_admin)


def test_archived_group_takes_no_requests(roles):
    WorkingGroup.objects.filter(pk=roles.group.pk).update(status=WorkingGroup.Status.ARCHIVED)
    with pytest.raises(ValidationError, match="archived"):
        ask(roles)
