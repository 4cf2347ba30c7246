"""Every members and portal page, for every role: who gets it, who is sent to log in, who is refused."""

import pytest

from consortium.members.models import OrganisationRole
from tests.conftest import ROLE_NAMES
from tests.factories import member_of

pytestmark = pytest.mark.django_db

LOGIN = "login"  # a redirect to the login page
ALL = dict.fromkeys(ROLE_NAMES, 200)
MEMBERS_ONLY = {**ALL, "anonymous": LOGIN}
ROSTER = {**dict.fromkeys(ROLE_NAMES, 403), "anonymous": LOGIN, "primary": 200, "staff": 200}

PAGES = [
    ("/", ALL),
    ("/dashboard/", MEMBERS_ONLY),
    ("/members/", MEMBERS_ONLY),
    ("/members/?q=acme&kind=company&status=active", MEMBERS_ONLY),
    ("/members/organisations/acme/", MEMBERS_ONLY),
    ("/members/organisations/acme/roster/", ROSTER),
    ("/members/profile/", MEMBERS_ONLY),
    ("/members/invitations/", MEMBERS_ONLY),
    ("/accounts/email/", MEMBERS_ONLY),
    ("/accounts/password/change/", MEMBERS_ONLY),
    ("/accounts/2fa/", MEMBERS_ONLY),
]


def _assert_outcome(response, expected):
    if expected == LOGIN:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == expected, response.content[:500]


@pytest.mark.parametrize(("url", "expected"), PAGES, ids=[p[0] for p in PAGES])
@pytest.mark.parametrize("role", ROLE_NAMES)
def test_page_answers_only_to_its_roles(roles, url, expected, role):
    _assert_outcome(roles.client(role).get(url), expected[role])


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_roster_actions_answer_only_to_primary_contact_and_staff(roles, role):
    colleague = member_of(roles.org, email="target@acme.test")
    url = f"/members/organisations/acme/roster/people/{colleague.pk}/roles/grant/"
    response = roles.client(role).post(url, {"role": OrganisationRole.Role.SUBMITTER})
    granted = colleague.roles.filter(role=OrganisationRole.Role.SUBMITTER).exists()
    if role in ("primary", "staff"):
        assert response.status_code == 302 and granted
    elif role == "anonymous":
        _assert_outcome(response, LOGIN)
        assert not granted
    else:
        assert response.status_code == 403 and not granted


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_admin_only_for_staff_with_mfa_or_demo(roles, role):
    response = roles.client(role).get("/admin/")
    if role in ("staff", "dataset_admin"):  # staff with MFA (without: tests/portal/test_fail_closed.py)
        assert response.status_code == 200
    elif role == "anonymous":
        assert response.status_code == 302 and "login" in response["Location"]
    else:  # members are not staff: the admin refuses them
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_people_of_an_organisation_are_shown_to_colleagues_and_staff_only(roles):
    page_for_colleague = roles.client("member").get("/members/organisations/acme/")
    page_for_outsider = roles.client("chair").get("/members/organisations/acme/")
    assert b"submitter@acme.test" in page_for_colleague.content
    assert b"submitter@acme.test" not in page_for_outsider.content
    assert b"submitter@acme.test" in roles.client("staff").get("/members/organisations/acme/").content


def test_unknown_organisation_is_404(roles):
    assert roles.client("member").get("/members/organisations/no-such-org/").status_code == 404


def test_healthz_is_public(roles):
    response = roles.client("anonymous").get("/healthz")
    assert response.status_code == 200 and response.json()["database"]["ok"]
