"""Main member flows in a real browser: sign up and verify, find an organisation; invite a colleague
who accepts and becomes a submitter."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from consortium.members.models import OrganisationRole, Person
from tests.browser.conftest import log_in, log_out
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _link_in_last_mail(to: str) -> str:
    message = [m for m in mail.outbox if to in m.to][-1]
    return re.search(r"https?://\S+", message.body).group(0)


def test_sign_up_verify_log_in_and_find_organisation(roles, new_page, live_server):
    page = new_page()
    page.goto("/accounts/signup/")
    page.get_by_label("Full name").fill("Nia New")
    page.get_by_label("Email").fill("nia@acme.test")
    page.locator("input[name=password1]").fill("a-long-enough-password")
    page.locator("input[name=password2]").fill("a-long-enough-password")
    page.locator("main").get_by_role("button", name="Sign up", exact=True).click()
    page.get_by_text("Verify your email address").wait_for()

    link = _link_in_last_mail("nia@acme.test").replace("http://testserver", live_server.url)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(re.compile(r".*/dashboard/$"))
    page.get_by_text("Waiting for Acme AI to approve you").wait_for()

    log_out(page)
    log_in(page, "nia@acme.test", "a-long-enough-password")
    page.get_by_role("link", name="Members").click()
    page.get_by_label("Search").fill("glob")
    expect(page.get_by_role("link", name="Acme AI")).to_have_count(0)  # the live filter applied
    expect(page).to_have_url(re.compile(r"q=glob"))
    page.get_by_role("link", name="Globex").click()
    page.get_by_role("heading", name="Globex").wait_for()


def test_primary_contact_invites_colleague_who_accepts_and_becomes_submitter(roles, new_page, live_server):
    primary = new_page()
    log_in(primary, roles.primary.email, PASSWORD)
    primary.goto("/members/organisations/acme/roster/")
    primary.get_by_label("Colleague's email address").fill("cole@acme.test")
    primary.get_by_role("button", name="Send invitation").click()
    primary.get_by_text("Invitation sent to cole@acme.test.").wait_for()

    invite_link = _link_in_last_mail("cole@acme.test")
    invite_path = re.sub(r"^https?://[^/]+", "", invite_link)

    colleague = new_page()
    colleague.goto(invite_path)
    colleague.get_by_role("button", name="Create an account").click()
    colleague.get_by_label("Full name").fill("Cole League")
    colleague.get_by_label("Email").fill("cole@acme.test")
    colleague.locator("input[name=password1]").fill("another-long-password")
    colleague.locator("input[name=password2]").fill("another-long-password")
    colleague.locator("main").get_by_role("button", name="Sign up", exact=True).click()
    verify = _link_in_last_mail("cole@acme.test").replace("http://testserver", live_server.url)
    colleague.goto(verify)
    colleague.get_by_role("button", name="Confirm").click()
    colleague.goto(invite_path)
    colleague.get_by_role("button", name="Accept the invitation").click()
    colleague.get_by_text("Welcome to Acme AI.").wait_for()

    primary.goto("/members/organisations/acme/roster/")
    row = primary.locator("tr[data-person='cole@acme.test']")
    row.get_by_label("Role to grant to Cole League").select_option("submitter")
    row.get_by_role("button", name="Grant").click()
    primary.get_by_text("Cole League now has the role Submitter.").wait_for()

    person = Person.objects.get(user__email="cole@acme.test")
    assert person.organisation == roles.org
    assert person.roles.filter(role=OrganisationRole.Role.SUBMITTER).exists()
