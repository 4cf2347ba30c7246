"""Writes of rounds: created, edited, scheduled, published; and registration for them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from consortium.audit.services import audit_record
from consortium.members.models import Organisation, Person, User
from consortium.members.permissions import is_staff_admin
from workinggroups import permissions, schedules, selectors
from workinggroups.models import (
    Round,
    RoundPhase,
    RoundRegistration,
    WorkingGroup,
)

ROUND_FIELDS = (
    "name",
    "slug",
    "suite",
    "ruleset",
    "benchmarks",
    "divisions",
    "time_zone",
    "grace_minutes",
    "description",
)


@transaction.atomic
def round_create(
    *,
    group: WorkingGroup,
    actor: User,
    deadline: dt.date | None = None,
    ip_address: str | None = None,
    **fields: Any,
) -> Round:
    """A new (unpublished) round; with `deadline`, its phases are generated at once."""
    if not permissions.can_schedule_round(actor, group):
        raise PermissionDenied(f"Only the chairs of {group} and staff schedule its rounds.")
    round = Round(group=group, **{f: fields[f] for f in ROUND_FIELDS if f in fields})
    round.full_clean()
    round.save()
    audit_record(
        actor=actor,
        action="workinggroups.round_created",
        target=round,
        ip_address=ip_address,
        data={"suite": round.suite, "ruleset": round.ruleset, "benchmarks": round.benchmarks},
    )
    if deadline is not None:
        round_schedule_generate(round=round, deadline=deadline, actor=actor, ip_address=ip_address)
    return round


@transaction.atomic
def round_update(*, round: Round, actor: User, ip_address: str | None = None, **fields: Any) -> Round:
    round = Round.objects.select_for_update().select_related("group").get(pk=round.pk)
    if not permissions.can_schedule_round(actor, round.group):
        raise PermissionDenied(f"Only the chairs of {round.group} and staff change its rounds.")
    for name in ROUND_FIELDS:
        if name in fields:
            setattr(round, name, fields[name])
    round.full_clean()
    round.save()
    audit_record(
        actor=actor,
        action="workinggroups.round_changed",
        target=round,
        ip_address=ip_address,
        data={f: str(getattr(round, f)) for f in ROUND_FIELDS if f in fields and f != "description"},
    )
    return round


def _validate_phase_set(round: Round, phases: Iterable[schedules.PhaseTimes]) -> None:
    errors = schedules.check_phases(phases, time_zone=round.time_zone, grace=round.grace)
    if errors:
        by_field: dict[str, list[str]] = {}
        for kind, message in errors:
            by_field.setdefault(kind or "__all__", []).append(message)
        raise ValidationError(by_field)


def _save_phases(round: Round, planned: dict[str, tuple[dt.datetime, dt.datetime]]) -> list[str]:
    """Creates missing phases and moves existing ones (raising SEQUENCE); returns moved kinds."""
    existing = {p.kind: p for p in RoundPhase.objects.select_for_update().filter(round=round)}
    moved = []
    for kind, (starts_at, ends_at) in planned.items():
        phase = existing.get(kind)
        if phase is None:
            RoundPhase.objects.create(round=round, kind=kind, starts_at=starts_at, ends_at=ends_at)
        elif (phase.starts_at, phase.ends_at) != (starts_at, ends_at):
            phase.starts_at, phase.ends_at = starts_at, ends_at
            phase.sequence += 1
            phase.save(update_fields=["starts_at", "ends_at", "sequence", "updated_at"])
            moved.append(kind)
    return moved


@transaction.atomic
def round_schedule_generate(
    *,
    round: Round,
    deadline: dt.date,
    actor: User,
    deadline_time: dt.time = schedules.DEADLINE_TIME,
    ip_address: str | None = None,
) -> list[RoundPhase]:
    """(Re)generates all six phases from one submission deadline, per the MLPerf calendar in the
    round's time zone. Existing phases keep their UID; moved ones raise their SEQUENCE."""
    round = Round.objects.select_for_update().select_related("group").get(pk=round.pk)
    if not permissions.can_schedule_round(actor, round.group):
        raise PermissionDenied(f"Only the chairs of {round.group} and staff schedule its rounds.")
    try:
        plan = schedules.mlperf_schedule(deadline, round.time_zone, deadline_time=deadline_time, grace=round.grace)
    except ValueError as exc:
        raise ValidationError({"deadline": str(exc)}) from exc
    _validate_phase_set(round, plan)
    moved = _save_phases(round, {p.kind: (p.starts_at, p.ends_at) for p in plan})
    audit_record(
        actor=actor,
        action="workinggroups.round_schedule_generated",
        target=round,
        ip_address=ip_address,
        data={"deadline": deadline.isoformat(), "time_zone": round.time_zone, "moved": moved},
    )
    return selectors.round_phases(round)


@transaction.atomic
def round_phases_adjust(
    *,
    round: Round,
    times: dict[str, tuple[dt.datetime, dt.datetime]],
    actor: User,
    ip_address: str | None = None,
) -> list[str]:
    """Moves phases to new (aware) start and end times. The whole schedule is checked (order,
    overlaps) before anything is saved. Returns the kinds that moved."""
    round = Round.objects.select_for_update().select_related("group").get(pk=round.pk)
    if not permissions.can_schedule_round(actor, round.group):
        raise PermissionDenied(f"Only the chairs of {round.group} and staff schedule its rounds.")
    current = {p.kind: (p.starts_at, p.ends_at) for p in round.phases.all()}
    unknown = set(times) - set(schedules.PHASE_KINDS)
    if unknown:
        raise ValidationError(f"Unknown phases: {', '.join(sorted(unknown))}.")
    planned = {**current, **times}
    _validate_phase_set(round, [schedules.PlannedPhase(k, s, e) for k, (s, e) in planned.items()])
    moved = _save_phases(round, planned)
    if moved:
        audit_record(
            actor=actor,
            action="workinggroups.round_phases_adjusted",
            target=round,
            ip_address=ip_address,
            data={k: [planned[k][0].isoformat(), planned[k][1].isoformat()] for k in moved},
        )
    return moved


@transaction.atomic
def round_publish(*, round: Round, actor: User, now: dt.datetime | None = None, ip_address: str | None = None) -> Round:
    """Publishes the schedule: complete, valid, and with its submission deadline still ahead."""
    round = Round.objects.select_for_update().select_related("group").get(pk=round.pk)
    if not permissions.can_schedule_round(actor, round.group):
        raise PermissionDenied(f"Only the chairs of {round.group} and staff publish its rounds.")
    if round.published:
        raise ValidationError(f"{round} is already published.")
    round.full_clean()
    phases = list(round.phases.all())
    _validate_phase_set(round, phases)
    deadline = selectors.round_deadline(round)
    assert deadline is not None  # _validate_phase_set has required a submission window
    now = now or timezone.now()
    if deadline <= now:
        raise ValidationError(
            {
                schedules.SUBMISSION: (
                    f"The submission deadline ({schedules.format_moment(deadline, round.tz)}) is in the "
                    "past. Generate the schedule from a new deadline or move the submission window "
                    "before publishing."
                )
            }
        )
    round.published, round.published_at, round.published_by = True, now, actor
    round.save(update_fields=["published", "published_at", "published_by"])
    audit_record(actor=actor, action="workinggroups.round_published", target=round, ip_address=ip_address)
    return round


@transaction.atomic
def round_unpublish(*, round: Round, actor: User, ip_address: str | None = None) -> Round:
    round = Round.objects.select_for_update().select_related("group").get(pk=round.pk)
    if not permissions.can_schedule_round(actor, round.group):
        raise PermissionDenied(f"Only the chairs of {round.group} and staff unpublish its rounds.")
    if not round.published:
        raise ValidationError(f"{round} is not published.")
    round.published = False
    round.save(update_fields=["published"])
    audit_record(actor=actor, action="workinggroups.round_unpublished", target=round, ip_address=ip_address)
    return round


def _require_registration_open(round: Round, now: dt.datetime) -> None:
    phase = selectors.round_phase(round, schedules.REGISTRATION)
    if not round.published or phase is None:
        raise ValidationError(f"{round} is not open for registration.")
    if now < phase.starts_at:
        raise ValidationError(f"Registration for {round} opens {schedules.format_moment(phase.starts_at, round.tz)}.")
    if now >= phase.ends_at:
        raise ValidationError(
            f"Registration for {round} closed {schedules.format_moment(phase.ends_at, round.tz)}. "
            f"Ask the chairs of {round.group} if you still need to take part."
        )


@transaction.atomic
def round_register(
    *,
    round: Round,
    organisation: Organisation,
    contacts: Iterable[Person],
    actor: User,
    now: dt.datetime | None = None,
    ip_address: str | None = None,
) -> RoundRegistration:
    """Registers (or updates) an organisation's intent to submit, naming its contacts, who must hold
    the submitter role. Only primary contacts and submitters of the organisation, while registration
    is open, for organisations whose membership allows submitting and is in good standing."""
    if not (permissions.can_register_for_rounds(actor, organisation) or is_staff_admin(actor)):
        raise PermissionDenied(f"Only {organisation}'s primary contacts and submitters register it for rounds.")
    round = Round.objects.select_for_update().get(pk=round.pk)
    now = now or timezone.now()
    _require_registration_open(round, now)
    reason = selectors.organisation_submit_eligibility(organisation)
    if reason:
        raise ValidationError(f"{reason} Only members whose tier allows submitting can register.")
    contacts = list(contacts)
    if not contacts:
        raise ValidationError({"contacts": "Name at least one contact (a person with the submitter role)."})
    allowed = set(selectors.organisation_submitters(organisation).values_list("pk", flat=True))
    outside = [str(p) for p in contacts if p.pk not in allowed]
    if outside:
        raise ValidationError(
            {
                "contacts": f"Not a submitter at {organisation}: {', '.join(outside)}. "
                "Grant the role on the roster first."
            }
        )
    registration, created = RoundRegistration.objects.select_for_update().get_or_create(
        round=round, organisation=organisation, defaults={"registered_by": actor, "registered_at": now}
    )
    registration.contacts.set(contacts)
    audit_record(
        actor=actor,
        action="workinggroups.round_registered" if created else "workinggroups.round_registration_changed",
        target=registration,
        organisation=organisation,
        ip_address=ip_address,
        data={"round": round.slug, "contacts": sorted(p.pk for p in contacts)},
    )
    return registration


@transaction.atomic
def round_registration_withdraw(
    *,
    registration: RoundRegistration,
    actor: User,
    now: dt.datetime | None = None,
    ip_address: str | None = None,
) -> None:
    registration = (
        RoundRegistration.objects.select_for_update().select_related("round", "organisation").get(pk=registration.pk)
    )
    organisation = registration.organisation
    if not (permissions.can_register_for_rounds(actor, organisation) or is_staff_admin(actor)):
        raise PermissionDenied(f"Only {organisation}'s primary contacts and submitters change its registration.")
    _require_registration_open(registration.round, now or timezone.now())
    audit_record(
        actor=actor,
        action="workinggroups.round_registration_withdrawn",
        target=registration,
        organisation=organisation,
        ip_address=ip_address,
        data={"round": registration.round.slug},
    )
    registration.delete()
