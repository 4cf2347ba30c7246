"""iCalendar feeds, parsed back with the icalendar library: UIDs, SEQUENCE, times, VTIMEZONE."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from tests.workinggroups.factories import MeetingSeriesFactory, WorkingGroupFactory, round_with_phases
from workinggroups import feeds, services
from workinggroups.models import CalendarFeed, GroupMembership, RoundPhase, WorkingGroup

pytestmark = pytest.mark.django_db
LA = ZoneInfo("America/Los_Angeles")
UTC = dt.UTC
DST_DEADLINE = dt.date(2027, 3, 19)  # a Friday just after DST starts (14 Mar 2027)


def parse(response) -> Calendar:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(response.content)


def events(calendar: Calendar) -> dict[str, object]:
    return {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}


@pytest.fixture
def published(roles):
    return round_with_phases(group=roles.group, name="Training v8.0", slug="training-v8-0", deadline=DST_DEADLINE)


def test_round_feed_has_one_event_per_phase_with_stable_uids(client, published):
    calendar = parse(client.get(f"/rounds/{published.slug}/calendar.ics"))
    found = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    expected = {feeds.phase_uid(p): p for p in RoundPhase.objects.filter(round=published)}
    assert set(found) == set(expected)
    for uid, event in found.items():
        phase = expected[uid]
        assert event.start == phase.starts_at
        assert int(event["SEQUENCE"]) == 0
        assert event["DTSTART"].params["TZID"] == "America/Los_Angeles"


def test_round_feed_times_are_local_on_both_sides_of_dst(client, published):
    by_summary = events(parse(client.get(f"/rounds/{published.slug}/calendar.ics")))
    registration = by_summary["Training v8.0: Registration"]
    window = next(e for s, e in by_summary.items() if "submission window" in s)
    assert registration.end == dt.datetime(2027, 1, 22, 13, tzinfo=LA)
    assert registration.end.astimezone(UTC) == dt.datetime(2027, 1, 22, 21, tzinfo=UTC)  # PST
    assert window.end.astimezone(UTC) == dt.datetime(2027, 3, 19, 20, tzinfo=UTC)  # PDT
    publication = by_summary["Training v8.0: results published (embargo ends)"]
    assert publication.start == dt.datetime(2027, 4, 14, 10, tzinfo=LA)
    assert "DTEND" not in publication  # a moment


def test_vtimezone_describes_the_dst_change(client, published):
    calendar = parse(client.get(f"/rounds/{published.slug}/calendar.ics"))
    (vtimezone,) = calendar.timezones
    assert vtimezone.tz_name == "America/Los_Angeles"
    assert {c.name for c in vtimezone.subcomponents} == {"STANDARD", "DAYLIGHT"}
    tz = vtimezone.to_tz(lookup_tzid=False)  # built from the VTIMEZONE itself, not from the system
    assert dt.datetime(2027, 1, 22, 13, tzinfo=tz).utcoffset() == dt.timedelta(hours=-8)
    assert dt.datetime(2027, 3, 19, 13, tzinfo=tz).utcoffset() == dt.timedelta(hours=-7)
    assert calendar.get_missing_tzids() == set()


def test_moved_phase_keeps_uid_and_raises_sequence(client, roles, published):
    publication = RoundPhase.objects.get(round=published, kind="publication")
    later = publication.starts_at + dt.timedelta(days=7)
    services.round_phases_adjust(round=published, times={"publication": (later, later)}, actor=roles.chair)
    event = next(
        e for e in parse(client.get(f"/rounds/{published.slug}/calendar.ics")).walk("VEVENT")
        if str(e["UID"]) == feeds.phase_uid(publication)
    )  # fmt: skip
    assert int(event["SEQUENCE"]) == 1
    assert event.start == dt.datetime(2027, 4, 21, 10, tzinfo=LA)


def test_draft_round_feed_is_for_chairs_only(client, roles):
    draft = round_with_phases(group=roles.group, slug="draft", name="Draft", deadline=DST_DEADLINE, published=False)
    assert client.get(f"/rounds/{draft.slug}/calendar.ics").status_code == 404
    assert len(parse(roles.client("chair").get(f"/rounds/{draft.slug}/calendar.ics")).walk("VEVENT")) == 6


@pytest.fixture
def series(roles):
    return MeetingSeriesFactory(
        group=roles.group,
        rrule="FREQ=WEEKLY;BYDAY=TU",
        starts_on=dt.date(2027, 3, 1),
        start_time=dt.time(9),
        ends_on=dt.date(2027, 4, 30),
    )


def test_group_feed_has_the_meeting_series_with_rrule(client, series, published):
    calendar = parse(client.get("/workinggroups/training/calendar.ics"))
    meeting = events(calendar)["Training: " + series.title]
    assert str(meeting["UID"]) == feeds.series_uid(series)
    assert meeting.start == dt.datetime(2027, 3, 2, 9, tzinfo=LA)  # first Tuesday, PST
    assert meeting.end - meeting.start == dt.timedelta(minutes=60)
    rule = meeting["RRULE"]
    assert rule["FREQ"] == ["WEEKLY"] and rule["BYDAY"] == ["TU"]
    assert rule["UNTIL"] == [dt.datetime(2027, 5, 1, 6, 59, 59, tzinfo=UTC)]  # end of 30 Apr, in UTC
    assert len(calendar.walk("VEVENT")) == 1 + 6  # the series and the round's phases


def test_cancelled_and_moved_meetings(client, roles, series):
    first, second = dt.datetime(2027, 3, 2, 9, tzinfo=LA), dt.datetime(2027, 3, 16, 9, tzinfo=LA)
    services.meeting_occurrence_update(series=series, original_start=first, actor=roles.chair, cancelled=True)
    moved_to = dt.datetime(2027, 3, 17, 10, tzinfo=LA)
    services.meeting_occurrence_update(
        series=series, original_start=second, actor=roles.chair, moved_to=moved_to, agenda="1. Schedule"
    )
    calendar = parse(client.get("/workinggroups/training/calendar.ics"))
    master, override = sorted(
        (e for e in calendar.walk("VEVENT") if str(e["UID"]) == feeds.series_uid(series)),
        key=lambda e: "RECURRENCE-ID" in e,
    )
    assert [d.dt for d in master["EXDATE"].dts] == [first]
    assert override["RECURRENCE-ID"].dt == second
    assert override.start == moved_to
    assert int(override["SEQUENCE"]) == int(master["SEQUENCE"]) + 1
    assert "1. Schedule" in str(override["DESCRIPTION"])


def test_members_only_group_feed_is_hidden_from_anonymous(client, roles):
    WorkingGroup.objects.filter(pk=roles.group.pk).update(visibility=WorkingGroup.Visibility.MEMBERS)
    assert client.get("/workinggroups/training/calendar.ics").status_code == 404
    assert roles.client("member").get("/workinggroups/training/calendar.ics").status_code == 200


def test_personal_feed_has_the_groups_of_the_person_and_can_be_reset(client, roles, series, published):
    other = WorkingGroupFactory(name="Storage", slug="storage")
    MeetingSeriesFactory(group=other, title="Storage call")
    member = roles.client("member")
    page = member.get("/calendar/")
    assert page.status_code == 200
    token = CalendarFeed.objects.get(person=roles.member.person).token
    assert f"/calendar/{token}.ics" in page.content.decode()
    assert events(parse(client.get(f"/calendar/{token}.ics"))) == {}  # in no group yet
    GroupMembership.objects.create(group=roles.group, person=roles.member.person)
    summaries = set(events(parse(client.get(f"/calendar/{token}.ics"))))
    assert "Training: " + series.title in summaries and "Storage: Storage call" not in summaries
    assert "Training v8.0: Registration" in summaries
    member.post("/calendar/reset/")
    assert client.get(f"/calendar/{token}.ics").status_code == 404
    new = CalendarFeed.objects.get(person=roles.member.person).token
    assert new != token and client.get(f"/calendar/{new}.ics").status_code == 200


def test_feed_is_a_download(client, published):
    response = client.get(f"/rounds/{published.slug}/calendar.ics")
    assert response["Content-Disposition"] == f'attachment; filename="{published.slug}.ics"'
