"""Roster services: invitations, approvals, roles, leavers; each audited and all-or-nothing."""

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from consortium.audit.models import AuditEvent
from consortium.members import services
from consortium.members.models import Invitation, OrganisationRole, Person
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory, member_of

Role = OrganisationRole.Role
pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return MembershipFactory(organisation=OrganisationFactory(slug="acme", name="Acme")).organisation


@pytest.fixture
def primary(org):
    return member_of(org, Role.PRIMARY_CONTACT, email="boss@acme.test")


def test_signup_with_organisation_domain_waits_for_approval(org):
    user = UserFactory(email="new@acme.test")
    person = services.person_register(user=user, full_name="New Person")
    assert person.organisation == org and person.affiliation == Person.Affiliation.PENDING
    assert AuditEvent.objects.filter(action="roster.approval_requested", organisation=org).exists()


def test_signup_with_unknown_domain_has_no_organisation(org):
    person = services.person_register(user=UserFactory(email="someone@elsewhere.test"))
    assert person.organisation is None and person.affiliation == Person.Affiliation.NONE


def test_primary_contact_approves_pending_colleague(org, primary):
    pending = services.person_register(user=UserFactory(email="new@acme.test"))
    services.person_approve(person=pending, actor=primary.user)
    pending.refresh_from_db()
    assert pending.is_approved_member
    assert AuditEvent.objects.filter(action="roster.person_approved", actor=primary.user).exists()


def test_plain_member_cannot_approve(org):
    member = member_of(org)
    pending = services.person_register(user=UserFactory(email="new@acme.test"))
    with pytest.raises(PermissionDenied):
        services.person_approve(person=pending, actor=member.user)
    pending.refresh_from_db()
    assert pending.affiliation == Person.Affiliation.PENDING


def test_primary_contact_of_another_organisation_cannot_change_this_roster(org):
    other_primary = member_of(OrganisationFactory(), Role.PRIMARY_CONTACT)
    colleague = member_of(org)
    with pytest.raises(PermissionDenied):
        services.role_grant(person=colleague, organisation=org, role=Role.SUBMITTER, actor=other_primary.user)
    assert not colleague.roles.exists()


def test_invite_accept_and_grant_submitter(org, primary, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = services.invitation_create(
            organisation=org, email="colleague@acme.test", roles=[], actor=primary.user
        )
    assert len(mail.outbox) == 1 and token in mail.outbox[0].body
    assert invitation.token_hash != token  # only the hash is stored

    colleague = UserFactory(email="colleague@acme.test")
    person = services.invitation_accept(token=token, user=colleague)
    assert person.organisation == org and person.is_approved_member

    services.role_grant(person=person, organisation=org, role=Role.SUBMITTER, actor=primary.user)
    assert person.roles.filter(role=Role.SUBMITTER, organisation=org).exists()
    actions = set(AuditEvent.objects.filter(organisation=org).values_list("action", flat=True))
    assert {"roster.invitation_sent", "roster.invitation_accepted", "roster.role_granted"} <= actions


def test_invitation_with_roles_grants_them_on_acceptance(org, primary):
    _, token = services.invitation_create(
        organisation=org, email="c@acme.test", roles=[Role.SUBMITTER, Role.SIGNATORY], actor=primary.user
    )
    person = services.invitation_accept(token=token, user=UserFactory(email="C@acme.test"))
    assert set(person.roles.values_list("role", flat=True)) == {Role.SUBMITTER, Role.SIGNATORY}


def test_invitation_outside_domains_needs_confirmation(org, primary):
    with pytest.raises(ValidationError) as err:
        services.invitation_create(organisation=org, email="x@gmail.test", roles=[], actor=primary.user)
    assert "not at one of Acme's email domains" in str(err.value)
    assert not Invitation.objects.exists()
    invitation, _ = services.invitation_create(
        organisation=org, email="x@gmail.test", roles=[], actor=primary.user, confirm_outside_domains=True
    )
    assert invitation.outside_domains


def test_duplicate_pending_invitation_is_refused(org, primary):
    services.invitation_create(organisation=org, email="c@acme.test", roles=[], actor=primary.user)
    with pytest.raises(ValidationError, match="already has a pending invitation"):
        services.invitation_create(organisation=org, email="C@acme.test", roles=[], actor=primary.user)
    assert Invitation.objects.count() == 1


def test_inviting_an_existing_member_is_refused(org, primary):
    member_of(org, email="here@acme.test")
    with pytest.raises(ValidationError, match="already belongs"):
        services.invitation_create(organisation=org, email="here@acme.test", roles=[], actor=primary.user)


@pytest.mark.parametrize(
    ("state", "message"),
    [("revoked", "was revoked"), ("expired", "has expired"), ("accepted", "already accepted")],
)
def test_unusable_invitation_links_are_refused(org, primary, state, message):
    invitation, token = services.invitation_create(organisation=org, email="c@acme.test", roles=[], actor=primary.user)
    if state == "revoked":
        services.invitation_revoke(invitation=invitation, actor=primary.user)
    elif state == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    else:
        services.invitation_accept(token=token, user=UserFactory(email="c@acme.test"))
    user = UserFactory(email="c2@acme.test") if state == "accepted" else UserFactory(email="c@acme.test")
    with pytest.raises(ValidationError, match=message):
        services.invitation_accept(token=token, user=user)


def test_invitation_for_another_address_is_refused(org, primary):
    _, token = services.invitation_create(organisation=org, email="c@acme.test", roles=[], actor=primary.user)
    intruder = UserFactory(email="intruder@acme.test")
    with pytest.raises(ValidationError, match=r"is for c@acme\.test"):
        services.invitation_accept(token=token, user=intruder)
    assert not Person.objects.filter(user=intruder, organisation=org).exists()


def test_member_of_another_organisation_must_leave_first(org, primary):
    _, token = services.invitation_create(
        organisation=org, email="c@globex.test", roles=[], actor=primary.user, confirm_outside_domains=True
    )
    elsewhere = member_of(OrganisationFactory(name="Globex"), email="c@globex.test")
    with pytest.raises(ValidationError, match="You belong to Globex"):
        services.invitation_accept(token=token, user=elsewhere.user)


def test_last_primary_contact_cannot_be_removed_or_demoted(org, primary):
    with pytest.raises(ValidationError, match="last primary contact"):
        services.person_remove_from_organisation(person=primary, actor=primary.user)
    with pytest.raises(ValidationError, match="last primary contact"):
        services.role_revoke(person=primary, organisation=org, role=Role.PRIMARY_CONTACT, actor=primary.user)
    primary.refresh_from_db()
    assert primary.organisation == org and primary.roles.filter(role=Role.PRIMARY_CONTACT).exists()


def test_leaver_loses_roles_and_affiliation(org, primary):
    leaver = member_of(org, Role.SUBMITTER, Role.SIGNATORY)
    services.person_remove_from_organisation(person=leaver, actor=primary.user, reason="left the company")
    leaver.refresh_from_db()
    assert leaver.organisation is None and not leaver.roles.exists()
    event = AuditEvent.objects.get(action="roster.person_removed")
    assert event.reason == "left the company" and sorted(event.data["roles_removed"]) == [
        "signatory",
        "submitter",
    ]


def test_roles_only_in_own_organisation(org, primary):
    outsider = member_of(OrganisationFactory())
    with pytest.raises(ValidationError, match="roles are held only there"):
        services.role_grant(person=outsider, organisation=org, role=Role.SUBMITTER, actor=primary.user)
    assert not OrganisationRole.objects.filter(person=outsider, organisation=org).exists()


def test_granting_a_role_twice_says_so(org, primary):
    colleague = member_of(org, Role.SUBMITTER)
    with pytest.raises(ValidationError, match="already has the role Submitter"):
        services.role_grant(person=colleague, organisation=org, role=Role.SUBMITTER, actor=primary.user)


def test_staff_admin_manages_any_roster(org, primary):
    staff = UserFactory(is_staff=True, is_superuser=True)
    colleague = member_of(org)
    services.role_grant(person=colleague, organisation=org, role=Role.PRIMARY_CONTACT, actor=staff)
    services.role_revoke(person=primary, organisation=org, role=Role.PRIMARY_CONTACT, actor=staff)
    assert list(org.roles.filter(role=Role.PRIMARY_CONTACT).values_list("person", flat=True)) == [colleague.pk]
