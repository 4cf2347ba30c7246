"""The getting-started tour can be hidden, stays hidden on the next visit, and comes back on request."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_tour_hides_and_comes_back(roles, new_page):
    page = new_page()
    log_in(page, roles.member.email, PASSWORD)
    tour = page.get_by_role("heading", name="Getting started")
    expect(tour).to_be_visible()
    page.get_by_role("button", name="Hide this tour").click()
    expect(tour).to_be_hidden()
    page.reload()
    expect(tour).to_be_hidden()
    page.get_by_role("button", name="Show the getting-started tour").click()
    expect(tour).to_be_visible()
