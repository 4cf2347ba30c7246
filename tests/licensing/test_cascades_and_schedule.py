"""Cascades (a person leaving, membership lapsing or withdrawn, material versions past their grace
period) and the daily scheduled work (expiry, reminders, each notice once; safe to run twice)."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from consortium.audit.models import AuditEvent
from consortium.common.models import OutgoingMail
from consortium.licensing import services, tasks
from consortium.licensing.access import Missing, access_decision
from consortium.licensing.beat import SCHEDULE
from consortium.licensing.models import Agreement, Grant
from consortium.members import services as member_services
from consortium.members.models import Membership
from tests.factories import MembershipFactory, member_of
from tests.licensing.factories import AgreementFactory, DatasetFactory, accept, grant, publish

pytestmark = pytest.mark.django_db


def _notices(grant) -> list[tuple[str, str]]:
    """(kind, reference) of each notice the outbox holds about `grant`, oldest first (keys are
    licensing.grant:<id>:<kind>:<reference>→<recipient>)."""
    keys = OutgoingMail.objects.filter(about=f"licensing.grant:{grant.pk}").order_by("pk").values_list("key", flat=True)
    return [tuple(key.split("→")[0].split(":")[2:4]) for key in keys]


@pytest.fixture
def org():
    return MembershipFactory().organisation


@pytest.fixture
def person(org):
    return member_of(org, full_name="Lee Leaver")


@pytest.fixture
def primary(org):
    return member_of(org, "primary_contact", full_name="Pri Mary")


def test_person_leaving_suspends_grants_that_rested_on_the_organisation(org, person, primary):
    members_only = DatasetFactory(requires_membership=True)
    open_data = DatasetFactory()
    dependent = grant(members_only, person=person)
    independent = grant(open_data, person=person)
    member_services.person_remove_from_organisation(person=person, actor=primary.user, reason="Left the company")
    dependent.refresh_from_db()
    independent.refresh_from_db()
    assert dependent.state == Grant.State.SUSPENDED and dependent.suspension_cause == "departure"
    assert independent.state == Grant.State.ACTIVE
    assert AuditEvent.objects.filter(action="licensing.grant_suspended", target_id=str(dependent.pk)).exists()
    person.refresh_from_db()
    assert access_decision(person, members_only).codes[0] == Missing.NOT_MEMBER


def test_leaver_loses_organisation_wide_access_but_the_organisation_keeps_it(org, person, primary):
    agreement = AgreementFactory(signer=Agreement.Signer.ORGANISATION)
    version = publish(agreement)
    dataset = DatasetFactory(agreement=agreement)
    signatory = member_of(org, "signatory", full_name="Sig Natory")
    accept(version, signatory, organisation=org)
    org_grant = grant(dataset, organisation=org)
    assert access_decision(person, dataset).allowed
    member_services.person_remove_from_organisation(person=person, actor=primary.user)
    person.refresh_from_db()
    assert not access_decision(person, dataset).allowed
    org_grant.refresh_from_db()
    assert org_grant.state == Grant.State.ACTIVE
    assert access_decision(signatory, dataset).allowed


@pytest.mark.parametrize(
    "lapse",
    [
        {"end": -200},
        {"staff_override": Membership.Override.WITHDRAWN},
        {"staff_override": Membership.Override.SUSPENDED},
    ],
    ids=["lapsed", "withdrawn", "suspended"],
)
def test_daily_run_suspends_grants_of_a_lapsed_membership_and_restores_them_on_renewal(org, person, lapse):
    dataset = DatasetFactory(requires_membership=True)
    the_grant = grant(dataset, person=person)
    membership = org.memberships.get()
    if "end" in lapse:
        membership.end = timezone.localdate() + dt.timedelta(days=lapse["end"])
    else:
        membership.staff_override = lapse["staff_override"]
    membership.save()
    result = services.licensing_daily()
    the_grant.refresh_from_db()
    assert result["suspended"] == 1
    assert the_grant.state == Grant.State.SUSPENDED and the_grant.suspension_cause == "membership"
    # Renewed: the next daily run lifts the suspension.
    membership.end = timezone.localdate() + dt.timedelta(days=365)
    membership.staff_override = ""
    membership.save()
    assert services.licensing_daily()["reinstated"] == 1
    the_grant.refresh_from_db()
    assert the_grant.state == Grant.State.ACTIVE
    assert access_decision(person, dataset).allowed


def test_material_version_suspends_after_grace_and_notifies_once(person, django_capture_on_commit_callbacks):
    agreement = AgreementFactory()
    v1 = publish(agreement)
    dataset = DatasetFactory(agreement=agreement)
    accept(v1, person)
    the_grant = grant(dataset, person=person, acceptance=None)
    v2 = publish(agreement, "2.0", "Changed", material=True, grace_days=10, effective=timezone.localdate())
    with django_capture_on_commit_callbacks(execute=True):
        services.licensing_daily()
        services.licensing_daily()
    the_grant.refresh_from_db()
    assert the_grant.state == Grant.State.ACTIVE  # still within the grace period
    assert _notices(the_grant) == [("new_version", str(v2.pk))]
    assert len([m for m in mail.outbox if "version 2.0" in m.subject]) == 1
    later = timezone.now() + dt.timedelta(days=11)
    assert services.licensing_daily(at=later)["reacceptance_suspended"] == 1
    assert services.licensing_daily(at=later)["reacceptance_suspended"] == 0
    the_grant.refresh_from_db()
    assert the_grant.state == Grant.State.SUSPENDED and the_grant.suspension_cause == "reacceptance"


def test_non_material_version_suspends_nobody(person):
    agreement = AgreementFactory()
    accept(publish(agreement), person)
    the_grant = grant(DatasetFactory(agreement=agreement), person=person)
    publish(agreement, "1.1", "Typo", material=False, grace_days=0, effective=timezone.localdate())
    services.licensing_daily(at=timezone.now() + dt.timedelta(days=1))
    the_grant.refresh_from_db()
    assert the_grant.state == Grant.State.ACTIVE


def test_daily_run_expires_grants_past_their_end(person, django_capture_on_commit_callbacks):
    the_grant = grant(DatasetFactory(), person=person, ends_at=timezone.now() - dt.timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.licensing_daily()["expired"] == 1
    assert services.licensing_daily()["expired"] == 0
    the_grant.refresh_from_db()
    assert the_grant.state == Grant.State.EXPIRED and the_grant.ended_at
    assert [kind for kind, _ in _notices(the_grant)] == ["expired"]
    assert [m.to for m in mail.outbox] == [[person.user.email]]
    assert AuditEvent.objects.filter(action="licensing.grant_expired").count() == 1


def test_reminders_go_out_30_and_7_days_before_the_end_each_once(person, django_capture_on_commit_callbacks):
    now = timezone.now()
    the_grant = grant(DatasetFactory(name="Speech"), person=person, ends_at=now + dt.timedelta(days=40))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.grants_send_expiry_reminders(at=now) == 0
        assert services.grants_send_expiry_reminders(at=now + dt.timedelta(days=11)) == 1
        assert services.grants_send_expiry_reminders(at=now + dt.timedelta(days=12)) == 0
        assert services.grants_send_expiry_reminders(at=now + dt.timedelta(days=34)) == 1
        assert services.grants_send_expiry_reminders(at=now + dt.timedelta(days=35)) == 0
    assert sorted(kind for kind, _ in _notices(the_grant)) == ["expiry_30", "expiry_7"]
    assert len(mail.outbox) == 2 and all("Speech" in m.subject for m in mail.outbox)


def test_extended_grant_is_reminded_again_for_its_new_end(person, dataset_admin):
    now = timezone.now()
    the_grant = grant(DatasetFactory(), person=person, ends_at=now + dt.timedelta(days=20))
    assert services.grants_send_expiry_reminders(at=now) == 1
    services.grant_extend(grant=the_grant, ends_at=now + dt.timedelta(days=25), actor=dataset_admin)
    assert services.grants_send_expiry_reminders(at=now) == 1
    assert [kind for kind, _ in _notices(the_grant)] == ["expiry_30", "expiry_30"]


def test_grant_created_a_few_days_before_its_end_gets_only_the_7_day_reminder(person):
    now = timezone.now()
    the_grant = grant(DatasetFactory(), person=person, ends_at=now + dt.timedelta(days=5))
    assert services.grants_send_expiry_reminders(at=now) == 1
    assert services.grants_send_expiry_reminders(at=now + dt.timedelta(days=1)) == 0
    assert [kind for kind, _ in _notices(the_grant)] == ["expiry_7"]


def test_tasks_are_thin_and_safe_to_run_twice(person):
    grant(DatasetFactory(), person=person, ends_at=timezone.now() - dt.timedelta(minutes=1))
    first = tasks.licensing_daily.run(unknown_future_argument=1)
    second = tasks.licensing_daily.run()
    assert first["expired"] == 1 and second["expired"] == 0
    assert tasks.notify_new_agreement_version.run(version_id=999999) == 0


def test_beat_runs_the_daily_task():
    entry = SCHEDULE["licensing-daily"]
    assert entry["task"] == "licensing.daily"
    assert entry["task"] in tasks.licensing_daily.name


def test_organisation_grant_is_suspended_when_its_membership_lapses(org):
    agreement = AgreementFactory(signer=Agreement.Signer.ORGANISATION)
    version = publish(agreement)
    dataset = DatasetFactory(agreement=agreement)
    signatory = member_of(org, "signatory", full_name="Sig Natory")
    accept(version, signatory, organisation=org)
    org_grant = grant(dataset, organisation=org)
    Membership.objects.filter(organisation=org).update(staff_override=Membership.Override.WITHDRAWN)
    services.licensing_daily()
    org_grant.refresh_from_db()
    assert org_grant.state == Grant.State.SUSPENDED and org_grant.suspension_cause == "membership"
