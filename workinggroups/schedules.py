"""Pure scheduling logic: the MLPerf round calendar and meeting recurrences. No Django, no database.

Times are computed on the wall clock of the round's (or meeting's) own time zone with `zoneinfo`,
so "Friday 13:00" stays 13:00 local on both sides of a daylight-saving change; durations that are
absolute (the grace period) are added in UTC.

## The MLPerf calendar (DESIGN.md, Rounds)

From one submission deadline D, a Friday at 13:00 local time ("week 0"):

| phase             | starts                          | ends                               |
|-------------------|---------------------------------|------------------------------------|
| registration      | D - 12 weeks, 13:00             | D - 8 weeks, 13:00                 |
| submission window | D - 8 weeks, 13:00              | D, Friday 13:00 (+ grace, 60 min)  |
| objection filing  | D + grace (week 1)              | D + 7 days, Friday 13:00           |
| objection review  | D + 7 days, 13:00 (week 2)      | D + 14 days, Friday 13:00          |
| revision          | D + 14 days, 13:00 (week 3)     | D + 19 days, Wednesday 13:00       |
| publication       | D + 26 days, Wednesday 10:00    | (an instant: the embargo ends)     |

Revision ends with the final fixes and withdrawals (Wednesday of week 3, 13:00); publication is on
the Wednesday of week 4 at 10:00.
The opening of registration (12 weeks before) and of the submission window (when registration
closes) are this portal's choices; the calendar itself fixes only when they close. Weeks run from
Friday 13:00 to Friday 13:00, counted from the deadline.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

UTC = dt.UTC

REGISTRATION = "registration"
SUBMISSION = "submission"
OBJECTION_FILING = "objection_filing"
OBJECTION_REVIEW = "objection_review"
REVISION = "revision"
PUBLICATION = "publication"

# The phases of a round, in calendar order.
PHASE_KINDS: tuple[str, ...] = (
    REGISTRATION,
    SUBMISSION,
    OBJECTION_FILING,
    OBJECTION_REVIEW,
    REVISION,
    PUBLICATION,
)
PHASE_LABELS: dict[str, str] = {
    REGISTRATION: "Registration",
    SUBMISSION: "Submission window",
    OBJECTION_FILING: "Objection filing",
    OBJECTION_REVIEW: "Objection review",
    REVISION: "Revision",
    PUBLICATION: "Publication",
}
# Phases that are a moment rather than a span (the publication: the embargo ends).
INSTANT_PHASES = frozenset({PUBLICATION})

DEADLINE_TIME = dt.time(13, 0)
FINAL_FIXES_TIME = dt.time(13, 0)
PUBLICATION_TIME = dt.time(10, 0)
DEFAULT_GRACE = dt.timedelta(minutes=60)
DEFAULT_TIME_ZONE = "America/Los_Angeles"
REGISTRATION_CLOSES_BEFORE = dt.timedelta(weeks=8)
REGISTRATION_OPENS_BEFORE = dt.timedelta(weeks=12)
FRIDAY = 4
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def zone(name: str) -> ZoneInfo:
    """The zone called `name`; ValueError with a readable message when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(f"{name!r} is not a known time zone (use a name such as America/Los_Angeles).") from exc


def time_zone_names() -> list[str]:
    """IANA time zone names, sorted, for a choice list."""
    return sorted(n for n in available_timezones() if "/" in n or n == "UTC")


def local(day: dt.date, at: dt.time, tz: ZoneInfo) -> dt.datetime:
    """The moment `at` o'clock on `day` on the wall clock of `tz`."""
    return dt.datetime.combine(day, at, tzinfo=tz)


def format_moment(moment: dt.datetime, tz: ZoneInfo) -> str:
    """ "Fri 15 May 2026, 13:00 PDT" in `tz`."""
    moment = moment.astimezone(tz)
    return f"{moment:%a %d %b %Y, %H:%M} {moment.tzname()}"


def format_moment_with_utc(moment: dt.datetime, tz: ZoneInfo) -> str:
    """ "Fri 15 May 2026, 13:00 PDT (20:00 UTC)": the round's wall clock with UTC beside it (and the
    UTC date too when it differs); just the one time when the zone is UTC."""
    local = moment.astimezone(tz)
    shown = format_moment(moment, tz)
    if local.utcoffset() == dt.timedelta(0):
        return shown
    utc = moment.astimezone(dt.UTC)
    return f"{shown} ({utc:%H:%M} UTC)" if utc.date() == local.date() else f"{shown} ({utc:%a %d %b, %H:%M} UTC)"


class PhaseTimes(Protocol):
    """A round's phase (RoundPhase) or a planned one (PlannedPhase): read, never written here."""

    @property
    def kind(self) -> str: ...
    @property
    def starts_at(self) -> dt.datetime: ...
    @property
    def ends_at(self) -> dt.datetime: ...


# A round's phase or a planned one: what goes in comes out.
P = TypeVar("P", bound=PhaseTimes)


@dataclass(frozen=True)
class PlannedPhase:
    kind: str
    starts_at: dt.datetime
    ends_at: dt.datetime

    @property
    def label(self) -> str:
        return PHASE_LABELS[self.kind]


def mlperf_schedule(
    deadline: dt.date,
    time_zone: str = DEFAULT_TIME_ZONE,
    *,
    deadline_time: dt.time = DEADLINE_TIME,
    grace: dt.timedelta = DEFAULT_GRACE,
) -> list[PlannedPhase]:
    """The six phases of a round whose submission deadline is `deadline` (a Friday) at
    `deadline_time` in `time_zone`, per the MLPerf calendar (see the module docstring).

    Raises ValueError when the deadline is not a Friday or the time zone is unknown.
    """
    tz = zone(time_zone)
    if deadline.weekday() != FRIDAY:
        raise ValueError(
            f"The MLPerf submission deadline is on a Friday; {deadline:%d %b %Y} is a {WEEKDAYS[deadline.weekday()]}."
        )
    if grace < dt.timedelta(0):
        raise ValueError("The grace period cannot be negative.")
    due = local(deadline, deadline_time, tz)
    grace_ends = (due.astimezone(UTC) + grace).astimezone(tz)

    def at(days: int, time: dt.time = deadline_time) -> dt.datetime:
        return local(deadline + dt.timedelta(days=days), time, tz)

    registration_closes = at(-REGISTRATION_CLOSES_BEFORE.days)
    return [
        PlannedPhase(REGISTRATION, at(-REGISTRATION_OPENS_BEFORE.days), registration_closes),
        PlannedPhase(SUBMISSION, registration_closes, due),
        PlannedPhase(OBJECTION_FILING, grace_ends, at(7)),
        PlannedPhase(OBJECTION_REVIEW, at(7), at(14)),
        PlannedPhase(REVISION, at(14), at(19, FINAL_FIXES_TIME)),
        PlannedPhase(PUBLICATION, at(26, PUBLICATION_TIME), at(26, PUBLICATION_TIME)),
    ]


def phase_end(phase: PhaseTimes, grace: dt.timedelta) -> dt.datetime:
    """When a phase really closes: the submission window closes after its grace period."""
    return phase.ends_at + grace if phase.kind == SUBMISSION else phase.ends_at


# Pairs of phases that must not overlap: the second starts when (or after) the first has closed.
# Registration may overlap the submission window (the window may open before registration closes),
# but must close no later than the deadline.
_SEQUENCE_RULES = [
    (SUBMISSION, OBJECTION_FILING),
    (OBJECTION_FILING, OBJECTION_REVIEW),
    (OBJECTION_REVIEW, REVISION),
    (REVISION, PUBLICATION),
]


def check_phases(
    phases: Iterable[PhaseTimes], *, time_zone: str, grace: dt.timedelta = DEFAULT_GRACE
) -> list[tuple[str | None, str]]:
    """What is wrong with a round's phases, as (kind or None, message) pairs; [] when all is well.

    Checks: each phase once and all six present, each ends after it starts (publication is an
    instant), phases in calendar order, no overlap where the calendar forbids one.
    """
    tz = zone(time_zone)
    errors: list[tuple[str | None, str]] = []
    by_kind: dict[str, PhaseTimes] = {}
    for phase in phases:
        if phase.kind not in PHASE_LABELS:
            errors.append((None, f"Unknown phase {phase.kind!r}."))
        elif phase.kind in by_kind:
            errors.append((phase.kind, f"{PHASE_LABELS[phase.kind]} appears twice."))
        else:
            by_kind[phase.kind] = phase
    for kind in PHASE_KINDS:
        if kind not in by_kind:
            errors.append((kind, f"The schedule has no {PHASE_LABELS[kind].lower()} phase."))
    for kind, phase in by_kind.items():
        label = PHASE_LABELS[kind]
        if kind in INSTANT_PHASES:
            if phase.ends_at != phase.starts_at:
                errors.append((kind, f"{label} is a moment: its end must equal its start."))
        elif phase.ends_at <= phase.starts_at:
            errors.append(
                (
                    kind,
                    f"{label} must end after it starts: it starts {format_moment(phase.starts_at, tz)} "
                    f"and ends {format_moment(phase.ends_at, tz)}.",
                )
            )
    registration, submission = by_kind.get(REGISTRATION), by_kind.get(SUBMISSION)
    if registration and submission:
        if registration.starts_at > submission.starts_at:
            errors.append((REGISTRATION, "Registration must open no later than the submission window opens."))
        if registration.ends_at > submission.ends_at:
            errors.append(
                (
                    REGISTRATION,
                    f"Registration must close by the submission deadline "
                    f"({format_moment(submission.ends_at, tz)}); it closes "
                    f"{format_moment(registration.ends_at, tz)}.",
                )
            )
    for first_kind, second_kind in _SEQUENCE_RULES:
        first, second = by_kind.get(first_kind), by_kind.get(second_kind)
        if not (first and second):
            continue
        closes = phase_end(first, grace)
        if second.starts_at < closes:
            with_grace = " with its grace period" if first_kind == SUBMISSION else ""
            errors.append(
                (
                    second_kind,
                    f"{PHASE_LABELS[second_kind]} starts {format_moment(second.starts_at, tz)}, before "
                    f"{PHASE_LABELS[first_kind].lower()} closes{with_grace} "
                    f"({format_moment(closes, tz)}). Phases must follow one another in order "
                    "without overlapping.",
                )
            )
    return errors


def phase_at(phases: Iterable[P], at: dt.datetime, *, grace: dt.timedelta = DEFAULT_GRACE) -> P | None:
    """The phase running at `at` (or None between or before phases). The submission window runs
    until the end of its grace period; the publication, once reached, stays current. Where phases
    overlap (registration and submission window), the later one in the calendar wins."""
    by_kind = {p.kind: p for p in phases}
    for kind in reversed(PHASE_KINDS):
        phase = by_kind.get(kind)
        if phase is None:
            continue
        if kind in INSTANT_PHASES:
            if at >= phase.starts_at:
                return phase
        elif phase.starts_at <= at < phase_end(phase, grace):
            return phase
    return None


def next_friday(after: dt.date, *, min_days: int = 0) -> dt.date:
    """The first Friday at least `min_days` after `after`."""
    day = after + dt.timedelta(days=min_days)
    return day + dt.timedelta(days=(FRIDAY - day.weekday()) % 7)


# ---------------------------------------------------------------------------------------------
# Meeting recurrences (RFC 5545 RRULE), expanded on the wall clock of the series' time zone.

_ALLOWED_FREQ = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_ALLOWED_PARTS = {
    "FREQ",
    "INTERVAL",
    "COUNT",
    "UNTIL",
    "BYDAY",
    "BYMONTHDAY",
    "BYMONTH",
    "BYSETPOS",
    "BYWEEKNO",
    "BYYEARDAY",
    "WKST",
}
_UNTIL = re.compile(r"^(\d{8})(?:T(\d{6})(Z?))?$")
RRULE_EXAMPLES = "FREQ=WEEKLY;BYDAY=TU, FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;COUNT=10, FREQ=MONTHLY;BYDAY=1WE"


class RecurrenceError(ValueError):
    """A recurrence rule that cannot be used; the message is meant for the person who wrote it."""


def _parts(rule: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for item in rule.split(";"):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not value:
            raise RecurrenceError(f"{item!r} is not a NAME=VALUE part of a recurrence rule.")
        if key in parts:
            raise RecurrenceError(f"{key} appears twice in the rule.")
        parts[key] = value
    return parts


def _local_until(value: str, tz: ZoneInfo) -> dt.datetime:
    """UNTIL as a naive wall-clock time in `tz`: a date means the end of that day."""
    match = _UNTIL.match(value)
    if not match:
        raise RecurrenceError(f"UNTIL={value} is not a date (20271231) or a time (20271231T170000Z).")
    day_text, time_text, zulu = match.groups()
    try:
        day = dt.datetime.strptime(day_text, "%Y%m%d")
        if time_text is None:
            return day.replace(hour=23, minute=59, second=59)
        moment = dt.datetime.strptime(day_text + time_text, "%Y%m%d%H%M%S")
    except ValueError as exc:
        raise RecurrenceError(f"UNTIL={value} is not a real date.") from exc
    if zulu:
        return moment.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)
    return moment


def normalise_rrule(
    text: str,
    *,
    starts_on: dt.date,
    start_time: dt.time,
    time_zone: str,
    ends_on: dt.date | None = None,
) -> str:
    """Checks a recurrence rule and returns it in canonical form ("FREQ=WEEKLY;BYDAY=TU", UNTIL as
    local wall-clock time). Raises RecurrenceError with a readable message when the rule is not a
    valid RRULE, repeats more often than daily, never ends (no COUNT, no UNTIL and no end date), or
    produces no meeting at all."""
    from dateutil.rrule import rrulestr

    tz = zone(time_zone)
    rule = (text or "").strip()
    if not rule:
        raise RecurrenceError(f"Enter a recurrence rule, for example {RRULE_EXAMPLES.split(', ')[0]}.")
    if "\n" in rule or "\r" in rule:
        raise RecurrenceError("Enter one rule on one line (an RRULE, without DTSTART or EXDATE lines).")
    if rule.upper().startswith("RRULE:"):
        rule = rule[len("RRULE:") :]
    rule = rule.upper().replace(" ", "")
    parts = _parts(rule)
    unknown = sorted(set(parts) - _ALLOWED_PARTS)
    if unknown:
        raise RecurrenceError(f"Unknown or unsupported part of the rule: {', '.join(unknown)}.")
    freq = parts.get("FREQ")
    if freq is None:
        raise RecurrenceError("The rule needs FREQ (for example FREQ=WEEKLY).")
    if freq not in _ALLOWED_FREQ:
        raise RecurrenceError(f"FREQ={freq} is not allowed: meetings repeat DAILY, WEEKLY, MONTHLY or YEARLY.")
    if "COUNT" in parts and "UNTIL" in parts:
        raise RecurrenceError("Use COUNT or UNTIL, not both (RFC 5545).")
    if "COUNT" in parts and not (parts["COUNT"].isdigit() and int(parts["COUNT"]) > 0):
        raise RecurrenceError("COUNT must be a positive whole number.")
    if "UNTIL" in parts:
        parts["UNTIL"] = _local_until(parts["UNTIL"], tz).strftime("%Y%m%dT%H%M%S")
    canonical = ";".join(f"{key}={value}" for key, value in parts.items())
    start = dt.datetime.combine(starts_on, start_time)
    try:
        recurrence = rrulestr(canonical, dtstart=start)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise RecurrenceError(f"This is not a valid recurrence rule (RFC 5545 RRULE): {exc}.") from exc
    if "COUNT" not in parts and "UNTIL" not in parts and ends_on is None:
        raise RecurrenceError(
            "This rule never ends. Add COUNT=… or UNTIL=… to the rule, or give the series an end date."
        )
    if ends_on is not None and ends_on < starts_on:
        raise RecurrenceError("The series cannot end before it starts.")
    first = recurrence.after(start, inc=True)
    if first is None or (ends_on is not None and first.date() > ends_on):
        raise RecurrenceError("This rule produces no meeting between the first day and the end of the series.")
    return canonical


def _bounded(rule: str, starts_on: dt.date, start_time: dt.time):
    from dateutil.rrule import rrulestr

    return rrulestr(rule, dtstart=dt.datetime.combine(starts_on, start_time))


def occurrences(
    rule: str,
    *,
    starts_on: dt.date,
    start_time: dt.time,
    time_zone: str,
    ends_on: dt.date | None,
    after: dt.datetime,
    before: dt.datetime,
    limit: int = 500,
) -> list[dt.datetime]:
    """Start times (aware, in the series' zone) of the meetings of a normalised rule that start in
    [after, before]. Wall-clock expansion: a 09:00 meeting stays at 09:00 across DST changes."""
    tz = zone(time_zone)
    recurrence = _bounded(rule, starts_on, start_time)
    # Widen the naive window by a day each side; filter exactly on aware times afterwards.
    lo = after.astimezone(tz).replace(tzinfo=None) - dt.timedelta(days=1)
    hi = before.astimezone(tz).replace(tzinfo=None) + dt.timedelta(days=1)
    found: list[dt.datetime] = []
    for naive in recurrence.xafter(lo, inc=True):
        if naive > hi or len(found) >= limit:
            break
        if ends_on is not None and naive.date() > ends_on:
            break
        moment = naive.replace(tzinfo=tz)
        if after <= moment <= before:
            found.append(moment)
    return found


def is_occurrence(
    rule: str,
    moment: dt.datetime,
    *,
    starts_on: dt.date,
    start_time: dt.time,
    time_zone: str,
    ends_on: dt.date | None,
) -> bool:
    """Whether a meeting of the series starts exactly at `moment`."""
    found = occurrences(
        rule,
        starts_on=starts_on,
        start_time=start_time,
        time_zone=time_zone,
        ends_on=ends_on,
        after=moment,
        before=moment,
        limit=1,
    )
    return bool(found)


def last_occurrence_day(rule: str, *, starts_on: dt.date, start_time: dt.time, ends_on: dt.date | None):
    """The day of the last meeting (None if the rule is unbounded and there is no end date)."""
    parts = _parts(rule)
    if ends_on is not None:
        return ends_on
    if "UNTIL" in parts:
        return dt.datetime.strptime(parts["UNTIL"], "%Y%m%dT%H%M%S").date()
    if "COUNT" in parts:
        last = None
        for last in _bounded(rule, starts_on, start_time):  # noqa: B007 (bounded by COUNT)
            pass
        return last.date() if last else starts_on
    return None


def ical_recurrence(
    rule: str, *, starts_on: dt.date, start_time: dt.time, time_zone: str, ends_on: dt.date | None
) -> str:
    """The rule as it goes into a feed: UNTIL in UTC (RFC 5545 requires it when DTSTART has a TZID)
    and the series' end date folded in (as UNTIL, or as a smaller COUNT)."""
    tz = zone(time_zone)
    parts = _parts(rule)
    until_local: dt.datetime | None = None
    if "UNTIL" in parts:
        until_local = dt.datetime.strptime(parts.pop("UNTIL"), "%Y%m%dT%H%M%S")
    if ends_on is not None:
        end_of_day = dt.datetime.combine(ends_on, dt.time(23, 59, 59))
        if "COUNT" in parts:
            recurrence = _bounded(rule, starts_on, start_time)
            parts["COUNT"] = str(max(1, sum(1 for moment in recurrence if moment <= end_of_day)))
        else:
            until_local = min(until_local, end_of_day) if until_local else end_of_day
    if until_local is not None:
        parts["UNTIL"] = until_local.replace(tzinfo=tz).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return ";".join(f"{key}={value}" for key, value in parts.items())


def sorted_phases(phases: Sequence[P]) -> list[P]:
    order = {kind: index for index, kind in enumerate(PHASE_KINDS)}
    return sorted(phases, key=lambda p: order.get(p.kind, len(order)))
