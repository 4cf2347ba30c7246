"""Personal API tokens: the page (create, shown once; list; revoke) for every role, and the
create_api_token command."""

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from submissions import services
from submissions.models import ApiToken
from tests.conftest import ROLE_NAMES

pytestmark = pytest.mark.django_db
URL = "/account/api-tokens/"


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_token_page_by_role(roles, role):
    response = roles.client(role).get(URL)
    if role == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        return
    assert response.status_code == 200
    assert b"You have no API tokens yet." in response.content


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_create_token_by_role(roles, role):
    response = roles.client(role).post(URL, {"name": "laptop"})
    if role == "anonymous":
        assert response.status_code == 302
        assert not ApiToken.objects.exists()
        return
    assert response.status_code == 200
    token = ApiToken.objects.get(user=roles.user(role))
    assert token.name == "laptop"


def test_created_token_is_shown_once_and_stored_hashed(roles):
    client = roles.client("submitter")
    response = client.post(URL, {"name": "ci runner"})
    token = ApiToken.objects.get(user=roles.submitter)
    page = response.content.decode()
    assert "Copy it now: it is not shown again." in page
    raw = page.split('id="new-token" type="text" value="', 1)[1].split('"', 1)[0]
    assert raw.startswith(token.prefix) and raw.startswith("cpt_")
    assert token.token_hash != raw and raw not in token.token_hash
    assert response["Cache-Control"] == "no-store"
    # Listed afterwards by name and prefix, never in full.
    listing = client.get(URL).content.decode()
    assert "ci runner" in listing and f"{token.prefix}…" in listing and raw not in listing
    assert "never" in listing and "active" in listing
    # It works for the API, which records its use.
    assert Client().get("/api/v1/rounds", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize("name", ["", "   "])
def test_token_needs_a_name(roles, name):
    response = roles.client("member").post(URL, {"name": name})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_token_name_too_long(roles):
    response = roles.client("member").post(URL, {"name": "x" * 101})
    assert "Ensure this value has at most 100 characters (it has 101)." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_revoke_token(roles):
    token, raw = services.api_token_create(user=roles.submitter, name="old script")
    client = roles.client("submitter")
    response = client.post(f"{URL}{token.pk}/revoke/", follow=True)
    assert response.redirect_chain[-1][0] == URL
    assert f"Token “old script” ({token.prefix}…) revoked; it no longer works." in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "revoked " in client.get(URL).content.decode()
    api = Client().get("/api/v1/rounds", headers={"Authorization": f"Bearer {raw}"})
    assert api.status_code == 401
    again = client.post(f"{URL}{token.pk}/revoke/", follow=True)
    assert "was already revoked" in again.content.decode()


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_nobody_revokes_another_persons_token(roles, role):
    token, _ = services.api_token_create(user=roles.submitter, name="theirs")
    if role == "submitter":
        return  # their own: test_revoke_token
    response = roles.client(role).post(f"{URL}{token.pk}/revoke/")
    assert response.status_code == (302 if role == "anonymous" else 404)
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoke_needs_post(roles):
    token, _ = services.api_token_create(user=roles.member, name="t")
    assert roles.client("member").get(f"{URL}{token.pk}/revoke/").status_code == 405


def test_token_of_a_deactivated_account_stops_working(roles):
    _, raw = services.api_token_create(user=roles.member, name="t")
    roles.member.is_active = False
    roles.member.save()
    assert Client().get("/api/v1/rounds", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


# ---------------------------------------------------------------- the command


def test_create_api_token_command_prints_a_working_token(roles):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", "SUBMITTER@acme.test", "--name", "demo", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    token = ApiToken.objects.get(user=roles.submitter)
    assert token.name == "demo" and raw.startswith(token.prefix)
    assert "created for submitter@acme.test" in err.getvalue()
    assert services.api_token_authenticate(raw) == roles.submitter


def test_create_api_token_default_name(roles):
    call_command("create_api_token", "member@acme.test", stdout=io.StringIO(), stderr=io.StringIO())
    assert ApiToken.objects.get(user=roles.member).name == "command line"


def test_create_api_token_for_unknown_email(db):
    with pytest.raises(CommandError, match=re.escape("No account with the email 'nobody@example.org'")):
        call_command("create_api_token", "nobody@example.org", stdout=io.StringIO(), stderr=io.StringIO())
    assert not ApiToken.objects.exists()


def test_create_api_token_for_deactivated_account(roles):
    roles.member.is_active = False
    roles.member.save()
    with pytest.raises(CommandError, match="is deactivated"):
        call_command("create_api_token", "member@acme.test", stdout=io.StringIO(), stderr=io.StringIO())


def test_create_api_token_warns_that_a_staff_token_needs_mfa(roles, settings):
    from allauth.mfa.models import Authenticator

    settings.DEMO_MODE = False
    Authenticator.objects.filter(user=roles.dataset_admin).delete()
    err = io.StringIO()
    call_command("create_api_token", roles.dataset_admin.email, stdout=io.StringIO(), stderr=err)
    assert "refuses this token (403) until they set it up" in err.getvalue()
    err = io.StringIO()
    call_command("create_api_token", roles.submitter.email, stdout=io.StringIO(), stderr=err)
    assert "two-factor" not in err.getvalue()
