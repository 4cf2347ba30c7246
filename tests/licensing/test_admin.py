"""The licensing admin, driven through the client: queue decisions, grant actions, versions, explain,
exports, dashboard."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from consortium.audit.models import AuditEvent
from consortium.licensing.models import AccessRequest, AgreementVersion, Grant
from tests.licensing.factories import AgreementFactory, DatasetFactory, accept, access_request, grant, publish

pytestmark = pytest.mark.django_db
CHANGELIST_REQUESTS = "admin:licensing_accessrequest_changelist"
CHANGELIST_GRANTS = "admin:licensing_grant_changelist"


@pytest.fixture
def admin_client(lroles):
    return lroles.client("dataset_admin")


def text(response) -> str:
    return response.content.decode()


def test_bulk_approval_goes_through_an_intermediate_page(lroles, admin_client):
    dataset = DatasetFactory(requires_approval=True)
    requests = [access_request(dataset, lroles.member.person), access_request(dataset, lroles.submitter.person)]
    ids = [r.pk for r in requests]
    url = reverse(CHANGELIST_REQUESTS)
    page = admin_client.post(url, {"action": "approve_requests", "_selected_action": ids})
    assert page.status_code == 200 and "Approve 2 requests" in text(page)
    assert not Grant.objects.exists()
    until = timezone.localdate() + dt.timedelta(days=60)
    response = admin_client.post(
        url,
        {"action": "approve_requests", "_selected_action": ids, "apply": "1", "reason": "OK", "ends_at": until},
        follow=True,
    )
    assert "Approved 2 requests." in text(response)
    assert set(AccessRequest.objects.values_list("state", flat=True)) == {"approved"}
    assert Grant.objects.filter(dataset=dataset, ends_at__date=until).count() == 2
    assert AuditEvent.objects.filter(action="licensing.request_approved", actor=lroles.dataset_admin).count() == 2


def test_bulk_rejection_with_a_reason(lroles, admin_client):
    request = access_request(DatasetFactory(requires_approval=True), lroles.member.person)
    response = admin_client.post(
        reverse(CHANGELIST_REQUESTS),
        {"action": "reject_requests", "_selected_action": [request.pk], "apply": "1", "reason": "Not research"},
        follow=True,
    )
    assert "Rejected 1 request." in text(response)
    request.refresh_from_db()
    assert request.state == "rejected" and request.reason == "Not research" and request.reviewer == lroles.dataset_admin


def test_return_for_changes(lroles, admin_client):
    request = access_request(DatasetFactory(requires_approval=True), lroles.member.person)
    admin_client.post(
        reverse(CHANGELIST_REQUESTS),
        {"action": "return_requests", "_selected_action": [request.pk], "apply": "1", "reason": "Name the lab"},
    )
    request.refresh_from_db()
    assert request.state == "returned"


def test_intermediate_page_warns_about_already_decided_requests(lroles, admin_client):
    dataset = DatasetFactory(requires_approval=True)
    decided = access_request(dataset, lroles.member.person, state="approved")
    response = admin_client.post(
        reverse(CHANGELIST_REQUESTS), {"action": "approve_requests", "_selected_action": [decided.pk]}
    )
    assert "1 of the selected requests is already decided" in text(response)


def test_requests_are_read_only_in_the_admin(lroles, admin_client):
    request = access_request(DatasetFactory(requires_approval=True), lroles.member.person)
    url = reverse("admin:licensing_accessrequest_change", args=[request.pk])
    page = admin_client.get(url, follow=True)
    assert page.redirect_chain[-1][0] == reverse("admin:licensing_accessrequest_decide", args=[request.pk])
    assert page.status_code == 200 and 'name="state"' not in text(page)
    admin_client.post(url, {"state": "approved"})
    request.refresh_from_db()
    assert request.state == "submitted"


def test_revoke_action_with_reason(lroles, admin_client):
    the_grant = grant(DatasetFactory(), person=lroles.member.person)
    url = reverse(CHANGELIST_GRANTS)
    page = admin_client.post(url, {"action": "revoke_grants", "_selected_action": [the_grant.pk]})
    assert "Revoke 1 grant" in text(page) and "download links stop working" in text(page)
    missing_reason = admin_client.post(
        url, {"action": "revoke_grants", "_selected_action": [the_grant.pk], "apply": "1", "reason": ""}
    )
    assert "Give a reason: the holder sees it." in text(missing_reason)
    response = admin_client.post(
        url,
        {"action": "revoke_grants", "_selected_action": [the_grant.pk], "apply": "1", "reason": "Misuse"},
        follow=True,
    )
    assert "Revoked 1 grant." in text(response)
    the_grant.refresh_from_db()
    assert the_grant.state == "revoked" and the_grant.reason == "Misuse"


def test_extend_action(lroles, admin_client):
    the_grant = grant(DatasetFactory(), person=lroles.member.person)
    new_end = timezone.localdate() + dt.timedelta(days=500)
    response = admin_client.post(
        reverse(CHANGELIST_GRANTS),
        {"action": "extend_grants", "_selected_action": [the_grant.pk], "apply": "1", "ends_at": new_end},
        follow=True,
    )
    assert "Extended 1 grant." in text(response)
    the_grant.refresh_from_db()
    assert the_grant.ends_at.date() == new_end
    past = admin_client.post(
        reverse(CHANGELIST_GRANTS),
        {"action": "extend_grants", "_selected_action": [the_grant.pk], "apply": "1", "ends_at": "2000-01-01"},
    )
    assert "The new end must be after today." in text(past)


def test_reinstate_action(lroles, admin_client):
    the_grant = grant(DatasetFactory(), person=lroles.member.person, state="suspended", suspension_cause="admin")
    response = admin_client.post(
        reverse(CHANGELIST_GRANTS), {"action": "reinstate_grants", "_selected_action": [the_grant.pk]}, follow=True
    )
    assert "Reinstated 1 grant." in text(response)
    the_grant.refresh_from_db()
    assert the_grant.state == "active"


@pytest.mark.parametrize(
    ("status", "expected"),
    [("expiring", {"soon"}), ("suspended", {"suspended"}), ("revoked", {"revoked"}), ("active", {"soon", "later"})],
)
def test_grant_filters(lroles, admin_client, status, expected):
    now = timezone.now()
    made = {
        "soon": grant(DatasetFactory(), person=lroles.member.person, ends_at=now + dt.timedelta(days=10)),
        "later": grant(DatasetFactory(), person=lroles.member.person, ends_at=now + dt.timedelta(days=100)),
        "suspended": grant(DatasetFactory(), person=lroles.member.person, state="suspended"),
        "revoked": grant(DatasetFactory(), person=lroles.member.person, state="revoked"),
    }
    response = admin_client.get(reverse(CHANGELIST_GRANTS) + f"?status={status}")
    shown = {name for name, g in made.items() if f'value="{g.pk}"' in text(response)}
    assert shown == expected


def test_grant_add_view_uses_the_service(lroles, admin_client):
    dataset = DatasetFactory()
    response = admin_client.post(
        reverse("admin:licensing_grant_add"),
        {"dataset": dataset.pk, "person": lroles.chair.person.pk, "reason": "Invited reviewer"},
        follow=True,
    )
    assert "Granted access" in text(response)
    assert Grant.objects.get(dataset=dataset).granted_by == lroles.dataset_admin
    both = admin_client.post(
        reverse("admin:licensing_grant_add"),
        {"dataset": dataset.pk, "person": lroles.chair.person.pk, "organisation": lroles.org.pk},
    )
    assert "Choose a person or an organisation" in text(both)


def test_publish_new_version_previews_the_diff_then_publishes(lroles, admin_client):
    old = publish(AgreementFactory(name="Terms"), text="Keep this line.\nRemove this line.\n")
    url = reverse("admin:licensing_agreement_publish", args=[old.agreement_id])
    page = admin_client.get(url)
    assert "Remove this line." in text(page) and 'value="1.1"' in text(page)
    # Browsers' date inputs need ISO dates, or they show an empty required field.
    assert f'type="date" name="effective_date" value="{timezone.localdate().isoformat()}"' in text(page)
    data = {
        "label": "2.0",
        "text": "Keep this line.\r\nAdd this line.\r\n",
        "effective_date": timezone.localdate().isoformat(),
        "is_material": "on",
        "grace_days": "14",
        "change_summary": "New duty",
    }
    preview = admin_client.post(url, {**data, "_preview": "1"})
    assert '<span class="diff-removed">- Remove this line.</span>' in text(preview)
    assert '<span class="diff-added">+ Add this line.</span>' in text(preview)
    assert AgreementVersion.objects.filter(agreement=old.agreement).count() == 1
    response = admin_client.post(url, {**data, "_publish": "1"}, follow=True)
    new = AgreementVersion.objects.get(agreement=old.agreement, label="2.0")
    assert new.number == 2 and new.is_material and new.grace_days == 14 and new.text.endswith("Add this line.\n")
    assert "Published version 2.0" in text(response) and "holders must accept it by" in text(response)
    assert "diff-added" in text(response)  # the version page shows the diff against 1.0


def test_publish_action_redirects_to_the_publish_page(lroles, admin_client):
    agreement = AgreementFactory()
    response = admin_client.post(
        reverse("admin:licensing_agreement_changelist"),
        {"action": "publish_new_version", "_selected_action": [agreement.pk]},
    )
    assert response.status_code == 302 and response["Location"].endswith(f"/{agreement.pk}/publish/")


def test_draft_versions_are_added_edited_and_published_in_the_admin(lroles, admin_client):
    agreement = AgreementFactory()
    add = admin_client.post(
        reverse("admin:licensing_agreementversion_add"),
        {
            "agreement": agreement.pk,
            "label": "1.0",
            "text": "Draft",
            "effective_date": timezone.localdate().isoformat(),
            "grace_days": 30,
        },
    )
    assert add.status_code == 302
    draft = AgreementVersion.objects.get(agreement=agreement)
    assert draft.published_at is None
    admin_client.post(
        reverse("admin:licensing_agreementversion_change", args=[draft.pk]),
        {
            "agreement": agreement.pk,
            "label": "1.0",
            "text": "Draft, edited",
            "effective_date": timezone.localdate().isoformat(),
            "grace_days": 30,
        },
    )
    draft.refresh_from_db()
    assert draft.text == "Draft, edited"
    response = admin_client.post(
        reverse("admin:licensing_agreementversion_changelist"),
        {"action": "publish_drafts", "_selected_action": [draft.pk]},
        follow=True,
    )
    draft.refresh_from_db()
    assert draft.is_published and "Published" in text(response)


def test_signature_records_are_read_only_in_the_admin(lroles, admin_client):
    acceptance = accept(publish(AgreementFactory()), lroles.member.person)
    url = reverse("admin:licensing_acceptance_change", args=[acceptance.pk])
    assert 'name="typed_name"' not in text(admin_client.get(url))
    assert admin_client.post(url, {"typed_name": "Forged"}).status_code == 403
    assert admin_client.get(reverse("admin:licensing_acceptance_add")).status_code == 403
    assert admin_client.post(reverse("admin:licensing_acceptance_delete", args=[acceptance.pk])).status_code == 403


def test_explain_access_shows_what_is_missing(lroles, admin_client):
    agreement = AgreementFactory(name="Research terms")
    publish(agreement)
    dataset = DatasetFactory(requires_approval=True, agreement=agreement, requires_membership=True)
    response = admin_client.get(
        reverse("admin:licensing_explain"), {"person": "member@acme.test", "dataset": dataset.pk}
    )
    body = text(response)
    assert "Access denied." in body
    assert "request_needed" in body and "agreement_not_accepted" in body
    assert "Acme AI" in body
    unknown = admin_client.get(reverse("admin:licensing_explain"), {"person": "nobody@x.test", "dataset": dataset.pk})
    assert "No person with the email address nobody@x.test." in text(unknown)


def test_csv_exports(lroles, admin_client):
    dataset = DatasetFactory(slug="speech")
    version = publish(AgreementFactory())
    accept(version, lroles.member.person)
    grant(dataset, person=lroles.member.person, reason="=HYPERLINK(1)")
    access_request(DatasetFactory(requires_approval=True), lroles.submitter.person, purpose="Study")
    rows = {}
    for kind in ("grants", "acceptances", "requests"):
        response = admin_client.get(reverse("admin:licensing_export", args=[kind]))
        assert response["Content-Type"].startswith("text/csv")
        rows[kind] = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows["grants"][0][:3] == ["grant_id", "dataset", "person_email"]
    assert rows["grants"][1][1:3] == ["speech", "member@acme.test"]
    assert rows["grants"][1][-1] == "'=HYPERLINK(1)"  # formula neutralised
    assert rows["acceptances"][1][3] == version.text_sha256
    assert rows["requests"][1][2] == "submitter@acme.test"
    action = admin_client.post(
        reverse(CHANGELIST_GRANTS), {"action": "export_csv", "_selected_action": [Grant.objects.get().pk]}
    )
    assert action["Content-Type"].startswith("text/csv") and b"speech" in action.content


def test_dashboard_lists_pending_work(lroles, admin_client):
    dataset = DatasetFactory(name="Queue data", requires_approval=True)
    access_request(dataset, lroles.member.person)
    grant(DatasetFactory(name="Ending data"), person=lroles.chair.person, ends_at=timezone.now() + dt.timedelta(days=5))
    body = text(admin_client.get(reverse("admin:licensing_dataset_dashboard")))
    assert "Access requests to decide (1)" in body and "Queue data" in body
    assert "Grants ending within 30 days (1)" in body and "Ending data" in body


def test_portal_dashboard_tells_dataset_admins_about_requests(lroles, admin_client):
    access_request(DatasetFactory(requires_approval=True), lroles.member.person)
    body = text(admin_client.get(reverse("portal:dashboard")))
    assert "1 dataset access request to decide" in body
