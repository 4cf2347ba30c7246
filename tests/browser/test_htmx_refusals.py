"""Every refusal of an htmx form shows its message on the page, in an element with role="alert"
(htmx itself drops 4xx answers): the upload form's refusals, checked in a real browser."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from consortium.members.models import OrganisationRole
from tests.browser.conftest import log_in
from tests.factories import PASSWORD
from tests.submissions.factories import open_round, register, tar_gz_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _upload_page(new_page, roles, round_):
    page = new_page()
    log_in(page, roles.submitter.email, PASSWORD)
    page.goto(f"/rounds/{round_.slug}/upload/")
    page.get_by_label("Division").select_option("closed")
    page.get_by_label("Availability category").select_option("available")
    return page


def _archive(tmp_path):
    pkg = tmp_path / "Acme"
    (pkg / "systems").mkdir(parents=True)
    (pkg / "systems" / "s1.json").write_text("{}")
    path = tmp_path / "acme.tar.gz"
    path.write_bytes(tar_gz_of(pkg))
    return path


def _alert(page):
    return page.locator("#upload-form [role=alert]:visible")


def test_upload_of_a_file_that_is_not_an_archive_shows_why(roles, new_page, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    round_ = open_round()
    register(round_, roles.org)
    notes = tmp_path / "notes.txt"
    notes.write_text("not an archive")
    page = _upload_page(new_page, roles, round_)
    page.get_by_label("Package archive").set_input_files(str(notes))
    page.get_by_role("button", name="Upload").click()
    expect(_alert(page)).to_contain_text("Upload a .tar.gz, .tgz, .tar or .zip archive (got 'notes.txt')")
    # What was chosen is kept.
    expect(page.get_by_label("Division")).to_have_value("closed")


def test_upload_after_the_window_closed_shows_why(roles, new_page, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    round_ = open_round(deadline_in=dt.timedelta(days=-2), publication_in=dt.timedelta(days=20))
    register(round_, roles.org)
    page = _upload_page(new_page, roles, round_)
    page.get_by_label("Package archive").set_input_files(str(_archive(tmp_path)))
    page.get_by_role("button", name="Upload").click()
    expect(_alert(page)).to_contain_text("closed at")
    expect(_alert(page)).to_contain_text("A chair can open a fix window")


def test_upload_of_a_file_over_the_limit_is_refused_before_sending(roles, new_page, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SUBMISSION_MAX_ARCHIVE_BYTES = 50
    round_ = open_round()
    register(round_, roles.org)
    page = _upload_page(new_page, roles, round_)
    requests = []
    page.on("request", lambda r: requests.append(r) if r.method == "POST" else None)
    page.get_by_label("Package archive").set_input_files(str(_archive(tmp_path)))
    page.get_by_role("button", name="Upload").click()
    expect(_alert(page)).to_contain_text("This file is larger than 50")
    assert requests == []


def test_upload_refused_with_a_403_page_shows_the_reason(roles, new_page, tmp_path, settings):
    """A refusal that is a whole error page (here: the submitter role was taken away meanwhile)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    round_ = open_round()
    register(round_, roles.org)
    page = _upload_page(new_page, roles, round_)
    OrganisationRole.objects.filter(person=roles.submitter.person, role=OrganisationRole.Role.SUBMITTER).delete()
    page.get_by_label("Package archive").set_input_files(str(_archive(tmp_path)))
    page.get_by_role("button", name="Upload").click()
    expect(_alert(page)).to_contain_text("Only people with the submitter role at Acme AI can upload")
