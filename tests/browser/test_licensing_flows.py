"""Dataset licensing in a real browser: a member requests access, the dataset admin approves it in the
admin, the member accepts the agreement and downloads; the admin publishes a material new version of
the agreement and the member must accept again before downloading.

The dataset admin is a real staff account (not a demo one), so it signs in with a TOTP code like
any staff member would."""

import re
import time
from pathlib import Path

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from playwright.sync_api import expect

from consortium.licensing import services
from consortium.licensing.models import Acceptance, AccessRequest, AgreementVersion, Grant
from tests.browser.conftest import log_in
from tests.factories import PASSWORD
from tests.licensing.factories import AgreementFactory, DatasetFactory, publish

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TERMS = "# Clinical speech terms\n\n1. Use the recordings for research only.\n2. Do not re-identify speakers.\n"


@pytest.fixture
def admin_totp(roles, settings):
    """The dataset admin's TOTP secret. One step of tolerance, so that a code computed just before a
    30-second boundary is still accepted when it arrives just after."""
    settings.MFA_TOTP_TOLERANCE = 1
    secret = generate_totp_secret()
    roles.dataset_admin.authenticator_set.all().delete()  # the roles fixture gave it one already
    TOTP.activate(roles.dataset_admin, secret)
    return secret


def _log_in_with_totp(page, email: str, secret: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Two-factor authentication").wait_for()
    counter = int(time.time()) // mfa_settings.TOTP_PERIOD
    page.locator("input[name=code]").fill(format_hotp_value(hotp_value(secret, counter)))
    page.locator("main").get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/dashboard/$"))


def _clinical_speech(**fields):
    agreement = AgreementFactory(name="Clinical speech terms", slug="clinical-speech-terms")
    version = publish(agreement, "1.0", text=TERMS)
    dataset = DatasetFactory(name="Clinical speech", slug="clinical-speech", agreement=agreement, **fields)
    return dataset, version


def _accept_agreement(page, full_name: str) -> None:
    """From the dataset page: read the agreement, sign with the typed name."""
    page.get_by_role("button", name="Read and accept the agreement").click()
    page.wait_for_url(re.compile(r".*/datasets/clinical-speech/accept/$"))
    expect(page.get_by_role("article", name="Agreement text")).to_contain_text("Do not re-identify speakers.")
    page.get_by_label("Type your full name to sign").fill(full_name)
    page.get_by_label("I have read this agreement and accept it").check()
    page.get_by_role("button", name="Accept agreement").click()
    page.wait_for_url(re.compile(r".*/datasets/clinical-speech/$"))
    expect(page.get_by_role("region", name="Your access")).to_contain_text("Access granted")


def _download(page) -> bytes:
    """From the dataset page: the download page, then its link for the whole dataset."""
    page.get_by_role("region", name="Your access").get_by_role("button", name="Download", exact=True).click()
    page.get_by_role("heading", name="Download Clinical speech").wait_for()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download Clinical speech").click()
    download = info.value
    assert download.suggested_filename == "clinical-speech-README.txt"
    content = Path(download.path()).read_bytes()
    assert content
    return content


def test_member_requests_admin_approves_member_accepts_and_downloads(roles, admin_totp, new_page):
    dataset, version = _clinical_speech(
        requires_approval=True, access_questions="Which lab will use it?\nHow will you store it?"
    )
    person = roles.member.person

    member = new_page()
    log_in(member, roles.member.email, PASSWORD)
    member.goto("/datasets/")
    member.get_by_role("link", name="Clinical speech").click()
    member.get_by_role("heading", name="Clinical speech", exact=True).wait_for()
    expect(member.get_by_role("region", name="Your access")).to_contain_text("No access yet")
    member.get_by_role("button", name="Request access").click()
    member.get_by_role("heading", name="Request access to Clinical speech").wait_for()
    member.get_by_label("What will you use the dataset for?").fill("Evaluating clinical speech recognition")
    member.get_by_label("Which lab will use it?").fill("Acme speech lab")
    member.get_by_label("How will you store it?").fill("Encrypted storage, two people")
    member.get_by_role("button", name="Submit request").click()
    member.get_by_text("Your request for Clinical speech was sent to the dataset admins.").wait_for()
    expect(member.get_by_role("region", name="Your access")).to_contain_text("is waiting for a dataset admin")
    request = AccessRequest.objects.get(dataset=dataset, person=person)
    assert request.state == AccessRequest.State.SUBMITTED
    assert [a["answer"] for a in request.answers] == ["Acme speech lab", "Encrypted storage, two people"]

    admin = new_page()
    _log_in_with_totp(admin, roles.dataset_admin.email, admin_totp)
    admin.goto("/admin/licensing/accessrequest/?state__exact=submitted")
    row = admin.locator("#result_list tbody tr").filter(has_text=person.full_name)
    expect(row).to_have_count(1)
    row.get_by_role("checkbox").check()
    admin.get_by_role("combobox", name=re.compile(r"^Action")).select_option(label="Approve selected access requests")
    admin.get_by_role("button", name="Go").click()
    admin.get_by_role("button", name="Approve 1 request").click()
    admin.get_by_text("Approved 1 request.").wait_for()
    request.refresh_from_db()
    assert request.state == AccessRequest.State.APPROVED
    assert request.reviewer == roles.dataset_admin

    member.goto("/datasets/clinical-speech/")
    expect(member.get_by_role("region", name="Your access")).to_contain_text("You have not accepted")
    _accept_agreement(member, person.full_name)
    member.get_by_text("You accepted “Clinical speech terms” version 1.0.").wait_for()
    content = _download(member)
    assert b"Clinical speech" in content
    assert version.text_sha256.encode() in content

    acceptance = Acceptance.objects.get(person=person)
    assert acceptance.agreement_version == version
    assert acceptance.text_sha256 == version.text_sha256
    assert acceptance.typed_name == person.full_name
    assert acceptance.user_agent  # the browser's
    grant = Grant.objects.get(dataset=dataset, person=person)
    assert grant.access_request == request and grant.acceptance == acceptance


def test_material_new_version_must_be_accepted_again_before_downloading(roles, admin_totp, new_page):
    dataset, first = _clinical_speech()
    person = roles.member.person
    services.agreement_accept(
        dataset=dataset,
        person=person,
        version_id=first.pk,
        text_sha256=first.text_sha256,
        typed_name=person.full_name,
        actor=roles.member,
    )
    grant = Grant.objects.get(dataset=dataset, person=person)
    assert grant.state == Grant.State.ACTIVE

    member = new_page()
    log_in(member, roles.member.email, PASSWORD)
    member.goto("/datasets/clinical-speech/")
    _download(member)
    member.goto("/datasets/clinical-speech/download/")
    old_link = member.get_by_role("link", name="Download Clinical speech").get_attribute("href")

    admin = new_page()
    _log_in_with_totp(admin, roles.dataset_admin.email, admin_totp)
    admin.goto("/admin/licensing/agreement/")
    admin.get_by_role("link", name="Clinical speech terms").click()
    admin.get_by_role("link", name="Publish new version").click()
    admin.get_by_role("heading", name="Publish a new version of Clinical speech terms").wait_for()
    admin.get_by_label("Label").fill("2.0")
    text = admin.get_by_label("Text", exact=True)
    expect(text).to_have_value(TERMS)
    added = "3. Report any personal data you find in the audio.\n"
    text.fill(TERMS + added)
    admin.get_by_label("Material change").check()
    admin.get_by_label("Grace days").fill("0")
    admin.get_by_label("What changed").fill("A duty to report personal data")
    admin.get_by_role("button", name="Publish version").click()
    admin.get_by_text(re.compile(r"Published version 2\.0 of “Clinical speech terms”")).wait_for()

    second = AgreementVersion.objects.get(agreement=dataset.agreement, label="2.0")
    assert second.is_published and second.is_material and second.grace_days == 0
    assert second.text == TERMS + added  # as typed, with LF line ends

    response = member.goto("/datasets/clinical-speech/download/")
    assert response.status == 403
    expect(member.locator("ul.missing")).to_contain_text("Version 2.0 must be accepted.")
    expect(member.get_by_role("link", name="Download Clinical speech")).to_have_count(0)
    refused = member.goto(old_link)
    assert refused.status == 403
    expect(member.get_by_role("alert")).to_contain_text("You no longer have access to this dataset")

    member.goto("/datasets/clinical-speech/")
    expect(member.get_by_role("region", name="Your access")).to_contain_text("Version 2.0 must be accepted.")
    member.get_by_role("button", name="Read and accept the agreement").wait_for()
    _accept_agreement(member, person.full_name)
    member.get_by_text("You accepted “Clinical speech terms” version 2.0.").wait_for()
    content = _download(member)
    assert second.text_sha256.encode() in content

    latest = Acceptance.objects.filter(person=person).latest("accepted_at")
    assert latest.agreement_version == second
    assert latest.text_sha256 == second.text_sha256 != first.text_sha256
    assert latest.typed_name == person.full_name
    assert Acceptance.objects.filter(person=person).count() == 2
    grant.refresh_from_db()
    assert grant.state == Grant.State.ACTIVE and grant.acceptance == latest
