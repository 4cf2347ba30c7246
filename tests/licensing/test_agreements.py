"""Agreement versions (immutable once published, numbered, diffed) and acceptances (signature records)."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from consortium.audit.models import AuditEvent
from consortium.licensing import services
from consortium.licensing.access import access_decision
from consortium.licensing.diffs import text_diff
from consortium.licensing.models import Acceptance, Agreement, AgreementVersion, Grant, sha256_text
from tests.factories import MembershipFactory, member_of
from tests.licensing.factories import AgreementFactory, DatasetFactory, publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return MembershipFactory().organisation


@pytest.fixture
def person(org):
    return member_of(org, full_name="Ana Accepter")


def sign(dataset, person, version, name=None, **kw):
    return services.agreement_accept(
        dataset=dataset,
        person=person,
        version_id=version.pk,
        text_sha256=version.text_sha256,
        typed_name=name if name is not None else person.full_name,
        actor=person.user,
        ip_address="203.0.113.9",
        user_agent="Browser/1.0",
        **kw,
    )


def test_publishing_numbers_versions_and_hashes_the_exact_text(dataset_admin):
    agreement = AgreementFactory()
    draft = services.agreement_version_draft(
        agreement=agreement, label="1.0", text="Line one\r\nLine two\r\n", actor=dataset_admin
    )
    assert draft.text == "Line one\nLine two\n"
    assert draft.text_sha256 == sha256_text("Line one\nLine two\n")
    version = services.agreement_version_publish(version=draft, actor=dataset_admin)
    assert version.number == 1 and version.published_at and version.published_by == dataset_admin
    second = services.agreement_version_publish_new(
        agreement=agreement,
        label="2.0",
        text="Line one\nLine three\n",
        effective_date=timezone.localdate(),
        is_material=True,
        grace_days=14,
        actor=dataset_admin,
    )
    assert second.number == 2
    assert AuditEvent.objects.filter(action="licensing.agreement_version_published").count() == 2


def test_published_version_never_changes(dataset_admin):
    version = publish(AgreementFactory())
    with pytest.raises(ValidationError, match="published and cannot be edited"):
        services.agreement_version_update_draft(version=version, actor=dataset_admin, text="New text")
    version.text = "Sneaky"
    with pytest.raises(PermissionError):
        version.save()
    with pytest.raises(PermissionError):
        version.delete()
    version.refresh_from_db()
    assert version.text != "Sneaky"


def test_new_version_with_identical_text_is_refused(dataset_admin):
    agreement = AgreementFactory()
    first = publish(agreement, text="Same.\n")
    with pytest.raises(ValidationError, match="identical"):
        services.agreement_version_publish_new(
            agreement=agreement,
            label="1.1",
            text="Same.\r\n",
            effective_date=timezone.localdate(),
            is_material=False,
            grace_days=0,
            actor=dataset_admin,
        )
    assert AgreementVersion.objects.filter(agreement=agreement).count() == 1 and first.number == 1


def test_version_cannot_take_effect_before_the_previous_one(dataset_admin):
    agreement = AgreementFactory()
    publish(agreement, effective=timezone.localdate())
    draft = services.agreement_version_draft(
        agreement=agreement,
        label="2.0",
        text="Other",
        effective_date=timezone.localdate() - dt.timedelta(days=3),
        actor=dataset_admin,
    )
    with pytest.raises(ValidationError, match="cannot take effect"):
        services.agreement_version_publish(version=draft, actor=dataset_admin)


def test_only_dataset_admins_publish(person):
    with pytest.raises(PermissionDenied):
        services.agreement_version_draft(agreement=AgreementFactory(), label="1", text="x", actor=person.user)


def test_diff_shows_added_and_removed_lines():
    lines = text_diff("a\nb\nc\n", "a\nB\nc\n")
    kinds = [(d.kind, d.text) for d in lines if d.kind in ("added", "removed")]
    assert kinds == [("removed", "b"), ("added", "B")]
    assert text_diff("same", "same") == []


def test_click_through_acceptance_records_everything_and_grants(person):
    version = publish(AgreementFactory())
    dataset = DatasetFactory(agreement=version.agreement)
    acceptance = sign(dataset, person, version, name="  ana   ACCEPTER ")
    assert acceptance.organisation is None
    assert acceptance.text_sha256 == version.text_sha256 and acceptance.version_label == "1.0"
    assert acceptance.typed_name == "ana ACCEPTER"
    assert acceptance.ip_address == "203.0.113.9" and acceptance.user_agent == "Browser/1.0"
    the_grant = Grant.objects.get(dataset=dataset, person=person)
    assert the_grant.acceptance == acceptance
    assert access_decision(person, dataset).allowed
    assert AuditEvent.objects.filter(action="licensing.agreement_accepted", data__sha256=version.text_sha256).exists()


def test_signature_records_are_never_changed_or_deleted(person):
    version = publish(AgreementFactory())
    acceptance = sign(DatasetFactory(agreement=version.agreement), person, version)
    acceptance.typed_name = "Someone Else"
    with pytest.raises(PermissionError):
        acceptance.save()
    with pytest.raises(PermissionError):
        acceptance.delete()
    with pytest.raises(PermissionError):
        Acceptance.objects.filter(pk=acceptance.pk).update(typed_name="x")
    with pytest.raises(PermissionError):
        Acceptance.objects.all().delete()


def test_typed_name_must_match_the_profile(person):
    version = publish(AgreementFactory())
    dataset = DatasetFactory(agreement=version.agreement)
    with pytest.raises(ValidationError, match="does not match the name on your profile"):
        sign(dataset, person, version, name="Ana Somebody")
    assert not Acceptance.objects.exists() and not Grant.objects.exists()


def test_person_without_a_name_is_told_to_add_it(org):
    nameless = member_of(org, full_name="")
    version = publish(AgreementFactory())
    with pytest.raises(ValidationError, match="Add your full name"):
        sign(DatasetFactory(agreement=version.agreement), nameless, version, name="Anything")


def test_stale_form_for_a_superseded_version_signs_nothing(person):
    agreement = AgreementFactory()
    old = publish(agreement)
    dataset = DatasetFactory(agreement=agreement)
    publish(agreement, "2.0", "New text", effective=timezone.localdate())
    with pytest.raises(ValidationError, match="changed while you were reading"):
        sign(dataset, person, old)
    assert not Acceptance.objects.exists()


def test_tampered_hash_signs_nothing(person):
    version = publish(AgreementFactory())
    with pytest.raises(ValidationError, match="changed while you were reading"):
        services.agreement_accept(
            dataset=DatasetFactory(agreement=version.agreement),
            person=person,
            version_id=version.pk,
            text_sha256="0" * 64,
            typed_name=person.full_name,
            actor=person.user,
        )


def test_accepting_the_same_version_twice_is_refused(person):
    version = publish(AgreementFactory())
    dataset = DatasetFactory(agreement=version.agreement)
    sign(dataset, person, version)
    with pytest.raises(ValidationError, match=r"already accepted version 1\.0"):
        sign(dataset, person, version)


def test_signatory_signs_for_the_whole_organisation(org, person):
    agreement = AgreementFactory(signer=Agreement.Signer.ORGANISATION)
    version = publish(agreement)
    dataset = DatasetFactory(agreement=agreement)
    signatory = member_of(org, "signatory", full_name="Sig Natory")
    acceptance = sign(dataset, signatory, version)
    assert acceptance.organisation == org
    the_grant = Grant.objects.get(dataset=dataset)
    assert the_grant.organisation == org and the_grant.person is None
    assert the_grant.membership_organisation == org
    assert access_decision(person, dataset).allowed


def test_non_signatory_cannot_sign_for_the_organisation(person):
    version = publish(AgreementFactory(signer=Agreement.Signer.ORGANISATION))
    with pytest.raises(PermissionDenied, match="signatory"):
        sign(DatasetFactory(agreement=version.agreement), person, version)
    assert not Acceptance.objects.exists()


def test_acceptance_on_an_approval_dataset_waits_for_the_approval(person, dataset_admin):
    version = publish(AgreementFactory())
    dataset = DatasetFactory(agreement=version.agreement, requires_approval=True)
    sign(dataset, person, version)
    assert not Grant.objects.exists()
    request = services.access_request_submit(dataset=dataset, person=person, purpose="Study", actor=person.user)
    the_grant = services.access_request_approve(access_request=request, actor=dataset_admin)
    assert the_grant.acceptance is not None
    assert access_decision(person, dataset).allowed


def test_reaccepting_a_material_version_lifts_the_suspension(person):
    agreement = AgreementFactory()
    v1 = publish(agreement)
    dataset = DatasetFactory(agreement=agreement)
    sign(dataset, person, v1)
    v2 = publish(agreement, "2.0", "Material change", material=True, grace_days=0, effective=timezone.localdate())
    assert services.grants_apply_grace_periods() == 1
    the_grant = Grant.objects.get(dataset=dataset, person=person)
    assert the_grant.state == Grant.State.SUSPENDED and the_grant.suspension_cause == "reacceptance"
    assert not access_decision(person, dataset).allowed
    acceptance = sign(dataset, person, v2)
    the_grant.refresh_from_db()
    assert the_grant.state == Grant.State.ACTIVE and the_grant.acceptance == acceptance
    assert access_decision(person, dataset).allowed
