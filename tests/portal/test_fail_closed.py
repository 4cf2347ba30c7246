"""Fail closed: a deployment that sets nothing is safe. Production mode unless development is asked
for; demo mode only when set, and seed_demo refuses without it; `check --deploy` clean; MFA for
staff, dataset admins and chairs on every staff page and chair power (the demo exception explicit)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tests.conftest import with_mfa
from tests.factories import PersonFactory, UserFactory
from tests.submissions.factories import make_chair, open_round

PROJECT_DIR = Path(__file__).resolve().parents[2]
# What decides the mode, and what the test process itself sets (the browser tests allow async-unsafe).
MODE_VARIABLES = (
    "PORTAL_ENV", "DEBUG", "DEMO_MODE", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)  # fmt: skip
PRODUCTION_KEY = "x" * 20 + "a-long-random-production-key-" + "y" * 30
SHOW = (
    "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'consortium.settings'; django.setup(); "
    "from django.conf import settings as s; print(s.DEBUG, s.DEMO_MODE, s.ALLOWED_HOSTS, s.SESSION_COOKIE_SECURE)"
)


def _run(*args: str, **env: str) -> subprocess.CompletedProcess:
    """A fresh process with none of the mode variables set, except those given (nor the browser
    tests' DJANGO_ALLOW_ASYNC_UNSAFE, which a deployment never sets)."""
    clean = {k: v for k, v in os.environ.items() if k not in (*MODE_VARIABLES, "DJANGO_ALLOW_ASYNC_UNSAFE")}
    return subprocess.run(
        [sys.executable, *args], cwd=PROJECT_DIR, env={**clean, **env}, capture_output=True, text=True, timeout=120
    )


def test_nothing_set_is_production_mode_and_asks_for_a_secret_key():
    result = _run("manage.py", "check")
    assert result.returncode != 0 and "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_nothing_but_a_secret_key_set_means_debug_and_demo_off():
    result = _run("-c", SHOW, SECRET_KEY=PRODUCTION_KEY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "[]", "True"]


def test_development_is_asked_for_and_demo_only_when_set():
    assert _run("-c", SHOW, PORTAL_ENV="development").stdout.split()[:2] == ["True", "False"]
    assert _run("-c", SHOW, PORTAL_ENV="development", DEMO_MODE="1").stdout.split()[:2] == ["True", "True"]
    result = _run("-c", SHOW, PORTAL_ENV="staging")
    assert result.returncode != 0 and "PORTAL_ENV must be 'production' or 'development'" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = _run(
        "manage.py", "check", "--deploy", "--fail-level", "WARNING",
        SECRET_KEY=PRODUCTION_KEY, ALLOWED_HOSTS="portal.example.org",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.django_db
def test_seed_demo_refuses_without_demo_mode(settings):
    from consortium.members.models import Person

    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="runs only in demo mode"):
        call_command("seed_demo")
    assert not Person.objects.filter(is_demo=True).exists()


# --------------------------------------------------------------------------------------- MFA

STAFF_PAGES = ["/admin/", "/staff/workers/", "/staff/disagreements/", "/admin/licensing/grant/", "/account/api-tokens/"]


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _sent_to_mfa(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/accounts/2fa/totp/activate")


@pytest.mark.django_db
@pytest.mark.parametrize("url", STAFF_PAGES)
@pytest.mark.parametrize("who", ["staff", "dataset_admin"])
def test_staff_pages_need_mfa(roles, who, url):
    user = UserFactory(is_staff=True, is_superuser=who == "staff")
    if who == "dataset_admin":
        from django.contrib.auth.models import Group

        from consortium.common.permissions import DATASET_ADMINS_GROUP

        user.groups.add(Group.objects.get_or_create(name=DATASET_ADMINS_GROUP)[0])
    PersonFactory(user=user)
    assert _sent_to_mfa(_client(user).get(url))
    with_mfa(user)
    assert not _sent_to_mfa(_client(user).get(url))


@pytest.mark.django_db
def test_a_staff_session_without_mfa_reaches_no_page_but_the_account_pages(roles):
    # A staff session alone reads every unpublished submission: without MFA it reaches nothing else.
    round_ = open_round(group=roles.group)
    user = UserFactory(is_staff=True, is_superuser=True)
    PersonFactory(user=user)
    client = _client(user)
    for url in ("/", "/dashboard/", f"/rounds/{round_.slug}/", f"/rounds/{round_.slug}/submissions/", "/results/"):
        assert _sent_to_mfa(client.get(url)), url
    api = client.get("/api/v1/rounds")
    assert api.status_code == 403
    assert "two-factor" in api.json()["detail"] and set(api.json()["errors"]) == {"authorization"}
    setup = client.get("/accounts/2fa/totp/activate/")  # allauth may first ask for the password again
    assert setup.status_code == 200 or setup["Location"].startswith("/accounts/reauthenticate/")
    assert client.get("/healthz").status_code == 200
    with_mfa(user)
    assert client.get(f"/rounds/{round_.slug}/").status_code == 200
    assert client.get("/api/v1/rounds").status_code == 200


@pytest.mark.django_db
def test_a_member_session_without_mfa_is_not_asked_for_it(roles):
    round_ = open_round(group=roles.group)
    client = roles.client("submitter")
    for url in ("/", f"/rounds/{round_.slug}/", "/api/v1/rounds"):
        assert client.get(url).status_code == 200, url


@pytest.mark.django_db
def test_chair_powers_need_mfa(roles):
    chair = UserFactory(email="newchair@globex.test")
    person = PersonFactory(user=chair, organisation=roles.other_org)
    round_ = open_round(group=roles.group)
    make_chair(roles.group, person)
    client = _client(chair)
    powers = [
        ("get", f"/workinggroups/{roles.group.slug}/manage/"),
        ("get", f"/workinggroups/{roles.group.slug}/manage/requests/"),
        ("get", f"/rounds/{round_.slug}/schedule/"),
        ("post", f"/rounds/{round_.slug}/publish/"),
        ("post", f"/rounds/{round_.slug}/unpublish/"),
        ("post", f"/rounds/{round_.slug}/review/assign/"),
        ("post", f"/rounds/{round_.slug}/review/tie-break/"),
        ("post", f"/rounds/{round_.slug}/votes/new/"),
        ("post", "/objections/1/decide/"),
        ("post", "/objections/1/close/"),
        ("post", "/votes/1/close/"),
    ]
    for method, url in powers:
        assert _sent_to_mfa(getattr(client, method)(url)), url
    assert not _sent_to_mfa(client.get(f"/workinggroups/{roles.group.slug}/"))  # reading is not a power
    with_mfa(chair)
    for method, url in powers:
        assert not _sent_to_mfa(getattr(client, method)(url)), url


@pytest.mark.django_db
def test_a_member_at_a_chair_url_is_refused_not_asked_for_mfa(roles):
    response = roles.client("member").get(f"/workinggroups/{roles.group.slug}/manage/")
    assert response.status_code in (403, 404)


@pytest.mark.django_db
def test_members_manage_their_api_tokens_without_mfa(roles):
    assert roles.client("submitter").get("/account/api-tokens/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("demo_mode", [True, False])
def test_seeded_demo_accounts_go_without_mfa_only_in_demo_mode(roles, settings, demo_mode):
    settings.DEMO_MODE = demo_mode
    staff = UserFactory(is_staff=True, is_superuser=True)
    PersonFactory(user=staff, is_demo=True)
    chair = UserFactory()
    make_chair(roles.group, PersonFactory(user=chair, organisation=roles.other_org, is_demo=True))
    for user, url in ((staff, "/staff/workers/"), (chair, f"/workinggroups/{roles.group.slug}/manage/")):
        assert _sent_to_mfa(_client(user).get(url)) is not demo_mode, url
