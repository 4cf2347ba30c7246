"""Accounts: email login with verification, login rate limit, staff need MFA for the admin."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import Client, override_settings

from tests.factories import PASSWORD, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_unverified_email_cannot_log_in():
    UserFactory(email="new@example.test", verified=False)
    response = Client().post("/accounts/login/", {"login": "new@example.test", "password": PASSWORD})
    assert response.status_code == 302 and "/accounts/confirm-email/" in response["Location"]


def test_verified_email_logs_in_and_lands_on_dashboard():
    UserFactory(email="ok@example.test")
    response = Client().post("/accounts/login/", {"login": "ok@example.test", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"


def test_failed_logins_are_rate_limited():
    UserFactory(email="target@example.test")
    client = Client()
    pages = [
        client.post("/accounts/login/", {"login": "target@example.test", "password": "wrong"}).content.decode()
        for _ in range(6)
    ]
    assert "Too many failed login attempts" not in pages[0]
    assert "Too many failed login attempts" in pages[-1]
    # Even the right password is refused while the limit holds.
    right = client.post("/accounts/login/", {"login": "target@example.test", "password": PASSWORD})
    assert right.status_code == 200 and "Too many failed login attempts" in right.content.decode()


@override_settings(DEMO_MODE=False)
def test_staff_without_mfa_is_sent_to_set_it_up_even_if_demo_account():
    staff = UserFactory(is_staff=True, is_superuser=True)
    PersonFactory(user=staff, is_demo=True)
    client = Client()
    client.force_login(staff)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/totp/activate")


def test_staff_with_totp_reaches_the_admin():
    staff = UserFactory(is_staff=True, is_superuser=True)
    TOTP.activate(staff, generate_totp_secret())
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200


def test_signup_asks_for_name_and_creates_a_pending_profile(roles, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # account mail goes through the outbox
        response = Client().post(
            "/accounts/signup/",
            {
                "full_name": "Nia New",
                "email": "nia@acme.test",
                "password1": "a-long-enough-password",
                "password2": "a-long-enough-password",
            },
        )
    assert response.status_code == 302
    assert "confirm" in mailoutbox[0].subject.lower() or "confirm" in mailoutbox[0].body.lower()
    from consortium.members.models import Person

    person = Person.objects.get(user__email="nia@acme.test")
    assert person.full_name == "Nia New" and person.organisation == roles.org
    assert person.affiliation == Person.Affiliation.PENDING


def test_signup_with_existing_email_is_refused_and_input_kept(roles):
    response = Client().post(
        "/accounts/signup/",
        {
            "full_name": "Dup",
            "email": "MEMBER@acme.test",
            "password1": "a-long-pass-1",
            "password2": "a-long-pass-1",
        },
    )
    # allauth either refuses in place or (to prevent enumeration) pretends to send mail; never a 2nd account.
    from consortium.members.models import User

    assert User.objects.filter(email__iexact="member@acme.test").count() == 1
    assert response.status_code in (200, 302)


def test_password_reset_sends_a_working_link(mailoutbox, django_capture_on_commit_callbacks):
    import re

    UserFactory(email="forgot@example.test")
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password/reset/", {"email": "forgot@example.test"})
    assert response.status_code == 302 and len(mailoutbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/password/reset/key/\S+)", mailoutbox[0].body).group(1)
    form_page = client.get(link, follow=True)  # allauth moves the key into the session, then redirects
    assert form_page.status_code == 200
    done = client.post(
        form_page.request["PATH_INFO"], {"password1": "a-brand-new-password", "password2": "a-brand-new-password"}
    )
    assert done.status_code == 302
    assert Client().login(email="forgot@example.test", password="a-brand-new-password")


def test_unknown_address_in_password_reset_says_nothing_revealing(mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post("/accounts/password/reset/", {"email": "nobody@example.test"})
    # allauth does not reveal whether the address exists: the same redirect, and at most a notice mail.
    assert response.status_code == 302
    assert all("nobody@example.test" in m.to for m in mailoutbox)


def test_change_email_sends_verification_to_the_new_address(roles, mailoutbox, django_capture_on_commit_callbacks):
    client = roles.client("member")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/email/", {"email": "new-address@acme.test", "action_add": ""})
    assert response.status_code in (200, 302)
    assert any("new-address@acme.test" in m.to for m in mailoutbox)
