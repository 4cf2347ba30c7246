"""The members admin writes through the roster and membership services: the audit log and the
departure hook see admin changes, and the roster's rules hold there as on the roster pages."""

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from consortium.audit.models import AuditEvent
from consortium.licensing.models import Grant
from consortium.members.models import Membership, MembershipTier, OrganisationRole, Person
from tests.adminforms import add_inline_row, change_form_data
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory, member_of
from tests.licensing.factories import DatasetFactory, grant

Role = OrganisationRole.Role
pytestmark = pytest.mark.django_db


def _person_url(person) -> str:
    return reverse("admin:members_person_change", args=[person.pk])


def _messages(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def test_changing_organisation_in_admin_runs_the_departure_hook(roles):
    person = member_of(roles.org, full_name="Lee Leaver")
    members_only = grant(DatasetFactory(requires_membership=True), person=person)
    staff = roles.client("staff")
    data = change_form_data(staff, _person_url(person))
    data["organisation"] = str(roles.other_org.pk)
    response = staff.post(_person_url(person), data)
    assert response.status_code == 302
    person.refresh_from_db()
    members_only.refresh_from_db()
    assert person.organisation == roles.other_org and person.affiliation == Person.Affiliation.APPROVED
    assert members_only.state == Grant.State.SUSPENDED and members_only.suspension_cause == "departure"
    actions = list(AuditEvent.objects.filter(target_id=str(person.pk)).values_list("action", flat=True))
    assert "roster.person_removed" in actions and "roster.person_affiliated" in actions


def test_admin_cannot_remove_the_last_primary_contact(roles):
    primary = roles.primary.person
    staff = roles.client("staff")
    data = change_form_data(staff, _person_url(primary))
    data["organisation"] = ""
    response = staff.post(_person_url(primary), data)
    assert response.status_code == 302
    assert "last primary contact" in _messages(response)
    primary.refresh_from_db()
    assert primary.organisation == roles.org
    assert primary.roles.filter(role=Role.PRIMARY_CONTACT).exists()
    assert not AuditEvent.objects.filter(action="roster.person_removed").exists()


def test_role_inline_grants_and_revokes_through_the_services(roles):
    person = roles.member.person
    staff = roles.client("staff")
    data = change_form_data(staff, _person_url(person))
    add_inline_row(data, "roles", organisation=roles.org.pk, role=Role.SUBMITTER, person=person.pk)
    staff.post(_person_url(person), data)
    granted = OrganisationRole.objects.get(person=person, role=Role.SUBMITTER)
    assert granted.granted_by == roles.staff
    assert AuditEvent.objects.filter(action="roster.role_granted", target_id=str(person.pk)).exists()

    data = change_form_data(staff, _person_url(person))
    data["roles-0-DELETE"] = "on"
    staff.post(_person_url(person), data)
    assert not OrganisationRole.objects.filter(person=person).exists()
    assert AuditEvent.objects.filter(action="roster.role_revoked", target_id=str(person.pk)).exists()


def test_role_inline_hands_over_the_primary_contact_in_one_save(roles):
    old, new = roles.primary.person, roles.member.person
    staff = roles.client("staff")
    data = change_form_data(staff, _person_url(old))
    data["roles-0-DELETE"] = "on"
    staff.post(_person_url(old), data)  # the last primary contact: refused
    assert old.roles.filter(role=Role.PRIMARY_CONTACT).exists()
    OrganisationRole.objects.create(person=new, organisation=roles.org, role=Role.PRIMARY_CONTACT)
    staff.post(_person_url(old), change_form_data(staff, _person_url(old)) | {"roles-0-DELETE": "on"})
    assert not old.roles.exists()


def test_role_admin_refuses_a_role_outside_the_persons_organisation(roles):
    staff = roles.client("staff")
    url = reverse("admin:members_organisationrole_add")
    response = staff.post(
        url, {"person": roles.member.person.pk, "organisation": roles.other_org.pk, "role": Role.SUBMITTER}
    )
    assert response.status_code == 302
    assert "not an approved member" in _messages(response)
    assert not OrganisationRole.objects.filter(person=roles.member.person, organisation=roles.other_org).exists()


def test_role_admin_delete_revokes_through_the_service(roles):
    role = OrganisationRole.objects.get(person=roles.submitter.person, role=Role.SUBMITTER)
    staff = roles.client("staff")
    response = staff.post(reverse("admin:members_organisationrole_delete", args=[role.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not OrganisationRole.objects.filter(pk=role.pk).exists()
    event = AuditEvent.objects.get(action="roster.role_revoked")
    assert event.data == {"role": Role.SUBMITTER} and event.actor == roles.staff


def test_non_superuser_staff_cannot_change_roles_through_the_admin(roles):
    """The dataset admin is staff but not a staff admin: the roster service refuses, as on the pages."""
    from django.contrib.auth.models import Permission

    roles.dataset_admin.user_permissions.add(Permission.objects.get(codename="add_organisationrole"))
    client = roles.client("dataset_admin")
    response = client.post(
        reverse("admin:members_organisationrole_add"),
        {"person": roles.member.person.pk, "organisation": roles.org.pk, "role": Role.SUBMITTER},
    )
    assert "Only a primary contact" in _messages(response)
    assert not OrganisationRole.objects.filter(person=roles.member.person, role=Role.SUBMITTER).exists()


def test_admin_action_removes_people_through_the_departure_hook(roles):
    person = member_of(roles.org, full_name="Lee Leaver")
    members_only = grant(DatasetFactory(requires_membership=True), person=person)
    staff = roles.client("staff")
    staff.post(
        reverse("admin:members_person_changelist"),
        {"action": "remove_from_organisation", "_selected_action": [person.pk, roles.primary.person.pk]},
    )
    person.refresh_from_db()
    members_only.refresh_from_db()
    assert person.organisation is None and members_only.state == Grant.State.SUSPENDED
    assert Person.objects.get(pk=roles.primary.person.pk).organisation == roles.org  # the last primary contact


def test_membership_inline_goes_through_the_membership_services(roles):
    org = roles.org
    staff = roles.client("staff")
    url = reverse("admin:members_organisation_change", args=[org.pk])
    data = change_form_data(staff, url)
    tier = MembershipTier.objects.first()
    add_inline_row(data, "memberships", tier=tier.pk, start="2031-01-01", grace_days=30, organisation=org.pk)
    data["memberships-0-grace_days"] = "45"
    assert staff.post(url, data).status_code == 302
    created = Membership.objects.get(organisation=org, start=dt.date(2031, 1, 1))
    assert AuditEvent.objects.filter(action="members.membership_created", target_id=str(created.pk)).exists()
    changed = AuditEvent.objects.get(action="members.membership_changed", organisation=org)
    assert changed.data["changed"]["grace_days"] == ["30", "45"]


def test_membership_admin_checks_the_term_and_audits_the_change(roles):
    membership = MembershipFactory(organisation=OrganisationFactory(slug="initech"))
    staff = roles.client("staff")
    url = reverse("admin:members_membership_change", args=[membership.pk])
    end = membership.end
    data = change_form_data(staff, url)
    data["end"] = "2000-01-01"  # before the start
    response = staff.post(url, data)
    assert response.status_code in (200, 302)
    membership.refresh_from_db()
    assert membership.end == end
    data["end"] = ""
    assert staff.post(url, data).status_code == 302
    event = AuditEvent.objects.get(action="members.membership_changed", target_id=str(membership.pk))
    assert event.data["changed"]["end"] == [str(end), "None"]  # both sides, as membership_update writes them


def test_email_domain_inline_rows_are_audited(roles):
    org = roles.org
    staff = roles.client("staff")
    url = reverse("admin:members_organisation_change", args=[org.pk])
    data = change_form_data(staff, url)
    add_inline_row(data, "email_domains", domain="acme-labs.test", organisation=org.pk)
    assert staff.post(url, data).status_code == 302
    event = AuditEvent.objects.get(action="members.emaildomain_created")
    assert event.organisation == org and event.data["fields"]["domain"] == "acme-labs.test"


def test_person_added_in_admin_with_an_organisation_is_affiliated_through_the_service(roles):
    user = UserFactory(email="new@acme.test")
    staff = roles.client("staff")
    response = staff.post(
        reverse("admin:members_person_add"),
        {
            "user": user.pk,
            "full_name": "New Person",
            "github_handle": "",
            "organisation": roles.org.pk,
            "roles-TOTAL_FORMS": 0,
            "roles-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302
    person = Person.objects.get(user=user)
    assert person.organisation == roles.org and person.affiliation == Person.Affiliation.APPROVED
    assert AuditEvent.objects.filter(action="roster.person_affiliated", target_id=str(person.pk)).exists()
