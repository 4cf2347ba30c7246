"""The pure scheduling module: the MLPerf calendar from one deadline, checks of adjusted phases, the
phase derived from the clock, and RRULE validation and expansion. No database."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from workinggroups import schedules
from workinggroups.schedules import PlannedPhase

LA = ZoneInfo("America/Los_Angeles")
UTC = dt.UTC


def by_kind(plan):
    return {p.kind: p for p in plan}


def test_mlperf_calendar_from_a_deadline():
    plan = by_kind(schedules.mlperf_schedule(dt.date(2026, 5, 15)))
    assert list(plan) == list(schedules.PHASE_KINDS)
    assert plan["registration"].ends_at == dt.datetime(2026, 3, 20, 13, tzinfo=LA)  # 8 weeks before
    assert plan["registration"].starts_at == dt.datetime(2026, 2, 20, 13, tzinfo=LA)
    assert plan["submission"].starts_at == plan["registration"].ends_at
    assert plan["submission"].ends_at == dt.datetime(2026, 5, 15, 13, tzinfo=LA)  # Friday 13:00
    assert plan["objection_filing"].starts_at == dt.datetime(2026, 5, 15, 14, tzinfo=LA)  # after grace
    assert plan["objection_filing"].ends_at == dt.datetime(2026, 5, 22, 13, tzinfo=LA)  # week 1
    assert plan["objection_review"].ends_at == dt.datetime(2026, 5, 29, 13, tzinfo=LA)  # week 2
    revision = plan["revision"]
    assert revision.ends_at == dt.datetime(2026, 6, 3, 13, tzinfo=LA)  # Wednesday of week 3, 13:00
    assert revision.ends_at.weekday() == 2
    publication = plan["publication"]
    assert publication.starts_at == publication.ends_at == dt.datetime(2026, 6, 10, 10, tzinfo=LA)
    assert publication.starts_at.weekday() == 2  # Wednesday of week 4, 10:00
    assert schedules.check_phases(plan.values(), time_zone="America/Los_Angeles") == []


def test_deadline_after_spring_forward_keeps_local_times():
    # DST starts in the US on Sun 8 Mar 2026: registration closes in PST, the deadline is in PDT.
    plan = by_kind(schedules.mlperf_schedule(dt.date(2026, 3, 13)))
    closes = plan["registration"].ends_at
    deadline = plan["submission"].ends_at
    assert closes.astimezone(LA).hour == deadline.astimezone(LA).hour == 13
    assert closes.astimezone(UTC) == dt.datetime(2026, 1, 16, 21, tzinfo=UTC)  # 13:00 PST
    assert deadline.astimezone(UTC) == dt.datetime(2026, 3, 13, 20, tzinfo=UTC)  # 13:00 PDT
    # 8 weeks of wall clock are one hour shorter in absolute time.
    assert deadline.astimezone(UTC) - closes.astimezone(UTC) == dt.timedelta(weeks=8, hours=-1)


def test_publication_after_fall_back_is_still_ten_local():
    # DST ends Sun 1 Nov 2026: deadline Fri 30 Oct (PDT), publication Wed 25 Nov (PST).
    plan = by_kind(schedules.mlperf_schedule(dt.date(2026, 10, 30)))
    assert plan["submission"].ends_at.astimezone(UTC) == dt.datetime(2026, 10, 30, 20, tzinfo=UTC)
    assert plan["publication"].starts_at.astimezone(UTC) == dt.datetime(2026, 11, 25, 18, tzinfo=UTC)
    assert plan["objection_filing"].ends_at.astimezone(UTC) == dt.datetime(2026, 11, 6, 21, tzinfo=UTC)


def test_grace_is_absolute_time_even_in_another_zone():
    plan = by_kind(schedules.mlperf_schedule(dt.date(2026, 5, 15), "Europe/Berlin", grace=dt.timedelta(minutes=90)))
    berlin = ZoneInfo("Europe/Berlin")
    assert plan["submission"].ends_at == dt.datetime(2026, 5, 15, 13, tzinfo=berlin)
    assert plan["objection_filing"].starts_at == dt.datetime(2026, 5, 15, 14, 30, tzinfo=berlin)


def test_deadline_must_be_a_friday():
    with pytest.raises(ValueError, match="Friday; 14 May 2026 is a Thursday"):
        schedules.mlperf_schedule(dt.date(2026, 5, 14))


def test_unknown_time_zone_is_refused():
    with pytest.raises(ValueError, match="not a known time zone"):
        schedules.mlperf_schedule(dt.date(2026, 5, 15), "Mars/Olympus")


def _moved(plan, kind, **changes):
    return [
        PlannedPhase(p.kind, changes.get("starts_at", p.starts_at), changes.get("ends_at", p.ends_at))
        if p.kind == kind
        else p
        for p in plan
    ]


def test_check_phases_finds_overlap_and_order():
    plan = schedules.mlperf_schedule(dt.date(2026, 5, 15))
    review = by_kind(plan)["objection_review"]
    # Review starts before filing ends.
    moved = _moved(plan, "objection_review", starts_at=review.starts_at - dt.timedelta(days=2))
    errors = schedules.check_phases(moved, time_zone="America/Los_Angeles")
    assert [k for k, _ in errors] == ["objection_review"]
    assert "before objection filing closes" in errors[0][1]
    assert "Wed 20 May 2026, 13:00 PDT" in errors[0][1]


def test_check_phases_counts_the_grace_period():
    plan = schedules.mlperf_schedule(dt.date(2026, 5, 15))
    deadline = by_kind(plan)["submission"].ends_at
    moved = _moved(plan, "objection_filing", starts_at=deadline + dt.timedelta(minutes=30))
    errors = schedules.check_phases(moved, time_zone="America/Los_Angeles")
    assert len(errors) == 1 and "with its grace period" in errors[0][1]


def test_check_phases_end_before_start_and_missing_phase():
    plan = schedules.mlperf_schedule(dt.date(2026, 5, 15))
    revision = by_kind(plan)["revision"]
    moved = _moved(plan, "revision", ends_at=revision.starts_at - dt.timedelta(hours=1))
    moved = [p for p in moved if p.kind != "publication"]
    messages = dict(schedules.check_phases(moved, time_zone="America/Los_Angeles"))
    assert "Revision must end after it starts" in messages["revision"]
    assert messages["publication"] == "The schedule has no publication phase."


def test_registration_may_overlap_the_window_but_must_close_by_the_deadline():
    plan = schedules.mlperf_schedule(dt.date(2026, 5, 15))
    deadline = by_kind(plan)["submission"].ends_at
    overlap = _moved(plan, "registration", ends_at=deadline - dt.timedelta(days=7))
    assert schedules.check_phases(overlap, time_zone="America/Los_Angeles") == []
    late = _moved(plan, "registration", ends_at=deadline + dt.timedelta(days=1))
    ((kind, message),) = schedules.check_phases(late, time_zone="America/Los_Angeles")
    assert kind == "registration" and "must close by the submission deadline" in message


def test_phase_at_follows_the_clock():
    plan = schedules.mlperf_schedule(dt.date(2026, 5, 15))
    p = by_kind(plan)
    assert schedules.phase_at(plan, p["registration"].starts_at - dt.timedelta(seconds=1)) is None
    assert schedules.phase_at(plan, p["registration"].starts_at).kind == "registration"
    assert schedules.phase_at(plan, p["submission"].ends_at).kind == "submission"  # in the grace period
    assert schedules.phase_at(plan, p["submission"].ends_at + dt.timedelta(minutes=59)).kind == "submission"
    assert schedules.phase_at(plan, p["submission"].ends_at + dt.timedelta(minutes=60)).kind == "objection_filing"
    assert schedules.phase_at(plan, p["revision"].ends_at + dt.timedelta(days=1)) is None  # between phases
    assert schedules.phase_at(plan, p["publication"].starts_at + dt.timedelta(days=400)).kind == "publication"


@pytest.mark.parametrize(
    ("rule", "ends_on", "message"),
    [
        ("FREQ=WEEKLY;BYDAY=XX", None, "not a valid recurrence rule"),
        ("FREQ=FORTNIGHTLY", dt.date(2026, 6, 1), "FREQ=FORTNIGHTLY is not allowed"),
        ("FREQ=HOURLY;COUNT=3", None, "FREQ=HOURLY is not allowed"),
        ("BYDAY=TU;COUNT=3", None, "needs FREQ"),
        ("FREQ=WEEKLY;BYDAY=TU", None, "never ends"),
        ("FREQ=WEEKLY;COUNT=3;UNTIL=20261231", None, "COUNT or UNTIL, not both"),
        ("FREQ=WEEKLY;COUNT=0", None, "COUNT must be a positive"),
        ("FREQ=WEEKLY;UNTIL=20261341", None, "not a real date"),
        ("FREQ=WEEKLY;UNTIL=tomorrow", None, "not a date"),
        ("FREQ=WEEKLY;WHATEVER=1;COUNT=2", None, "Unknown or unsupported part"),
        ("FREQ=WEEKLY;BYDAY", None, "not a NAME=VALUE part"),
        ("FREQ=WEEKLY;COUNT=2\nEXDATE:20260101", None, "one line"),
        ("", None, "Enter a recurrence rule"),
        ("FREQ=WEEKLY;UNTIL=20251231", None, "produces no meeting"),
        ("FREQ=WEEKLY;BYDAY=TU", dt.date(2025, 1, 1), "cannot end before it starts"),
    ],
)
def test_bad_rrules_get_a_clear_message(rule, ends_on, message):
    with pytest.raises(schedules.RecurrenceError, match=message):
        schedules.normalise_rrule(
            rule, starts_on=dt.date(2026, 1, 6), start_time=dt.time(9), time_zone="America/Los_Angeles", ends_on=ends_on
        )


def test_rrule_is_normalised_and_until_in_utc_becomes_local():
    rule = schedules.normalise_rrule(
        "rrule:freq=weekly; byday=tu; until=20260301T000000Z",
        starts_on=dt.date(2026, 1, 6),
        start_time=dt.time(9),
        time_zone="America/Los_Angeles",
    )
    assert rule == "FREQ=WEEKLY;BYDAY=TU;UNTIL=20260228T160000"


def test_meetings_stay_at_local_time_across_dst():
    starts = schedules.occurrences(
        "FREQ=WEEKLY;BYDAY=TU",
        starts_on=dt.date(2026, 3, 1),
        start_time=dt.time(9),
        time_zone="America/Los_Angeles",
        ends_on=dt.date(2026, 3, 31),
        after=dt.datetime(2026, 3, 1, tzinfo=UTC),
        before=dt.datetime(2026, 4, 30, tzinfo=UTC),
    )
    assert [s.day for s in starts] == [3, 10, 17, 24, 31]
    assert {s.astimezone(LA).hour for s in starts} == {9}
    assert starts[0].astimezone(UTC).hour == 17 and starts[1].astimezone(UTC).hour == 16


def test_ical_recurrence_puts_until_in_utc_and_folds_in_the_end_date():
    kwargs = {"starts_on": dt.date(2026, 1, 6), "start_time": dt.time(9), "time_zone": "America/Los_Angeles"}
    assert (
        schedules.ical_recurrence("FREQ=WEEKLY;BYDAY=TU", ends_on=dt.date(2026, 6, 30), **kwargs)
        == "FREQ=WEEKLY;BYDAY=TU;UNTIL=20260701T065959Z"
    )
    assert schedules.ical_recurrence("FREQ=WEEKLY;COUNT=50", ends_on=dt.date(2026, 1, 31), **kwargs) == (
        "FREQ=WEEKLY;COUNT=4"
    )


def test_model_phase_kinds_match_the_schedule_module():
    from workinggroups.models import RoundPhase

    assert list(RoundPhase.Kind.values) == list(schedules.PHASE_KINDS)
