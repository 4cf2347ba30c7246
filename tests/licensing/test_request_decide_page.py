"""The dataset admin's page per access request: person, organisation, purpose, answers, history, and
Approve / Return / Decline with a reason, through the licensing services."""

import pytest
from django.urls import reverse

from consortium.audit.models import AuditEvent
from consortium.licensing.models import Grant
from tests.licensing.factories import DatasetFactory, access_request

pytestmark = pytest.mark.django_db
DECIDE = "admin:licensing_accessrequest_decide"


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def request_(lroles):
    dataset = DatasetFactory(requires_approval=True, name="Clinical speech")
    access_request(dataset, lroles.member.person, state="rejected", reason="Say more about the study.")
    return access_request(
        dataset, lroles.member.person, purpose="Speech research on accents.",
        answers=[{"question": "Which institution reviews your ethics?", "answer": "Acme AI ethics board"}],
    )  # fmt: skip


def test_page_shows_who_asks_for_what_and_the_history(lroles, request_):
    page = text(lroles.client("dataset_admin").get(reverse(DECIDE, args=[request_.pk])))
    assert "member@acme.test" in page and "Acme AI" in page and "Clinical speech" in page
    assert "Speech research on accents." in page
    assert "Which institution reviews your ethics?" in page and "Acme AI ethics board" in page
    assert "Earlier request" in page and "Say more about the study." in page
    assert 'value="approve"' in page and 'value="reject"' in page and 'value="return"' in page


def test_approve_from_the_page_grants_access(lroles, request_):
    client = lroles.client("dataset_admin")
    response = client.post(reverse(DECIDE, args=[request_.pk]), {"decision": "approve", "reason": ""}, follow=True)
    assert "Request of" in text(response) and "approved" in text(response)
    request_.refresh_from_db()
    assert request_.state == "approved" and request_.reviewer == lroles.dataset_admin
    assert Grant.objects.filter(access_request=request_).exists()
    assert AuditEvent.objects.filter(action="licensing.request_approved", target_id=str(request_.pk)).exists()
    page = text(client.get(reverse(DECIDE, args=[request_.pk])))
    assert 'value="approve"' not in page and "licensing.request_approved" in page


def test_decline_needs_a_reason_and_keeps_the_request_open(lroles, request_):
    client = lroles.client("dataset_admin")
    response = client.post(reverse(DECIDE, args=[request_.pk]), {"decision": "reject", "reason": ""})
    assert response.status_code == 400 and "Give a reason: the person sees it." in text(response)
    request_.refresh_from_db()
    assert request_.state == "submitted"
    client.post(reverse(DECIDE, args=[request_.pk]), {"decision": "reject", "reason": "Not a clinical study."})
    request_.refresh_from_db()
    assert request_.state == "rejected" and request_.reason == "Not a clinical study."


@pytest.mark.parametrize("role", ["anonymous", "member", "submitter", "primary", "chair"])
def test_others_cannot_open_or_decide(lroles, request_, role):
    response = lroles.client(role).post(reverse(DECIDE, args=[request_.pk]), {"decision": "approve"})
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert "/login/" in response["Location"]
    request_.refresh_from_db()
    assert request_.state == "submitted"


def test_staff_admin_decides_too(lroles, request_):
    lroles.staff.person.is_demo = True
    lroles.staff.person.save(update_fields=["is_demo"])
    lroles.client("staff").post(reverse(DECIDE, args=[request_.pk]), {"decision": "return", "reason": "Add a plan."})
    request_.refresh_from_db()
    assert request_.state == "returned"


def test_published_agreement_versions_offer_no_delete(lroles):
    from tests.licensing.factories import AgreementFactory, publish

    agreement = AgreementFactory()
    version = publish(agreement)
    client = lroles.client("dataset_admin")
    page = text(client.get(reverse("admin:licensing_agreement_change", args=[agreement.pk])))
    assert "versions-0-DELETE" not in page and "-DELETE" not in page
    assert reverse("admin:licensing_agreement_delete", args=[agreement.pk]) not in page
    page = text(client.get(reverse("admin:licensing_agreementversion_change", args=[version.pk])))
    assert reverse("admin:licensing_agreementversion_delete", args=[version.pk]) not in page
    assert (
        client.post(reverse("admin:licensing_agreement_delete", args=[agreement.pk]), {"post": "yes"}).status_code
        == 403
    )


def test_dashboard_says_what_is_true_about_2fa_in_demo_mode(lroles, settings):
    settings.DEMO_MODE = True
    lroles.dataset_admin.authenticator_set.all().delete()  # the roles fixture gives it TOTP; here: none
    page = text(lroles.client("dataset_admin").get("/dashboard/"))  # a demo account
    assert "Staff accounts need it before they can use the admin." not in page
    assert "Demo mode lets this demo account use the admin without it" in page
    lroles.dataset_admin.person.is_demo = False
    lroles.dataset_admin.person.save(update_fields=["is_demo"])
    # Not a demo account: a staff session without MFA is sent to set it up before any page.
    response = lroles.client("dataset_admin").get("/dashboard/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/totp/activate")
