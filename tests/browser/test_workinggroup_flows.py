"""Working groups and rounds in a real browser: a chair generates a round's schedule from one
deadline and publishes it; a member asks to join a group and the chair approves; a member downloads
the group's calendar and their personal one."""

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.factories import PASSWORD
from workinggroups import schedules, services
from workinggroups.models import GroupMembership, Round

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PACIFIC = ZoneInfo("America/Los_Angeles")


def _friday_ahead(days: int) -> dt.date:
    """The first Friday at least `days` days from today."""
    day = timezone.localdate() + dt.timedelta(days=days)
    return day + dt.timedelta(days=(4 - day.weekday()) % 7)


def _shown(day: dt.date, at: dt.time) -> str:
    """A moment as the pages show it: "Wed 14 Apr 2027, 10:00 PDT" (US/Pacific wall clock)."""
    moment = dt.datetime.combine(day, at, tzinfo=PACIFIC)
    return f"{moment:%a %d %b %Y, %H:%M} {moment.tzname()}"


def _parse_download(download) -> Calendar:
    assert download.suggested_filename.endswith(".ics")
    return Calendar.from_ical(Path(download.path()).read_bytes())


def test_chair_generates_and_publishes_a_round_from_a_deadline(roles, new_page):
    deadline = _friday_ahead(100)
    publication = deadline + dt.timedelta(days=26)
    assert publication.weekday() == 2  # the Wednesday of week 4 after the deadline

    chair = new_page()
    log_in(chair, roles.chair.email, PASSWORD)
    chair.goto("/workinggroups/training/")
    chair.get_by_role("button", name="Manage group").click()
    chair.get_by_role("navigation", name="Manage Training").get_by_role("link", name="Rounds").click()
    chair.get_by_role("heading", name="Rounds of Training").wait_for()
    chair.get_by_role("button", name="New round").click()
    chair.get_by_label("Name", exact=True).fill("Training v9.9")
    chair.get_by_label("Slug", exact=True).fill("training-v9-9")
    chair.get_by_label("Suite", exact=True).select_option("training")
    chair.get_by_label("Ruleset", exact=True).fill("6.1.0")
    chair.get_by_label("Submission deadline (a Friday)").fill(deadline.isoformat())
    chair.get_by_role("button", name="Create round").click()

    chair.wait_for_url(re.compile(r".*/rounds/training-v9-9/schedule/$"))
    chair.get_by_role("heading", name="Schedule of Training v9.9").wait_for()
    chair.get_by_text("Training v9.9 was created.").wait_for()
    expect(chair.get_by_role("figure", name="Timeline of the phases of Training v9.9")).to_be_visible()
    phases = chair.locator("table.wg-phases tbody tr[data-phase]")
    expect(phases).to_have_count(6)
    expect(phases.locator("th")).to_have_text(
        ["Registration", "Submission window", "Objection filing", "Objection review", "Revision", "Publication"]
    )
    registration = chair.locator("tr[data-phase='registration']")
    expect(registration.locator("td").nth(1)).to_contain_text(_shown(deadline - dt.timedelta(weeks=8), dt.time(13)))
    submission = chair.locator("tr[data-phase='submission']")
    expect(submission.locator("td").nth(1)).to_contain_text(f"Deadline {_shown(deadline, dt.time(13))}")
    expect(submission.locator("td").nth(1)).to_contain_text("grace 60 min")
    revision = chair.locator("tr[data-phase='revision']")
    expect(revision.locator("td").nth(1)).to_contain_text(_shown(deadline + dt.timedelta(days=19), dt.time(13)))
    published_at = chair.locator("tr[data-phase='publication']")
    expect(published_at.locator("td").first).to_contain_text(_shown(publication, dt.time(10)))
    expect(published_at.locator("td").first).to_contain_text("Wed ")

    chair.get_by_role("button", name="Publish schedule").click()
    chair.get_by_text("The schedule of Training v9.9 is published.").wait_for()
    chair.wait_for_url(re.compile(r".*/rounds/training-v9-9/$"))

    round_ = Round.objects.get(slug="training-v9-9")
    assert round_.published
    assert round_.published_by == roles.chair
    assert round_.group == roles.group
    assert round_.ruleset == "6.1.0"
    assert sorted(round_.phases.values_list("kind", flat=True)) == sorted(schedules.PHASE_KINDS)
    pub = round_.phases.get(kind=schedules.PUBLICATION)
    assert pub.starts_at == dt.datetime.combine(publication, dt.time(10), tzinfo=PACIFIC)

    anonymous = new_page()
    anonymous.goto("/rounds/")
    row = anonymous.locator("tr[data-round='training-v9-9']")
    expect(row.get_by_role("link", name="Training v9.9")).to_be_visible()
    expect(row).not_to_contain_text("draft")
    expect(row.locator("td").nth(2)).to_contain_text(_shown(deadline, dt.time(13)))


def test_member_asks_to_join_and_chair_approves(roles, new_page):
    member = new_page()
    log_in(member, roles.member.email, PASSWORD)
    member.goto("/workinggroups/training/")
    member.get_by_role("button", name="Ask to join").click()
    member.get_by_label("Message").fill("I would like to help with the reference models.")
    member.get_by_role("button", name="Send request").click()
    member.get_by_text("You asked to join Training.").wait_for()
    expect(member.get_by_role("button", name="Withdraw request")).to_be_visible()

    chair = new_page()
    log_in(chair, roles.chair.email, PASSWORD)
    chair.goto("/workinggroups/training/manage/requests/")
    request = chair.locator(f"article[data-request='{roles.member.email}']")
    expect(request).to_contain_text("I would like to help with the reference models.")
    request.get_by_label("Join as").select_option("member")
    request.get_by_role("button", name="Approve").click()
    chair.get_by_text(re.compile(r"is now in Training")).wait_for()
    expect(chair.locator(f"article[data-request='{roles.member.email}']")).to_have_count(0)

    member.goto("/workinggroups/training/")
    member.get_by_text("You are a member of this group.").wait_for()
    expect(member.get_by_role("button", name="Ask to join")).to_have_count(0)
    members = member.get_by_role("region", name="Members")
    row = members.get_by_role("row").filter(has_text=roles.member.person.display_name)
    expect(row.get_by_role("cell").nth(2)).to_have_text("Member")

    assert GroupMembership.objects.get(group=roles.group, person=roles.member.person).role == "member"
    told = [m for m in mail.outbox if roles.member.email in m.to]
    assert len(told) == 1
    assert "Training" in told[0].subject
    assert "approved" in told[0].subject.lower()


def test_member_downloads_group_and_personal_calendar(roles, new_page):
    today = timezone.localdate()
    series = services.meeting_series_create(
        group=roles.group,
        actor=roles.chair,
        title="Weekly sync",
        rrule="FREQ=WEEKLY;BYDAY=TU",
        starts_on=today,
        start_time=dt.time(9, 0),
        time_zone="America/Los_Angeles",
        duration_minutes=60,
        ends_on=today + dt.timedelta(days=120),
        join_link="https://meet.example.org/training",
    )
    round_ = services.round_create(
        group=roles.group,
        actor=roles.chair,
        deadline=_friday_ahead(70),
        name="Training v9.8",
        slug="training-v9-8",
        suite=Round.Suite.TRAINING,
        ruleset="6.1.0",
        divisions=["closed", "open"],
        time_zone="America/Los_Angeles",
    )
    services.round_publish(round=round_, actor=roles.chair)
    services.group_member_add(
        group=roles.group, person=roles.member.person, role=GroupMembership.Role.MEMBER, actor=roles.chair
    )

    page = new_page()
    log_in(page, roles.member.email, PASSWORD)
    page.goto("/workinggroups/training/")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download calendar (.ics)").click()
    group_calendar = _parse_download(info.value)
    assert group_calendar.name == "VCALENDAR"
    assert [tz["TZID"] for tz in group_calendar.walk("VTIMEZONE")] == ["America/Los_Angeles"]
    summaries = {str(e["SUMMARY"]) for e in group_calendar.walk("VEVENT")}
    assert "Training: Weekly sync" in summaries
    assert "Training v9.8: Registration" in summaries
    assert "Training v9.8: results published (embargo ends)" in summaries
    assert len(summaries) == 7  # the meeting series (one event with an RRULE) and six phases
    meeting = next(e for e in group_calendar.walk("VEVENT") if str(e["SUMMARY"]) == "Training: Weekly sync")
    assert meeting["RRULE"]["FREQ"] == ["WEEKLY"]
    assert meeting["DTSTART"].params["TZID"] == "America/Los_Angeles"
    assert str(meeting["UID"]).startswith(f"meeting-{series.uid}@")

    page.goto("/calendar/")
    page.get_by_role("heading", name="My calendar feed").wait_for()
    expect(page.get_by_role("link", name="Training")).to_be_visible()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download my calendar (.ics)").click()
    personal = _parse_download(info.value)
    assert personal.name == "VCALENDAR"
    assert personal.walk("VTIMEZONE")
    assert {str(e["UID"]) for e in personal.walk("VEVENT")} == {str(e["UID"]) for e in group_calendar.walk("VEVENT")}
