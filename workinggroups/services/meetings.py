"""Writes of meeting series and single occurrences."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from consortium.audit.services import audit_record
from consortium.members.models import User
from workinggroups.models import (
    MeetingOccurrence,
    MeetingSeries,
    WorkingGroup,
)
from workinggroups.services._shared import _require_manager

SERIES_FIELDS = (
    "title",
    "rrule",
    "starts_on",
    "start_time",
    "time_zone",
    "duration_minutes",
    "ends_on",
    "join_link",
)


@transaction.atomic
def meeting_series_create(
    *, group: WorkingGroup, actor: User, ip_address: str | None = None, **fields: Any
) -> MeetingSeries:
    """A recurring meeting. The RRULE is validated (and normalised) by MeetingSeries.clean()."""
    _require_manager(actor, group)
    series = MeetingSeries(group=group, **{f: fields[f] for f in SERIES_FIELDS if f in fields})
    series.full_clean()
    series.save()
    audit_record(
        actor=actor,
        action="workinggroups.meeting_series_created",
        target=series,
        ip_address=ip_address,
        data={"rrule": series.rrule, "time_zone": series.time_zone},
    )
    return series


@transaction.atomic
def meeting_series_update(
    *, series: MeetingSeries, actor: User, ip_address: str | None = None, **fields: Any
) -> MeetingSeries:
    series = MeetingSeries.objects.select_for_update().select_related("group").get(pk=series.pk)
    _require_manager(actor, series.group)
    for name in SERIES_FIELDS:
        if name in fields:
            setattr(series, name, fields[name])
    series.full_clean()
    series.sequence += 1
    series.save()
    audit_record(
        actor=actor,
        action="workinggroups.meeting_series_changed",
        target=series,
        ip_address=ip_address,
        data={"rrule": series.rrule, "sequence": series.sequence},
    )
    return series


@transaction.atomic
def meeting_series_delete(*, series: MeetingSeries, actor: User, ip_address: str | None = None) -> None:
    series = MeetingSeries.objects.select_for_update().select_related("group").get(pk=series.pk)
    _require_manager(actor, series.group)
    audit_record(actor=actor, action="workinggroups.meeting_series_deleted", target=series, ip_address=ip_address)
    series.delete()


@transaction.atomic
def meeting_occurrence_update(
    *,
    series: MeetingSeries,
    original_start: dt.datetime,
    actor: User,
    agenda: str = "",
    minutes: str = "",
    cancelled: bool = False,
    moved_to: dt.datetime | None = None,
    ip_address: str | None = None,
) -> MeetingOccurrence:
    """Agenda, minutes, cancellation or a new time for one meeting of a series. Moving it raises
    its iCalendar SEQUENCE; its UID (the series') and RECURRENCE-ID (the original start) stay."""
    series = MeetingSeries.objects.select_for_update().select_related("group").get(pk=series.pk)
    _require_manager(actor, series.group)
    if not series.has_meeting_at(original_start):
        raise ValidationError("The series has no meeting at that time.")
    if moved_to is not None and cancelled:
        raise ValidationError({"moved_to": "A cancelled meeting cannot also be moved; choose one."})
    original_utc = original_start.astimezone(dt.UTC)
    if moved_to is not None and moved_to == original_utc:
        moved_to = None
    occurrence, _ = MeetingOccurrence.objects.select_for_update().get_or_create(
        series=series, original_start=original_utc
    )
    if occurrence.moved_to != moved_to or occurrence.cancelled != cancelled:
        occurrence.sequence += 1
    occurrence.agenda, occurrence.minutes = agenda, minutes
    occurrence.cancelled, occurrence.moved_to = cancelled, moved_to
    occurrence.save()
    audit_record(
        actor=actor,
        action="workinggroups.meeting_changed",
        target=occurrence,
        ip_address=ip_address,
        data={"cancelled": cancelled, "moved_to": moved_to.isoformat() if moved_to else None},
    )
    return occurrence
