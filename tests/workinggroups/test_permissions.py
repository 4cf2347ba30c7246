"""Every page and action of the working groups app, for every role (ROLE_NAMES).

Expected status per role; 302 for anonymous on login-only pages is a redirect to the login page.
Actions (POST) that succeed redirect (302) too; refused ones answer 403 (or 404 where the thing is
hidden from the asker)."""

import datetime as dt

import pytest

from tests.conftest import ROLE_NAMES
from tests.workinggroups.factories import (
    JoinRequestFactory,
    MeetingSeriesFactory,
    WorkingGroupFactory,
    deadline_in,
    round_with_phases,
)
from workinggroups import selectors, services
from workinggroups.models import CalendarFeed, GroupMembership, RoundRegistration, WorkingGroup

pytestmark = pytest.mark.django_db


def expect(default, **by_role):
    return {name: by_role.get(name, default) for name in ROLE_NAMES}


PUBLIC = expect(200)
LOGIN = expect(200, anonymous=302)
MANAGERS = expect(403, anonymous=302, chair=200, staff=200)
MANAGER_ACTIONS = expect(403, anonymous=302, chair=302, staff=302)
MEMBERS_ONLY = expect(200, anonymous=404, dataset_admin=404)
DRAFT = expect(404, chair=200, staff=200)
REGISTRARS = expect(403, anonymous=302, submitter=200, primary=200)


class World:
    """The objects the pages are about, built once per test."""

    def __init__(self, roles):
        self.roles = roles
        self.group = roles.group
        self.hidden = WorkingGroupFactory(name="Medical", slug="medical", visibility=WorkingGroup.Visibility.MEMBERS)
        self.series = MeetingSeriesFactory(
            group=self.group,
            starts_on=dt.date.today() - dt.timedelta(days=30),
            ends_on=None,
            rrule="FREQ=WEEKLY;COUNT=30",
        )
        self.meeting = selectors.group_upcoming_meetings(self.group)[0]
        self.open = round_with_phases(group=self.group, name="Training v9.0", slug="open", deadline=deadline_in(70))
        self.draft = round_with_phases(
            group=self.group, name="Training v9.1", slug="draft", deadline=deadline_in(200), published=False
        )
        self.applicant = JoinRequestFactory(group=self.group, person=roles.member.person)
        self.feed = services.calendar_feed_get_or_create(person=roles.primary.person)


@pytest.fixture
def world(roles):
    return World(roles)


G = "/workinggroups/training"
M = G + "/manage"

PAGES = [
    ("group_list", lambda w: "/workinggroups/", PUBLIC),
    ("group_detail", lambda w: f"{G}/", PUBLIC),
    ("group_calendar", lambda w: f"{G}/calendar.ics", PUBLIC),
    ("members_only_group", lambda w: "/workinggroups/medical/", MEMBERS_ONLY),
    ("members_only_calendar", lambda w: "/workinggroups/medical/calendar.ics", MEMBERS_ONLY),
    ("group_join", lambda w: f"{G}/join/", LOGIN),
    ("group_edit", lambda w: f"{M}/", MANAGERS),
    ("group_members", lambda w: f"{M}/members/", MANAGERS),
    ("join_requests", lambda w: f"{M}/requests/", MANAGERS),
    ("meetings", lambda w: f"{M}/meetings/", MANAGERS),
    ("meeting_edit", lambda w: f"{M}/meetings/{w.series.pk}/", MANAGERS),
    ("occurrence_edit", lambda w: f"{M}/meetings/{w.series.pk}/{w.meeting.key}/", MANAGERS),
    ("group_rounds", lambda w: f"{M}/rounds/", MANAGERS),
    ("round_create", lambda w: f"{M}/rounds/new/", MANAGERS),
    ("round_list", lambda w: "/rounds/", PUBLIC),
    ("round_detail", lambda w: "/rounds/open/", PUBLIC),
    ("round_calendar", lambda w: "/rounds/open/calendar.ics", PUBLIC),
    ("draft_round_detail", lambda w: "/rounds/draft/", DRAFT),
    ("draft_round_calendar", lambda w: "/rounds/draft/calendar.ics", DRAFT),
    ("round_schedule", lambda w: "/rounds/open/schedule/", MANAGERS),
    ("draft_round_schedule", lambda w: "/rounds/draft/schedule/", MANAGERS),
    ("round_edit", lambda w: "/rounds/open/edit/", MANAGERS),
    ("round_register", lambda w: "/rounds/open/register/", REGISTRARS),
    ("my_calendar", lambda w: "/calendar/", LOGIN),
    ("personal_calendar", lambda w: f"/calendar/{w.feed.token}.ics", PUBLIC),
    ("unknown_personal_calendar", lambda w: "/calendar/not-a-token.ics", expect(404)),
]


@pytest.mark.parametrize("role", ROLE_NAMES)
@pytest.mark.parametrize(("page", "url", "expected"), PAGES, ids=[p[0] for p in PAGES])
def test_page_for_every_role(world, role, page, url, expected):
    response = world.roles.client(role).get(url(world))
    assert response.status_code == expected[role], f"{page} as {role}"
    if response.status_code == 302 and role == "anonymous":
        assert "/accounts/login/" in response["Location"]


def _membership(w):
    return GroupMembership.objects.create(group=w.group, person=w.roles.primary.person)


ACTIONS = [
    ("member_role", lambda w: f"{M}/members/{_membership(w).pk}/role/", {"role": "observer"}, MANAGER_ACTIONS),
    ("member_remove", lambda w: f"{M}/members/{_membership(w).pk}/remove/", {"reason": "left"}, MANAGER_ACTIONS),
    ("approve", lambda w: f"{M}/requests/{w.applicant.pk}/approve/", {"role": "member"}, MANAGER_ACTIONS),
    ("decline", lambda w: f"{M}/requests/{w.applicant.pk}/decline/", {"reason": "No"}, MANAGER_ACTIONS),
    ("meeting_delete", lambda w: f"{M}/meetings/{w.series.pk}/delete/", {}, MANAGER_ACTIONS),
    (
        "round_generate",
        lambda w: "/rounds/draft/schedule/generate/",
        {"generate-deadline": str(deadline_in(100)), "generate-deadline_time": "13:00"},
        MANAGER_ACTIONS,
    ),
    ("round_publish", lambda w: "/rounds/draft/publish/", {}, MANAGER_ACTIONS),
    ("round_unpublish", lambda w: "/rounds/open/unpublish/", {}, MANAGER_ACTIONS),
    ("my_calendar_reset", lambda w: "/calendar/reset/", {}, expect(302)),
]


@pytest.mark.parametrize("role", ROLE_NAMES)
@pytest.mark.parametrize(("action", "url", "data", "expected"), ACTIONS, ids=[a[0] for a in ACTIONS])
def test_action_for_every_role(world, role, action, url, data, expected):
    response = world.roles.client(role).post(url(world), data)
    assert response.status_code == expected[role], f"{action} as {role}"


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_withdraw_join_request_only_by_applicant(world, role):
    response = world.roles.client(role).post(f"{G}/join/{world.applicant.pk}/withdraw/")
    assert response.status_code == {"anonymous": 302, "member": 302}.get(role, 404)
    world.applicant.refresh_from_db()
    assert world.applicant.is_open == (role != "member")


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_leave_group_only_for_its_members(world, role):
    response = world.roles.client(role).post(f"{G}/leave/")
    # The chair is the last chair: the page redirects with the refusal; non-members get 404.
    assert response.status_code == {"anonymous": 302, "chair": 302}.get(role, 404)
    assert GroupMembership.objects.filter(group=world.group, person=world.roles.chair.person).exists()


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_withdraw_registration_only_by_the_organisation(world, role):
    registration = RoundRegistration.objects.create(round=world.open, organisation=world.roles.org)
    registration.contacts.add(world.roles.submitter.person)
    response = world.roles.client(role).post("/rounds/open/register/withdraw/")
    # A colleague without the role is refused (403); people of other organisations find nothing (404).
    assert response.status_code == {"anonymous": 302, "submitter": 302, "primary": 302, "member": 403}.get(role, 404)
    assert RoundRegistration.objects.exists() == (role not in ("submitter", "primary"))


def test_anonymous_sees_only_public_groups_in_the_list(world, client):
    content = client.get("/workinggroups/").content.decode()
    assert "Training" in content and "Medical" not in content
    assert "Medical" in world.roles.client("member").get("/workinggroups/").content.decode()


def test_member_list_is_for_members_only(world, client):
    GroupMembership.objects.create(group=world.group, person=world.roles.submitter.person)
    assert "submitter@acme.test" not in client.get(f"{G}/").content.decode()
    page = world.roles.client("member").get(f"{G}/").content.decode()
    assert 'id="members-heading"' in page
    assert 'id="members-heading"' not in client.get(f"{G}/").content.decode()


def test_personal_feed_token_is_not_shown_to_others(world):
    page = world.roles.client("member").get("/calendar/").content.decode()
    assert world.feed.token not in page
    assert CalendarFeed.objects.count() == 2
