"""The main flows, on the seeded demo data, exactly as a browser clicks them (the Playwright tests
follow the same steps): request → admin approval → acceptance → download; a material new version →
accept again → download. Plus the demo seed itself."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from consortium.licensing.demo import seed_licensing
from consortium.licensing.models import Acceptance, AccessRequest, Dataset, Grant, Licence
from consortium.members.demo import seed_members
from consortium.members.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db, settings):
    settings.DEMO_MODE = True  # the seeded demo accounts, in demo mode (no MFA for the demo admins)
    seed_members(today=timezone.localdate(), log=lambda *_: None)
    seed_licensing(today=timezone.localdate(), log=lambda *_: None)


def login(client, email):
    client.force_login(User.objects.get(email=email))
    return client


def text(response) -> str:
    return response.content.decode()


def test_seed_is_idempotent_and_has_what_the_issue_asks(demo):
    counts = (Dataset.objects.count(), Grant.objects.count(), AccessRequest.objects.count(), Acceptance.objects.count())
    seed_licensing(today=timezone.localdate(), log=lambda *_: None)
    assert counts == (
        Dataset.objects.count(),
        Grant.objects.count(),
        AccessRequest.objects.count(),
        Acceptance.objects.count(),
    )
    speech = Dataset.objects.get(slug="peoples-speech")
    assert sorted(s.licence.expression for s in speech.subsets.all()) == ["CC-BY-4.0", "CC-BY-SA-4.0"]
    assert speech.agreement and not speech.agreement.signed_by_organisation and not speech.requires_approval
    mswc = Dataset.objects.get(slug="mswc")
    assert mswc.is_open and mswc.licence.expression == "CC-BY-4.0"
    assert Dataset.objects.filter(requires_membership=True, agreement__signer="organisation").exists()
    assert Dataset.objects.filter(requires_approval=True).exists()
    assert AccessRequest.objects.filter(state="submitted").count() >= 2
    assert Grant.objects.filter(state="active", organisation__slug="nvidia").exists()
    assert Licence.objects.filter(from_spdx_list=True).count() > 500


def test_member_requests_admin_approves_member_accepts_and_downloads(demo, client):
    member = login(client, "member@example.org")
    page = member.get("/datasets/clinical-speech/")
    assert "Request access" in text(page) and "No access yet" in text(page)
    form = member.get("/datasets/clinical-speech/request/")
    assert "What will you use the dataset for?" in text(form)
    response = member.post(
        "/datasets/clinical-speech/request/",
        {"purpose": "Evaluating clinical ASR", "answer_0": "Lenovo research", "answer_1": "Encrypted storage"},
        follow=True,
    )
    assert "was sent to the dataset admins" in text(response)
    assert "is waiting for a dataset admin" in text(response)
    request = AccessRequest.objects.get(person__user__email="member@example.org")

    admin = login(client.__class__(), "licensing@example.org")
    queue = admin.get("/admin/licensing/accessrequest/?state__exact=submitted")
    assert "Mel Member" in text(queue) and "Approve selected access requests" in text(queue)
    confirm = admin.post(
        "/admin/licensing/accessrequest/", {"action": "approve_requests", "_selected_action": [request.pk]}
    )
    assert "Approve 1 request" in text(confirm)
    done = admin.post(
        "/admin/licensing/accessrequest/",
        {"action": "approve_requests", "_selected_action": [request.pk], "apply": "1", "reason": "Welcome"},
        follow=True,
    )
    assert "Approved 1 request." in text(done)

    page = member.get("/datasets/clinical-speech/")
    assert "Read and accept the agreement" in text(page)
    accept_page = member.get("/datasets/clinical-speech/accept/")
    assert "Type your full name to sign" in text(accept_page) and "Accept agreement" in text(accept_page)
    version_id = re.search(r'name="version_id" value="(\d+)"', text(accept_page)).group(1)
    text_hash = re.search(r'name="text_sha256" value="([0-9a-f]{64})"', text(accept_page)).group(1)
    accepted = member.post(
        "/datasets/clinical-speech/accept/",
        {"version_id": version_id, "text_sha256": text_hash, "typed_name": "Mel Member", "confirm": "on"},
        follow=True,
    )
    assert "You accepted" in text(accepted) and "Access granted" in text(accepted)
    assert_download_works(member, "clinical-speech")


def assert_download_works(client, slug):
    page = client.get(f"/datasets/{slug}/download/")
    assert page.status_code == 200
    href = re.search(r'href="(/datasets/download/[^"]+/)"', text(page)).group(1)
    file = client.get(href)
    assert file.status_code == 200 and file["Content-Disposition"].startswith("attachment")


def test_material_new_version_must_be_accepted_again_before_downloading(demo, client):
    member = login(client, "member@example.org")
    page = member.get("/datasets/peoples-speech/accept/")
    version_id = re.search(r'name="version_id" value="(\d+)"', text(page)).group(1)
    text_hash = re.search(r'name="text_sha256" value="([0-9a-f]{64})"', text(page)).group(1)
    member.post(
        "/datasets/peoples-speech/accept/",
        {"version_id": version_id, "text_sha256": text_hash, "typed_name": "Mel Member", "confirm": "on"},
    )
    assert_download_works(member, "peoples-speech")

    admin = login(client.__class__(), "licensing@example.org")
    agreement_id = Dataset.objects.get(slug="peoples-speech").agreement_id
    publish_url = f"/admin/licensing/agreement/{agreement_id}/publish/"
    assert "Publish new version" in text(admin.get(f"/admin/licensing/agreement/{agreement_id}/change/"))
    form = admin.get(publish_url)
    old_text = re.search(r"<textarea[^>]*>\n?(.*?)</textarea>", text(form), re.S).group(1)
    published = admin.post(
        publish_url,
        {
            "label": "2.0",
            "text": old_text.replace("&#x27;", "'") + "\n6. You report any personal data you find in the audio.\n",
            "effective_date": timezone.localdate().isoformat(),
            "is_material": "on",
            "grace_days": "0",
            "change_summary": "New duty to report personal data",
            "_publish": "1",
        },
        follow=True,
    )
    assert "Published version 2.0" in text(published)

    denied = member.get("/datasets/peoples-speech/download/")
    assert denied.status_code == 403 and "Version 2.0 must be accepted" in text(denied)
    page = member.get("/datasets/peoples-speech/")
    assert "Read and accept the agreement" in text(page)
    accept_page = member.get("/datasets/peoples-speech/accept/")
    assert "You report any personal data" in text(accept_page)
    version_id = re.search(r'name="version_id" value="(\d+)"', text(accept_page)).group(1)
    text_hash = re.search(r'name="text_sha256" value="([0-9a-f]{64})"', text(accept_page)).group(1)
    member.post(
        "/datasets/peoples-speech/accept/",
        {"version_id": version_id, "text_sha256": text_hash, "typed_name": "Mel Member", "confirm": "on"},
    )
    assert_download_works(member, "peoples-speech")


def test_signatory_signs_for_the_organisation_and_colleagues_get_access(demo, client):
    # NVIDIA is signed in the demo; the primary contact of NVIDIA is also its signatory.
    submitter = login(client, "submitter@example.org")
    assert "Access granted" in text(submitter.get("/datasets/automotive-perception/"))
    member = login(client.__class__(), "member@example.org")
    page = text(member.get("/datasets/automotive-perception/"))
    assert "A signatory of Lenovo must sign" in page
    signing_page = text(member.get("/datasets/automotive-perception/accept/"))
    assert "you cannot sign it yourself" in signing_page


def test_open_dataset_get_access_and_my_datasets_page(demo, client):
    chair = login(client, "chair@example.org")
    response = chair.post("/datasets/mswc/get-access/", follow=True)
    assert "You now have access to Multilingual Spoken Words." in text(response)
    mine = text(chair.get(reverse("licensing:mine")))
    assert "Multilingual Spoken Words" in mine and "open access" in mine
    assert "Signatures" in mine


def test_catalogue_filters_and_htmx_partial(demo, client):
    page = text(client.get("/datasets/?policy=open"))
    assert "Multilingual Spoken Words" in page and "Clinical speech" not in page
    partial = client.get("/datasets/?q=speech", HTTP_HX_REQUEST="true")
    assert "<html" not in text(partial) and "The People&#x27;s Speech" in text(partial)


def test_member_dashboard_lists_licensing_items(demo, client):
    from consortium.licensing import services
    from consortium.licensing.models import AgreementVersion

    member = login(client, "submitter@example.org")
    dataset = Dataset.objects.get(slug="peoples-speech")
    admin = User.objects.get(email="licensing@example.org")
    services.agreement_version_publish_new(
        agreement=dataset.agreement,
        label="2.0",
        text=AgreementVersion.objects.get(agreement=dataset.agreement).text + "\n6. New duty.\n",
        effective_date=timezone.localdate(),
        is_material=True,
        grace_days=30,
        actor=admin,
    )
    body = text(member.get(reverse("portal:dashboard")))
    assert "New agreement version for The People" in body and "accept it before" in body
    request = AccessRequest.objects.get(person__user__email="submitter@example.org")
    services.access_request_return(access_request=request, actor=admin, reason="Say which lab")
    body = text(member.get(reverse("portal:dashboard")))
    assert "was returned for changes" in body and "Say which lab" in body
