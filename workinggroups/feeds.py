"""iCalendar feeds (RFC 5545) of meetings and round phases, built with the `icalendar` package.

- Every event has a stable UID (from a UUID stored on the phase or meeting series), so a calendar
  app updates an event in place when it moves; SEQUENCE rises with every move.
- Times carry their TZID (the round's or the series' zone) and the calendar holds a VTIMEZONE for
  each zone used, covering the events' dates, so times are right on both sides of a DST change.
- A meeting series is one VEVENT with an RRULE (UNTIL in UTC); a cancelled meeting is an EXDATE;
  a moved meeting, or one with an agenda, is an override VEVENT with the same UID and a
  RECURRENCE-ID of its original start.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from icalendar import Calendar, Event, vRecur

from consortium.common.mail import site_link
from workinggroups import schedules, selectors
from workinggroups.models import MeetingSeries, Round, RoundPhase, WorkingGroup

PRODID = "-//Consortium Portal//Working groups and rounds//EN"
REFRESH = dt.timedelta(hours=1)


def _host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "consortium.invalid"


def _url(name: str, **kwargs) -> str:
    return site_link(f"workinggroups:{name}", **kwargs)


def phase_uid(phase: RoundPhase) -> str:
    return f"round-phase-{phase.uid}@{_host()}"


def series_uid(series: MeetingSeries) -> str:
    return f"meeting-{series.uid}@{_host()}"


class _Span:
    """The dates the calendar's events cover, for the VTIMEZONE components."""

    def __init__(self) -> None:
        self.first: dt.date | None = None
        self.last: dt.date | None = None

    def add(self, day: dt.date) -> None:
        self.first = day if self.first is None else min(self.first, day)
        self.last = day if self.last is None else max(self.last, day)


def _phase_event(phase: RoundPhase, round: Round, span: _Span) -> Event:
    tz = round.tz
    start = phase.starts_at.astimezone(tz)
    summary = f"{round.name}: {phase.label}"
    description = [f"{round.name} ({round.group.name}), {phase.label.lower()}."]
    if phase.kind == schedules.SUBMISSION:
        summary = f"{round.name}: submission window (deadline {phase.ends_at.astimezone(tz):%H:%M %Z})"
        description.append(
            f"Deadline {schedules.format_moment(phase.ends_at, tz)}; uploads accepted for "
            f"{round.grace_minutes} more minutes."
        )
    elif phase.kind == schedules.PUBLICATION:
        summary = f"{round.name}: results published (embargo ends)"
    description.append(_url("round_detail", slug=round.slug))
    event = Event.new(
        uid=phase_uid(phase),
        summary=summary,
        description="\n".join(description),
        start=start,
        end=None if phase.is_instant else phase.ends_at.astimezone(tz),
        sequence=phase.sequence,
        stamp=phase.updated_at.astimezone(dt.UTC),
        last_modified=phase.updated_at.astimezone(dt.UTC),
        url=_url("round_detail", slug=round.slug),
        categories=["Round", round.group.name],
    )
    span.add(start.date())
    span.add(phase.ends_at.astimezone(tz).date())
    return event


def _round_events(rounds: Iterable[Round], span: _Span) -> list[Event]:
    events = []
    for round in rounds:
        for phase in selectors.round_phases(round):
            events.append(_phase_event(phase, round, span))
    return events


def _series_events(series: MeetingSeries, span: _Span) -> list[Event]:
    tz = schedules.zone(series.time_zone)
    first = schedules.occurrences(
        series.rrule,
        starts_on=series.starts_on,
        start_time=series.start_time,
        time_zone=series.time_zone,
        ends_on=series.ends_on,
        after=dt.datetime.combine(series.starts_on, dt.time(0), tzinfo=tz),
        before=dt.datetime.combine(series.starts_on + dt.timedelta(days=400), dt.time(0), tzinfo=tz),
        limit=1,
    )
    if not first:
        return []
    start = first[0]
    last_day = schedules.last_occurrence_day(
        series.rrule, starts_on=series.starts_on, start_time=series.start_time, ends_on=series.ends_on
    )
    span.add(start.date())
    span.add(last_day or start.date() + dt.timedelta(days=3 * 366))
    summary = f"{series.group.name}: {series.title}"
    group_url = _url("group_detail", slug=series.group.slug)
    description = "\n".join(filter(None, [f"Join: {series.join_link}" if series.join_link else "", group_url]))
    stamp = series.updated_at.astimezone(dt.UTC)
    master = Event.new(
        uid=series_uid(series),
        summary=summary,
        description=description,
        start=start,
        end=start + series.duration,
        sequence=series.sequence,
        stamp=stamp,
        last_modified=stamp,
        url=series.join_link or group_url,
        categories=["Meeting", series.group.name],
    )
    master.add(
        "rrule",
        vRecur.from_ical(
            schedules.ical_recurrence(
                series.rrule,
                starts_on=series.starts_on,
                start_time=series.start_time,
                time_zone=series.time_zone,
                ends_on=series.ends_on,
            )
        ),
    )
    if series.join_link:
        master.add("location", series.join_link)
    overrides = []
    for occurrence in series.occurrences.all():
        original = occurrence.original_start.astimezone(tz)
        if not series.has_meeting_at(original):
            continue  # left over from an earlier rule
        if occurrence.cancelled:
            master.add("exdate", original)
            continue
        if not (occurrence.moved_to or occurrence.agenda):
            continue
        moved = occurrence.moved_to.astimezone(tz) if occurrence.moved_to else original
        span.add(moved.date())
        occurrence_stamp = max(stamp, occurrence.updated_at.astimezone(dt.UTC))
        override = Event.new(
            uid=series_uid(series),
            summary=summary + (" (moved)" if occurrence.moved_to else ""),
            description="\n\n".join(filter(None, [occurrence.agenda and f"Agenda:\n{occurrence.agenda}", description])),
            start=moved,
            end=moved + series.duration,
            sequence=series.sequence + occurrence.sequence,
            stamp=occurrence_stamp,
            last_modified=occurrence_stamp,
            recurrence_id=original,
            url=series.join_link or group_url,
        )
        if series.join_link:
            override.add("location", series.join_link)
        overrides.append(override)
    return [master, *overrides]


def build_calendar(*, name: str, uid: str, series: Iterable[MeetingSeries] = (), rounds: Iterable[Round] = ()) -> bytes:
    span = _Span()
    events: list[Event] = []
    for s in series:
        events.extend(_series_events(s, span))
    events.extend(_round_events(rounds, span))
    calendar = Calendar.new(name=name, prodid=PRODID, uid=f"{uid}@{_host()}", refresh_interval=REFRESH)
    calendar.add("x-published-ttl", "PT1H")
    for event in events:
        calendar.add_component(event)
    if span.first is not None:
        calendar.add_missing_timezones(
            first_date=span.first - dt.timedelta(days=7), last_date=span.last + dt.timedelta(days=366)
        )
    return calendar.to_ical()


def _group_series(groups) -> list[MeetingSeries]:
    return list(MeetingSeries.objects.filter(group__in=groups).select_related("group").prefetch_related("occurrences"))


def _published_rounds(groups) -> list[Round]:
    return list(
        Round.objects.filter(group__in=groups, published=True).select_related("group").prefetch_related("phases")
    )


def group_feed(group: WorkingGroup) -> bytes:
    """Meetings and published round phases of one group."""
    groups = [group]
    return build_calendar(
        name=f"{group.name} ({settings.SITE_NAME})",
        uid=f"calendar-group-{group.slug}",
        series=_group_series(groups),
        rounds=_published_rounds(groups),
    )


def round_feed(round: Round) -> bytes:
    """The phases of one round."""
    return build_calendar(
        name=f"{round.name} ({settings.SITE_NAME})",
        uid=f"calendar-round-{round.slug}",
        rounds=[round],
    )


def person_feed(person) -> bytes:
    """Everything of the groups the person belongs to: meetings and published round phases."""
    groups = list(selectors.person_groups(person))
    return build_calendar(
        name=f"My working groups ({settings.SITE_NAME})",
        uid=f"calendar-person-{person.pk}",
        series=_group_series(groups),
        rounds=_published_rounds(groups),
    )
