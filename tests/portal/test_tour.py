"""The guided tour on each role's dashboard: what to do first, with links, per role held."""

import re

import pytest

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.mark.parametrize(
    ("role", "heading", "step"),
    [
        ("member", "As member", 'href="/workinggroups/">Join a working group'),
        ("submitter", "As submitter at Acme AI", 'href="/account/api-tokens/">Create an API token'),
        ("primary", "As primary contact of Acme AI", 'href="/members/organisations/acme/roster/">Review the roster'),
        ("chair", "As chair of Training", 'href="/workinggroups/training/manage/requests/">Decide join requests'),
        ("dataset_admin", "As dataset admin", 'href="/admin/licensing/dataset/dashboard/">See the pending work'),
        ("staff", "As staff", 'href="/staff/disagreements/">Look at disagreements'),
    ],
)
def test_each_role_gets_its_first_steps(roles, role, heading, step):
    page = text(roles.client(role).get("/dashboard/"))
    assert "Getting started" in page and heading in page and step in page


def test_plain_member_is_not_shown_other_roles_steps(roles):
    page = text(roles.client("member").get("/dashboard/"))
    assert "As submitter" not in page and "As chair" not in page and "As staff" not in page


def test_done_steps_are_marked(roles):
    page = text(roles.client("member").get("/dashboard/"))
    assert re.search(r"Complete your profile</a> <span class=\"badge badge-active\">done</span>", page)
    assert not re.search(r"Join a working group</a> <span class=\"badge badge-active\">done", page)
