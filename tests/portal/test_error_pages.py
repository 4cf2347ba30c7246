"""Refusals say why, in an element with role="alert": form errors and the 403/404 pages."""

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.submissions.factories import open_round, register

pytestmark = pytest.mark.django_db


def _alerts(page: str) -> list[str]:
    found = re.findall(r'role="alert"[^>]*>(.*?)</(?:ul|p)>', page, re.S)
    return [html.unescape(re.sub(r"<[^>]+>|\s+", " ", m)).strip() for m in found]


def test_form_errors_are_rendered_with_role_alert(roles, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    round_ = open_round()
    register(round_, roles.org)
    response = roles.client("submitter").post(
        f"/rounds/{round_.slug}/upload/",
        {"division": "closed", "category": "available", "archive": SimpleUploadedFile("notes.txt", b"hello")},
    )
    assert response.status_code == 400
    assert any("Upload a .tar.gz, .tgz, .tar or .zip archive (got 'notes.txt')" in a for a in _alerts(response.text))


def test_403_page_says_why(roles):
    round_ = open_round()
    response = roles.client("member").get(f"/rounds/{round_.slug}/upload/")
    assert response.status_code == 403
    assert any("Only people with the submitter role at Acme AI" in a for a in _alerts(response.text))


def test_404_page_says_what_is_missing(roles):
    response = roles.client("member").get("/submissions/999999/")
    assert response.status_code == 404
    assert any("No such submission, or you may not see it." in a for a in _alerts(response.text))
    response = roles.client("member").get("/no/such/page/")
    assert any("There is no such page" in a for a in _alerts(response.text))
