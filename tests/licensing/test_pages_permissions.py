"""Every licensing page, member pages and admin pages, for every role (tests/conftest.py ROLE_NAMES)."""

from dataclasses import dataclass

import pytest
from django.urls import reverse

from consortium.licensing import downloads
from consortium.licensing.access import access_decision
from consortium.licensing.models import AccessRequest, Agreement, Grant
from tests.conftest import ROLE_NAMES
from tests.licensing.factories import AgreementFactory, DatasetFactory, access_request, grant, publish

pytestmark = pytest.mark.django_db
MEMBERS = ["member", "submitter", "primary", "chair"]
ADMINS = ["dataset_admin", "staff"]


@dataclass
class Pages:
    open: object
    click: object
    organisation: object
    approval: object
    unlisted: object
    version: object


@pytest.fixture
def pages(lroles) -> Pages:
    click_agreement = AgreementFactory(name="Click terms")
    version = publish(click_agreement)
    org_agreement = AgreementFactory(name="Org terms", signer=Agreement.Signer.ORGANISATION)
    publish(org_agreement)
    approval_agreement = AgreementFactory(name="Research terms")
    publish(approval_agreement)
    return Pages(
        open=DatasetFactory(slug="open-data", name="Open data"),
        click=DatasetFactory(slug="click-data", name="Click data", agreement=click_agreement),
        organisation=DatasetFactory(
            slug="org-data", name="Org data", agreement=org_agreement, requires_membership=True
        ),
        approval=DatasetFactory(
            slug="approval-data",
            name="Approval data",
            agreement=approval_agreement,
            requires_approval=True,
            access_questions="Who are you?",
        ),
        unlisted=DatasetFactory(slug="draft-data", name="Draft data", is_listed=False),
        version=version,
    )


def login_redirect(response) -> bool:
    return response.status_code == 302 and "/login/" in response["Location"]


PUBLIC_URLS = {
    "catalogue": lambda p: reverse("licensing:catalogue"),
    "catalogue-filtered": lambda p: reverse("licensing:catalogue") + "?q=data&policy=agreement",
    "open": lambda p: reverse("licensing:dataset", args=[p.open.slug]),
    "click-through": lambda p: reverse("licensing:dataset", args=[p.click.slug]),
    "organisation": lambda p: reverse("licensing:dataset", args=[p.organisation.slug]),
    "approval": lambda p: reverse("licensing:dataset", args=[p.approval.slug]),
    "json": lambda p: reverse("licensing:access_json", args=[p.approval.slug]),
}


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_public_pages_are_open_to_every_role(pages, lroles, role):
    client = lroles.client(role)
    for name, url in PUBLIC_URLS.items():
        assert client.get(url(pages)).status_code == 200, name


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_unlisted_dataset_is_shown_only_to_licensing_admins(pages, lroles, role):
    response = lroles.client(role).get(reverse("licensing:dataset", args=[pages.unlisted.slug]))
    assert response.status_code == (200 if role in ADMINS else 404)


@pytest.mark.parametrize("role", ROLE_NAMES)
@pytest.mark.parametrize(
    ("url", "member_status"),
    [
        (lambda p: reverse("licensing:mine"), 200),
        (lambda p: reverse("licensing:request_access", args=[p.approval.slug]), 200),
        (lambda p: reverse("licensing:accept", args=[p.click.slug]), 200),
        (lambda p: reverse("licensing:accept", args=[p.organisation.slug]), 200),
        (lambda p: reverse("licensing:accept", args=[p.open.slug]), 404),
        (lambda p: reverse("licensing:download", args=[p.open.slug]), 403),
    ],
    ids=["mine", "request-form", "accept", "accept-organisation", "accept-no-agreement", "download-no-grant"],
)
def test_member_pages_need_login(pages, lroles, role, url, member_status):
    response = lroles.client(role).get(url(pages))
    if role == "anonymous":
        assert login_redirect(response)
    else:
        assert response.status_code == member_status


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_get_access_post(pages, lroles, role):
    response = lroles.client(role).post(reverse("licensing:get_access", args=[pages.open.slug]))
    if role == "anonymous":
        assert login_redirect(response) and not Grant.objects.exists()
    else:
        assert response.status_code == 302
        assert Grant.objects.filter(person__user=lroles.user(role), dataset=pages.open).exists()


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_accept_post(pages, lroles, role):
    user = lroles.user(role)
    response = lroles.client(role).post(
        reverse("licensing:accept", args=[pages.click.slug]),
        {
            "version_id": pages.version.pk,
            "text_sha256": pages.version.text_sha256,
            "typed_name": user.person.full_name if user else "x",
            "confirm": "on",
        },
    )
    if role == "anonymous":
        assert login_redirect(response)
    else:
        assert response.status_code == 302
        assert access_decision(user, pages.click).allowed


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_organisation_agreement_post_is_for_signatories_only(pages, lroles, role):
    response = lroles.client(role).post(
        reverse("licensing:accept", args=[pages.organisation.slug]),
        {"version_id": 1, "text_sha256": "x", "typed_name": "x", "confirm": "on"},
    )
    # No role of the fixture is a signatory (test_member_pages covers a signatory signing).
    assert login_redirect(response) if role == "anonymous" else response.status_code == 403


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_request_post_and_withdraw(pages, lroles, role):
    client = lroles.client(role)
    response = client.post(
        reverse("licensing:request_access", args=[pages.approval.slug]),
        {"purpose": "Benchmarking", "answer_0": "A tester"},
    )
    if role == "anonymous":
        assert login_redirect(response)
        assert login_redirect(client.post(reverse("licensing:withdraw_request", args=[pages.approval.slug])))
        return
    assert response.status_code == 302
    request = AccessRequest.objects.get(person__user=lroles.user(role))
    assert request.state == AccessRequest.State.SUBMITTED
    client.post(reverse("licensing:withdraw_request", args=[pages.approval.slug]))
    request.refresh_from_db()
    assert request.state == AccessRequest.State.WITHDRAWN


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_download_link_works_only_for_the_person_it_was_issued_to(pages, lroles, role):
    owner = lroles.member.person
    grant(pages.open, person=owner)
    links = downloads.download_links_issue(
        dataset=pages.open, decision=access_decision(owner, pages.open), actor=lroles.member
    )
    response = lroles.client(role).get(reverse("licensing:download_file", args=[links[0].token]))
    if role == "anonymous":
        assert login_redirect(response)
    elif role == "member":
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment")
    else:
        assert response.status_code == 403
        assert b"issued to another account" in response.content


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_download_page_with_a_grant(pages, lroles, role):
    user = lroles.user(role)
    if user is not None:
        grant(pages.open, person=user.person)
    response = lroles.client(role).get(reverse("licensing:download", args=[pages.open.slug]))
    if role == "anonymous":
        assert login_redirect(response)
    else:
        assert response.status_code == 200 and b"Download Open data" in response.content


ADMIN_URLS = [
    lambda p: reverse("admin:app_list", args=["licensing"]),
    lambda p: reverse("admin:licensing_dataset_dashboard"),
    lambda p: reverse("admin:licensing_explain"),
    lambda p: reverse("admin:licensing_explain") + f"?person=member@acme.test&dataset={p.approval.pk}",
    lambda p: reverse("admin:licensing_export", args=["grants"]),
    lambda p: reverse("admin:licensing_export", args=["acceptances"]),
    lambda p: reverse("admin:licensing_export", args=["requests"]),
    lambda p: reverse("admin:licensing_licence_changelist") + "?q=CC-BY",
    lambda p: reverse("admin:licensing_licence_add"),
    lambda p: reverse("admin:licensing_agreement_changelist"),
    lambda p: reverse("admin:licensing_agreement_change", args=[p.version.agreement_id]),
    lambda p: reverse("admin:licensing_agreement_publish", args=[p.version.agreement_id]),
    lambda p: reverse("admin:licensing_agreementversion_changelist"),
    lambda p: reverse("admin:licensing_agreementversion_change", args=[p.version.pk]),
    lambda p: reverse("admin:licensing_agreementversion_add"),
    lambda p: reverse("admin:licensing_dataset_changelist"),
    lambda p: reverse("admin:licensing_dataset_change", args=[p.click.pk]),
    lambda p: reverse("admin:licensing_dataset_add"),
    lambda p: reverse("admin:licensing_acceptance_changelist"),
    lambda p: reverse("admin:licensing_accessrequest_changelist") + "?state__exact=submitted",
    lambda p: reverse("admin:licensing_grant_changelist") + "?status=expiring",
    lambda p: reverse("admin:licensing_grant_add"),
]
ADMIN_IDS = [
    "app-index",
    "dashboard",
    "explain-form",
    "explain-result",
    "export-grants",
    "export-acceptances",
    "export-requests",
    "licences",
    "licence-add",
    "agreements",
    "agreement",
    "publish-version",
    "versions",
    "version",
    "version-add",
    "datasets",
    "dataset",
    "dataset-add",
    "acceptances",
    "requests",
    "grants",
    "grant-add",
]


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_licensing_admin_is_for_dataset_admins_and_staff(pages, lroles, role):
    access_request(pages.approval, lroles.member.person)
    grant(pages.open, person=lroles.member.person)
    client = lroles.client(role)
    for name, url in zip(ADMIN_IDS, ADMIN_URLS, strict=True):
        response = client.get(url(pages))
        if role in ADMINS:
            assert response.status_code == 200, name
        else:
            assert response.status_code == 302 and "/login/" in response["Location"], name


def test_other_staff_cannot_use_the_licensing_admin(pages, client, other_staff):
    client.force_login(other_staff)
    for name, url in zip(ADMIN_IDS, ADMIN_URLS, strict=True):
        assert client.get(url(pages)).status_code in (403, 404), name


def test_admin_index_shows_licensing_only_to_licensing_admins(pages, lroles, client, other_staff):
    assert b"Dataset licensing" in lroles.client("dataset_admin").get(reverse("admin:index")).content
    client.force_login(other_staff)
    assert b"Dataset licensing" not in client.get(reverse("admin:index")).content
