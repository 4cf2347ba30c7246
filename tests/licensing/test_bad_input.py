"""Bad input gets a clear message and changes nothing: invalid SPDX, editing a published agreement,
a stale acceptance form, expired or foreign or revoked download links, deciding a decided request,
a typed name that does not match."""

import time
from unittest import mock

import pytest
from django.urls import reverse

from consortium.licensing import downloads, services
from consortium.licensing.access import access_decision
from consortium.licensing.models import Acceptance, AccessRequest, AgreementVersion, Grant, Licence
from consortium.licensing.spdx import InvalidExpression, normalise_expression
from tests.licensing.factories import AgreementFactory, DatasetFactory, access_request, grant, publish

pytestmark = pytest.mark.django_db


def page_text(response) -> str:
    return response.content.decode()


# --- SPDX -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "normalised"),
    [
        ("CC-BY-4.0 AND CC-BY-SA-4.0", "CC-BY-4.0 AND CC-BY-SA-4.0"),
        ("cc-by-4.0 and cc-by-sa-4.0", "CC-BY-4.0 AND CC-BY-SA-4.0"),
        ("  MIT   OR  Apache-2.0 ", "MIT OR Apache-2.0"),
        ("GPL-2.0+", "GPL-2.0-or-later"),
        ("LicenseRef-Consortium-Members", "LicenseRef-Consortium-Members"),
        ("CC-BY-4.0 AND LicenseRef-Extra-Terms", "CC-BY-4.0 AND LicenseRef-Extra-Terms"),
    ],
)
def test_valid_expressions_are_normalised(expression, normalised):
    assert normalise_expression(expression) == normalised


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("Foo-1.0", "Unknown licence identifier: Foo-1.0"),
        ("CC-BY-4.0 AND Bar-2", "Unknown licence identifier: Bar-2"),
        ("MIT OR (Apache-2.0 AND", "is not a valid SPDX licence expression"),
        ("MIT WITH Apache-2.0", "is not a valid SPDX licence expression"),
        ("LicenseRef-scancode-made-up", "Unknown licence identifier"),
        ("", "Enter a licence expression"),
    ],
)
def test_invalid_expressions_are_refused_with_the_reason(expression, message):
    with pytest.raises(InvalidExpression, match=message.replace("(", r"\(")):
        normalise_expression(expression)


def test_catalogue_is_seeded_from_the_offline_spdx_list():
    assert Licence.objects.filter(from_spdx_list=True).count() > 500
    cc_by_sa = Licence.objects.get(expression="CC-BY-SA-4.0")
    assert cc_by_sa.attribution and cc_by_sa.share_alike and not cc_by_sa.non_commercial
    assert Licence.objects.get(expression="CC-BY-NC-4.0").non_commercial
    assert services.licence_catalogue_sync() == 0  # idempotent


def test_admin_refuses_an_invalid_spdx_expression(lroles):
    client = lroles.client("dataset_admin")
    before = Licence.objects.count()
    response = client.post(reverse("admin:licensing_licence_add"), {"expression": "Foo-1.0", "name": "Foo"})
    assert response.status_code == 200
    assert "Unknown licence identifier: Foo-1.0" in page_text(response)
    assert Licence.objects.count() == before


def test_admin_normalises_a_valid_expression(lroles):
    client = lroles.client("dataset_admin")
    response = client.post(
        reverse("admin:licensing_licence_add"),
        {"expression": "cc-by-4.0 and cc-by-nc-4.0", "name": "Mixed", "attribution": "on"},
    )
    assert response.status_code == 302
    assert Licence.objects.filter(expression="CC-BY-4.0 AND CC-BY-NC-4.0").exists()


def test_admin_refuses_a_duplicate_after_normalising(lroles):
    response = lroles.client("dataset_admin").post(reverse("admin:licensing_licence_add"), {"expression": "cc-by-4.0"})
    assert response.status_code == 200 and "already exists" in page_text(response)


def test_admin_refuses_a_reserved_dataset_slug(lroles):
    response = lroles.client("dataset_admin").post(
        reverse("admin:licensing_dataset_add"),
        {
            "name": "Mine",
            "slug": "mine",
            "request_cooldown_days": 30,
            "subsets-TOTAL_FORMS": 0,
            "subsets-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200 and "is a page of the dataset catalogue" in page_text(response)


# --- Published agreements ---------------------------------------------------------------------


def test_editing_a_published_agreement_in_the_admin_changes_nothing(lroles):
    version = publish(AgreementFactory(), text="Original text.\n")
    client = lroles.client("dataset_admin")
    url = reverse("admin:licensing_agreementversion_change", args=[version.pk])
    page = client.get(url)
    assert "read-only" in page_text(page) and 'name="text"' not in page_text(page)
    response = client.post(
        url,
        {"agreement": version.agreement_id, "label": "1.0", "text": "Rewritten.", "grace_days": 0},
        follow=True,
    )
    assert "is published and cannot be edited; nothing changed" in page_text(response)
    version.refresh_from_db()
    assert version.text == "Original text.\n"


def test_published_version_cannot_be_deleted_in_the_admin(lroles):
    version = publish(AgreementFactory())
    response = lroles.client("dataset_admin").post(
        reverse("admin:licensing_agreementversion_delete", args=[version.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert AgreementVersion.objects.filter(pk=version.pk).exists()


def test_publishing_identical_text_is_refused_in_the_admin(lroles):
    version = publish(AgreementFactory(), text="Same.\n")
    response = lroles.client("dataset_admin").post(
        reverse("admin:licensing_agreement_publish", args=[version.agreement_id]),
        {
            "label": "1.1",
            "text": "Same.\r\n",
            "effective_date": version.effective_date.today().isoformat(),
            "grace_days": 0,
            "_publish": "1",
        },
    )
    assert response.status_code == 200 and "identical to version 1.0" in page_text(response)
    assert AgreementVersion.objects.filter(agreement=version.agreement).count() == 1


# --- Accepting --------------------------------------------------------------------------------


@pytest.fixture
def click(lroles):
    version = publish(AgreementFactory(name="Click terms"), text="# Terms\n\nBe nice.\n")
    return DatasetFactory(slug="click", agreement=version.agreement), version


def test_stale_acceptance_form_signs_nothing_and_shows_the_new_text(lroles, click):
    dataset, old = click
    client = lroles.client("member")
    assert client.get(reverse("licensing:accept", args=[dataset.slug])).status_code == 200
    new = publish(old.agreement, "2.0", "# Terms\n\nBe very nice.\n", material=True, effective=old.effective_date)
    response = client.post(
        reverse("licensing:accept", args=[dataset.slug]),
        {
            "version_id": old.pk,
            "text_sha256": old.text_sha256,
            "typed_name": lroles.member.person.full_name,
            "confirm": "on",
        },
    )
    assert response.status_code == 400
    text = page_text(response)
    assert "The agreement changed while you were reading it: version 2.0 is now in force" in text
    assert "Be very nice." in text and f'value="{new.pk}"' in text
    assert not Acceptance.objects.exists()


def test_typed_name_not_matching_the_profile_is_refused(lroles, click):
    dataset, version = click
    response = lroles.client("member").post(
        reverse("licensing:accept", args=[dataset.slug]),
        {"version_id": version.pk, "text_sha256": version.text_sha256, "typed_name": "Not Me", "confirm": "on"},
    )
    assert response.status_code == 400
    assert "does not match the name on your profile" in page_text(response)
    assert not Acceptance.objects.exists() and not Grant.objects.exists()


def test_unticked_confirmation_is_refused(lroles, click):
    dataset, version = click
    response = lroles.client("member").post(
        reverse("licensing:accept", args=[dataset.slug]),
        {"version_id": version.pk, "text_sha256": version.text_sha256, "typed_name": "x"},
    )
    assert response.status_code == 400 and "Tick the box" in page_text(response)


def test_empty_request_purpose_is_refused(lroles):
    dataset = DatasetFactory(slug="appr", requires_approval=True, access_questions="Who are you?")
    response = lroles.client("member").post(
        reverse("licensing:request_access", args=[dataset.slug]), {"purpose": "", "answer_0": ""}
    )
    assert response.status_code == 400 and "This field is required." in page_text(response)
    assert not AccessRequest.objects.exists()


# --- Download links ---------------------------------------------------------------------------


@pytest.fixture
def link(lroles, click):
    dataset, version = click
    person = lroles.member.person
    services.agreement_accept(
        dataset=dataset,
        person=person,
        version_id=version.pk,
        text_sha256=version.text_sha256,
        typed_name=person.full_name,
        actor=lroles.member,
    )
    decision = access_decision(person, dataset)
    return dataset, decision, downloads.download_links_issue(dataset=dataset, decision=decision, actor=lroles.member)


def test_valid_link_downloads_the_file_with_the_attribution(lroles, link):
    _dataset, decision, links = link
    response = lroles.client("member").get(reverse("licensing:download_file", args=[links[0].token]))
    assert response.status_code == 200
    assert b"Cite the test dataset." in response.content
    assert decision.acceptance.text_sha256.encode() in response.content


def test_expired_link_is_refused(lroles, link):
    dataset, decision, _ = link
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 3600):
        old = downloads.download_links_issue(dataset=dataset, decision=decision, actor=lroles.member)[0]
    response = lroles.client("member").get(reverse("licensing:download_file", args=[old.token]))
    assert response.status_code == 410 and "This download link has expired" in page_text(response)


def test_tampered_link_is_refused(lroles, link):
    _, _, links = link
    response = lroles.client("member").get(reverse("licensing:download_file", args=[links[0].token[:-2] + "xx"]))
    assert response.status_code == 403 and "This download link is not valid" in page_text(response)


def test_foreign_link_is_refused(lroles, link):
    _, _, links = link
    response = lroles.client("submitter").get(reverse("licensing:download_file", args=[links[0].token]))
    assert response.status_code == 403 and "issued to another account" in page_text(response)


def test_link_stops_working_when_the_grant_is_revoked(lroles, link):
    _dataset, decision, links = link
    services.grant_revoke(grant=decision.grant, actor=lroles.dataset_admin, reason="Terms broken")
    response = lroles.client("member").get(reverse("licensing:download_file", args=[links[0].token]))
    assert response.status_code == 403
    assert "You no longer have access" in page_text(response) and "revoked" in page_text(response)


def test_link_stops_working_after_a_material_version_must_be_accepted(lroles, link):
    dataset, decision, links = link
    publish(
        dataset.agreement,
        "2.0",
        "New terms",
        material=True,
        grace_days=0,
        effective=decision.acceptance.agreement_version.effective_date,
    )
    response = lroles.client("member").get(
        reverse("licensing:download_file", args=[links[1 if len(links) > 1 else 0].token])
    )
    assert response.status_code == 403 and "version 2.0" in page_text(response)


def test_link_of_an_earlier_grant_is_refused(lroles, link):
    dataset, decision, links = link
    Grant.objects.filter(pk=decision.grant.pk).update(state=Grant.State.EXPIRED)
    grant(dataset, person=lroles.member.person, acceptance=decision.acceptance)
    response = lroles.client("member").get(reverse("licensing:download_file", args=[links[0].token]))
    assert response.status_code == 403 and "no longer in force" in page_text(response)


# --- Deciding requests twice ------------------------------------------------------------------


def test_approving_an_already_decided_request_in_the_admin_changes_nothing(lroles):
    dataset = DatasetFactory(requires_approval=True)
    request = access_request(dataset, lroles.member.person)
    client = lroles.client("dataset_admin")
    url = reverse("admin:licensing_accessrequest_changelist")
    data = {"action": "approve_requests", "_selected_action": [request.pk], "apply": "1", "reason": ""}
    assert client.post(url, data).status_code == 302
    response = client.post(url, data, follow=True)
    assert f"Request #{request.pk} from" in page_text(response)
    assert "was already approved by licensing@test.example" in page_text(response)
    assert "nothing changed" in page_text(response)
    assert Grant.objects.filter(dataset=dataset).count() == 1


def test_rejecting_without_a_reason_shows_the_form_again(lroles):
    request = access_request(DatasetFactory(requires_approval=True), lroles.member.person)
    response = lroles.client("dataset_admin").post(
        reverse("admin:licensing_accessrequest_changelist"),
        {"action": "reject_requests", "_selected_action": [request.pk], "apply": "1", "reason": ""},
    )
    assert response.status_code == 200 and "Give a reason: the person sees it." in page_text(response)
    request.refresh_from_db()
    assert request.state == AccessRequest.State.SUBMITTED
