"""Reminders (run by beat; each one goes out once: the outbox's idempotency key names the kind, the
phase, the moment it is about and the recipient)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from workinggroups import schedules, selectors
from workinggroups.models import (
    ReminderKind,
    Round,
    RoundPhase,
)
from workinggroups.services._shared import _link, _mail

# A chair hears that a phase started if beat notices within this long after its start.
PHASE_REMINDER_WINDOW = dt.timedelta(days=1)


@transaction.atomic
def reminder_send(
    *,
    kind: str,
    phase: RoundPhase,
    about: dt.datetime,
    recipient: str,
    subject: str,
    template: str,
    context: dict[str, Any],
) -> bool:
    """Queues one reminder; False (and nothing queued) when it was already queued. The outbox's
    unique idempotency key makes a second, even concurrent, beat run send nothing."""
    key = reminder_key(kind=kind, phase_id=phase.pk, about=about)
    return bool(_mail(key=key, subject=subject, template=template, context=context, recipients=[recipient]))


def reminder_key(*, kind: str, phase_id: int, about: dt.datetime) -> str:
    return f"workinggroups.reminder:{kind}:{phase_id}:{about.astimezone(dt.UTC):%Y%m%dT%H%M%S}"


def _published_rounds() -> list[Round]:
    return list(
        Round.objects.filter(published=True)
        .select_related("group")
        .prefetch_related("phases", "registrations__contacts__user", "registrations__organisation")
    )


def deadline_reminders_send(*, now: dt.datetime | None = None) -> int:
    """Emails each registered organisation's contacts 7 days and 1 day before a published round's
    submission deadline. Returns how many went out now. Safe to run any number of times."""
    now = now or timezone.now()
    sent = 0
    for round in _published_rounds():
        phase = selectors.round_phase(round, schedules.SUBMISSION)
        if phase is None or phase.ends_at <= now:
            continue
        left = phase.ends_at - now
        if left <= dt.timedelta(days=1):
            kind = ReminderKind.DEADLINE_1_DAY
        elif left <= dt.timedelta(days=7):
            kind = ReminderKind.DEADLINE_7_DAYS
        else:
            continue
        for registration in round.registrations.all():
            for contact in registration.contacts.all():
                context = {
                    "round": round,
                    "organisation": registration.organisation,
                    "person": contact,
                    "deadline": schedules.format_moment(phase.ends_at, round.tz),
                    "deadline_utc": f"{phase.ends_at.astimezone(dt.UTC):%d %b %Y, %H:%M} UTC",
                    "grace_ends": schedules.format_moment(phase.ends_at + round.grace, round.tz),
                    "days": 1 if kind == ReminderKind.DEADLINE_1_DAY else 7,
                    "link": _link("round_detail", slug=round.slug),
                }
                sent += reminder_send(
                    kind=kind,
                    phase=phase,
                    about=phase.ends_at,
                    recipient=contact.user.email,
                    subject=f"{round.name}: submission deadline {context['deadline']}",
                    template="workinggroups/email/deadline_reminder.txt",
                    context=context,
                )
    return sent


def phase_reminders_send(*, now: dt.datetime | None = None) -> int:
    """Tells the chairs of a published round's group when one of its phases has started (within a
    day of its start, so a beat that was down does not send stale news). Safe to run twice."""
    now = now or timezone.now()
    sent = 0
    for round in _published_rounds():
        chairs = [m.person for m in selectors.group_chairs(round.group)]
        for phase in round.phases.all():
            if not (phase.starts_at <= now < phase.starts_at + PHASE_REMINDER_WINDOW):
                continue
            for chair in chairs:
                context = {
                    "round": round,
                    "phase": phase,
                    "person": chair,
                    "starts": schedules.format_moment(phase.starts_at, round.tz),
                    "ends": schedules.format_moment(phase.closes_at, round.tz),
                    "link": _link("round_schedule", slug=round.slug),
                }
                sent += reminder_send(
                    kind=ReminderKind.PHASE_STARTED,
                    phase=phase,
                    about=phase.starts_at,
                    recipient=chair.user.email,
                    subject=f"{round.name}: {phase.label.lower()} has started",
                    template="workinggroups/email/phase_started.txt",
                    context=context,
                )
    return sent
