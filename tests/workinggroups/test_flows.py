"""The main flows through the pages, as the browser tests will drive them (labels and buttons)."""

import html

import pytest
from django.core import mail
from icalendar import Calendar

from tests.workinggroups.factories import deadline_in
from workinggroups.models import GroupMembership, Round, WorkingGroup

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_chair_generates_and_publishes_a_round_from_a_deadline(roles):
    chair = roles.client("chair")
    page = text(chair.get("/workinggroups/training/"))
    assert "Manage group" in page
    page = text(chair.get("/workinggroups/training/manage/rounds/"))
    assert "New round" in page
    form = text(chair.get("/workinggroups/training/manage/rounds/new/"))
    for label in ("Name", "Slug", "Suite", "Ruleset", "Submission deadline (a Friday)", "Create round"):
        assert label in form
    deadline = deadline_in(70)
    response = chair.post(
        "/workinggroups/training/manage/rounds/new/",
        {
            "name": "Training v9.0",
            "slug": "training-v9-0",
            "suite": "training",
            "ruleset": "6.1.0",
            "divisions": ["closed", "open"],
            "time_zone": "America/Los_Angeles",
            "grace_minutes": "60",
            "deadline": deadline.isoformat(),
        },
        follow=True,
    )
    page = text(response)
    assert "Schedule of Training v9.0" in page and "Timeline" in page and "Publish schedule" in page
    assert f"Deadline {deadline:%a %d %b %Y}, 13:00" in page
    assert text(roles.client("member").get("/rounds/")).count("Training v9.0") == 0  # a draft
    response = chair.post("/rounds/training-v9-0/publish/", follow=True)
    assert "The schedule of Training v9.0 is published." in text(response)
    assert Round.objects.get().published
    assert "Training v9.0" in text(roles.client("anonymous").get("/rounds/"))


def test_member_asks_to_join_and_the_chair_approves(roles, django_capture_on_commit_callbacks):
    member, chair = roles.client("member"), roles.client("chair")
    assert "Ask to join" in text(member.get("/workinggroups/training/"))
    form = text(member.get("/workinggroups/training/join/"))
    assert "Message" in form and "Send request" in form
    response = member.post("/workinggroups/training/join/", {"message": "I run training benchmarks."}, follow=True)
    assert "You asked to join Training." in text(response)
    assert "Withdraw request" in text(response)
    page = text(chair.get("/workinggroups/training/manage/requests/"))
    assert "I run training benchmarks." in page and "Approve" in page and "Decline" in page
    request_id = roles.member.person.join_requests.get().pk
    with django_capture_on_commit_callbacks(execute=True):
        response = chair.post(
            f"/workinggroups/training/manage/requests/{request_id}/approve/", {"role": "member"}, follow=True
        )
    assert "is now in Training" in text(response)
    assert GroupMembership.objects.filter(group=roles.group, person=roles.member.person).exists()
    assert mail.outbox[0].to == [roles.member.email]
    assert "You are a member of this group." in text(member.get("/workinggroups/training/"))


def test_member_downloads_a_calendar_feed(roles):
    member = roles.client("member")
    page = text(member.get("/workinggroups/training/"))
    assert "Download calendar (.ics)" in page
    response = member.get("/workinggroups/training/calendar.ics")
    assert response["Content-Disposition"] == 'attachment; filename="training.ics"'
    assert Calendar.from_ical(response.content)["X-WR-CALNAME"].startswith("Training")
    page = text(member.get("/calendar/"))
    assert "Your secret calendar address" in page and "Download my calendar (.ics)" in page


def test_dashboard_shows_what_needs_attention(roles):
    member = roles.client("member")
    member.post("/workinggroups/training/join/", {"message": ""})
    assert "1 join request for Training" in text(roles.client("chair").get("/dashboard/"))
    assert "Your request to join Training waits for its chairs" in text(member.get("/dashboard/"))


def test_round_page_shows_the_current_phase_and_deadline(roles):
    chair = roles.client("chair")
    chair.post(
        "/workinggroups/training/manage/rounds/new/",
        {
            "name": "Training v9.0",
            "slug": "t9",
            "suite": "training",
            "ruleset": "6.1.0",
            "time_zone": "America/Los_Angeles",
            "grace_minutes": "60",
            "deadline": deadline_in(30).isoformat(),
        },
    )
    chair.post("/rounds/t9/publish/")
    page = text(roles.client("submitter").get("/rounds/t9/"))
    assert "Submission window open" in page
    assert "Submission deadline:" in page
    assert "Register your organisation" not in page  # registration closed 8 weeks before


def test_join_request_to_a_group_without_chair_is_decided_by_staff(roles, django_capture_on_commit_callbacks):
    power = WorkingGroup.objects.create(name="Power", slug="power", area=WorkingGroup.Area.BENCHMARKS, purpose="Power")
    member = roles.client("member")
    assert "The consortium staff (the group has no chair yet) will decide" in text(
        member.get("/workinggroups/power/join/")
    )
    response = member.post("/workinggroups/power/join/", {"message": "Hello"}, follow=True)
    assert "You asked to join Power. The consortium staff (the group has no chair yet) will decide" in text(response)
    assert "waiting for the consortium staff" in text(response)
    assert "Your request to join Power waits for the consortium staff" in text(member.get("/dashboard/"))
    staff = roles.client("staff")
    assert "1 join request for Power" in text(staff.get("/dashboard/"))
    request_id = roles.member.person.join_requests.get(group=power).pk
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(f"/workinggroups/power/manage/requests/{request_id}/approve/", {"role": "member"})
    assert GroupMembership.objects.filter(group=power, person=roles.member.person).exists()
