"""Writes to working groups, join requests, meetings, rounds, registrations and reminders.

One transaction per action; permission checked here as well as in the views; every change that
matters is written to the audit log; mail goes out through `transaction.on_commit`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from consortium.audit.services import audit_record
from consortium.common.mail import mail_enqueue, site_link
from consortium.members.models import Organisation, Person, User
from consortium.members.permissions import is_staff_admin, person_of
from workinggroups import permissions, schedules, selectors
from workinggroups.models import (
    CalendarFeed,
    GroupMembership,
    JoinRequest,
    MeetingOccurrence,
    MeetingSeries,
    ReminderKind,
    Round,
    RoundPhase,
    RoundRegistration,
    WorkingGroup,
)

Role = GroupMembership.Role
DEFAULT_JOIN_COOLDOWN_DAYS = 30
# A chair hears that a phase started if beat notices within this long after its start.
PHASE_REMINDER_WINDOW = dt.timedelta(days=1)


def join_cooldown() -> dt.timedelta:
    """How long a declined person waits before asking again (WORKINGGROUPS_JOIN_COOLDOWN_DAYS)."""
    return dt.timedelta(days=getattr(settings, "WORKINGGROUPS_JOIN_COOLDOWN_DAYS", DEFAULT_JOIN_COOLDOWN_DAYS))


def _link(name: str, **kwargs: Any) -> str:
    return site_link(f"workinggroups:{name}", **kwargs)


def _mail(*, key: str, subject: str, template: str, context: dict[str, Any], recipients: list[str]) -> int:
    """Queues the mail in the outbox (sent after commit, once per key and recipient)."""
    if not recipients:
        return 0
    return mail_enqueue(
        key=key, subject=subject, body=render_to_string(template, context), recipients=recipients, about=key
    )


def _require_manager(actor: User, group: WorkingGroup) -> None:
    if not permissions.can_manage_group(actor, group):
        raise PermissionDenied(f"Only the chairs of {group} and staff may do this.")


def _date(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%d %b %Y}"


# ---------------------------------------------------------------------------------------------
# Groups and their members


@transaction.atomic
def group_update(
    *,
    group: WorkingGroup,
    actor: User,
    purpose: str,
    charter: str,
    mailing_list: str,
    visibility: str,
    ip_address: str | None = None,
) -> WorkingGroup:
    """Chairs keep their group's description up to date (name, slug, area and status are staff's)."""
    _require_manager(actor, group)
    group = WorkingGroup.objects.select_for_update().get(pk=group.pk)
    before = {f: getattr(group, f) for f in ("purpose", "charter", "mailing_list", "visibility")}
    group.purpose, group.charter = purpose.strip(), charter
    group.mailing_list, group.visibility = mailing_list.strip(), visibility
    group.full_clean()
    group.save()
    changed = sorted(f for f, v in before.items() if getattr(group, f) != v)
    audit_record(
        actor=actor,
        action="workinggroups.group_changed",
        target=group,
        ip_address=ip_address,
        data={"changed": changed},
    )
    return group


def _chair_count(group: WorkingGroup) -> int:
    return GroupMembership.objects.filter(group=group, role=Role.CHAIR).count()


def _guard_chair_change(actor: User, group: WorkingGroup, old_role: str | None, new_role: str | None) -> None:
    touches_chair = Role.CHAIR in (old_role, new_role) and old_role != new_role
    if touches_chair and not permissions.can_change_chairs(actor, group):
        raise PermissionDenied("Only a chair of the group or staff may name or remove a chair.")
    if old_role == Role.CHAIR and new_role != Role.CHAIR:
        # Lock the group's chair rows so two demotions cannot both pass the last-chair check.
        list(GroupMembership.objects.select_for_update().filter(group=group, role=Role.CHAIR))
        if _chair_count(group) <= 1:
            raise ValidationError("A group needs a chair: name another chair first.")


@transaction.atomic
def group_member_add(
    *, group: WorkingGroup, person: Person, role: str, actor: User, ip_address: str | None = None
) -> GroupMembership:
    """Chairs add someone directly (no join request needed)."""
    _require_manager(actor, group)
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}."})
    existing = GroupMembership.objects.filter(group=group, person=person).first()
    if existing is not None:
        raise ValidationError(f"{person} is already in {group} as {existing.get_role_display()}.")
    _guard_chair_change(actor, group, None, role)
    membership = GroupMembership.objects.create(group=group, person=person, role=role, added_by=actor)
    # An open request of the same person is answered by the addition.
    JoinRequest.objects.filter(group=group, person=person, state=JoinRequest.State.SUBMITTED).update(
        state=JoinRequest.State.APPROVED, decided_at=timezone.now(), decided_by=actor
    )
    audit_record(
        actor=actor,
        action="workinggroups.member_added",
        target=membership,
        organisation=person.organisation,
        ip_address=ip_address,
        data={"role": role, "person": person.pk},
    )
    return membership


@transaction.atomic
def group_member_set_role(
    *, membership: GroupMembership, role: str, actor: User, ip_address: str | None = None
) -> GroupMembership:
    membership = GroupMembership.objects.select_for_update().select_related("group", "person").get(pk=membership.pk)
    group = membership.group
    _require_manager(actor, group)
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}."})
    if role == membership.role:
        raise ValidationError(f"{membership.person} is already {membership.get_role_display()}.")
    old = membership.role
    _guard_chair_change(actor, group, old, role)
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        actor=actor,
        action="workinggroups.member_role_changed",
        target=membership,
        organisation=membership.person.organisation,
        ip_address=ip_address,
        data={"from": old, "to": role},
    )
    return membership


@transaction.atomic
def group_member_remove(
    *, membership: GroupMembership, actor: User, reason: str = "", ip_address: str | None = None
) -> None:
    membership = GroupMembership.objects.select_for_update().select_related("group", "person").get(pk=membership.pk)
    group = membership.group
    actor_person = person_of(actor)
    is_self = actor_person is not None and actor_person.pk == membership.person_id
    if not is_self:
        _require_manager(actor, group)
    if membership.role == Role.CHAIR:
        _guard_chair_change(actor, group, Role.CHAIR, None)
    audit_record(
        actor=actor,
        action="workinggroups.member_left" if is_self else "workinggroups.member_removed",
        target=membership,
        organisation=membership.person.organisation,
        ip_address=ip_address,
        reason=reason,
        data={"role": membership.role, "person": membership.person_id},
    )
    membership.delete()


# ---------------------------------------------------------------------------------------------
# Join requests: submitted → approved | declined | withdrawn


@transaction.atomic
def join_request_create(
    *, group: WorkingGroup, actor: User, message: str = "", ip_address: str | None = None
) -> JoinRequest:
    """The logged-in person asks to join `group`. Refused with a clear message when archived,
    already a member, already waiting, or within the cooldown after a decline."""
    person = person_of(actor)
    if person is None or not person.is_approved_member:
        raise ValidationError(
            "Only people approved by a member organisation can ask to join a working group. "
            "Ask your organisation's primary contact to approve you first."
        )
    group = WorkingGroup.objects.select_for_update().get(pk=group.pk)
    if not group.is_active:
        raise ValidationError(f"{group} is archived and takes no new members.")
    existing = GroupMembership.objects.filter(group=group, person=person).first()
    if existing is not None:
        raise ValidationError(f"You are already in {group} as {existing.get_role_display().lower()}.")
    previous = list(JoinRequest.objects.filter(group=group, person=person).order_by("-created_at"))
    waiting = next((r for r in previous if r.is_open), None)
    if waiting is not None:
        raise ValidationError(
            f"You asked to join {group} on {_date(waiting.created_at)}; {selectors.join_deciders(group)} "
            "have not decided yet."
        )
    declined = next((r for r in previous if r.state == JoinRequest.State.DECLINED), None)
    if declined is not None and declined.decided_at is not None:
        again = declined.decided_at + join_cooldown()
        if timezone.now() < again:
            raise ValidationError(
                f"Your request was declined on {_date(declined.decided_at)}. You can ask again from {_date(again)}."
            )
    message = (message or "").strip()
    if len(message) > 2000:
        raise ValidationError({"message": "Keep the message under 2000 characters."})
    request = JoinRequest.objects.create(group=group, person=person, message=message)
    audit_record(
        actor=actor,
        action="workinggroups.join_requested",
        target=request,
        organisation=person.organisation,
        ip_address=ip_address,
    )
    return request


def _lock_open_request(join_request: JoinRequest) -> JoinRequest:
    request = JoinRequest.objects.select_for_update().select_related("group", "person__user").get(pk=join_request.pk)
    if not request.is_open:
        who = f" by {request.decided_by}" if request.decided_by and request.state != "withdrawn" else ""
        when = f" on {_date(request.decided_at)}" if request.decided_at else ""
        raise ValidationError(f"This request was already {request.state}{who}{when}.")
    return request


def _tell_applicant(request: JoinRequest) -> None:
    _mail(
        key=f"workinggroups.join_request:{request.pk}:{request.state}",
        subject=f"Your request to join {request.group}: {request.get_state_display().lower()}",
        template="workinggroups/email/join_decision.txt",
        context={"request": request, "link": _link("group_detail", slug=request.group.slug)},
        recipients=[request.person.user.email],
    )


@transaction.atomic
def join_request_approve(
    *, join_request: JoinRequest, actor: User, role: str = Role.MEMBER, ip_address: str | None = None
) -> JoinRequest:
    request = _lock_open_request(join_request)
    _require_manager(actor, request.group)
    if role not in (Role.MEMBER, Role.OBSERVER):
        raise ValidationError({"role": "Approve a request as member or observer; name chairs on the members page."})
    GroupMembership.objects.get_or_create(
        group=request.group, person=request.person, defaults={"role": role, "added_by": actor}
    )
    request.state, request.decided_at, request.decided_by = JoinRequest.State.APPROVED, timezone.now(), actor
    request.save(update_fields=["state", "decided_at", "decided_by"])
    audit_record(
        actor=actor,
        action="workinggroups.join_approved",
        target=request,
        organisation=request.person.organisation,
        ip_address=ip_address,
        data={"role": role},
    )
    _tell_applicant(request)
    return request


@transaction.atomic
def join_request_decline(
    *, join_request: JoinRequest, actor: User, reason: str, ip_address: str | None = None
) -> JoinRequest:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give a reason: the applicant reads it in the email."})
    request = _lock_open_request(join_request)
    _require_manager(actor, request.group)
    request.state, request.reason = JoinRequest.State.DECLINED, reason
    request.decided_at, request.decided_by = timezone.now(), actor
    request.save(update_fields=["state", "reason", "decided_at", "decided_by"])
    audit_record(
        actor=actor,
        action="workinggroups.join_declined",
        target=request,
        organisation=request.person.organisation,
        ip_address=ip_address,
        reason=reason,
    )
    _tell_applicant(request)
    return request


@transaction.atomic
def join_request_withdraw(*, join_request: JoinRequest, actor: User, ip_address: str | None = None) -> JoinRequest:
    request = _lock_open_request(join_request)
    person = person_of(actor)
    if person is None or person.pk != request.person_id:
        raise PermissionDenied("Only the person who asked can withdraw a request.")
    request.state, request.decided_at = JoinRequest.State.WITHDRAWN, timezone.now()
    request.save(update_fields=["state", "decided_at"])
    audit_record(
        actor=actor,
        action="workinggroups.join_withdrawn",
        target=request,
        organisation=request.person.organisation,
        ip_address=ip_address,
    )
    return request


# ---------------------------------------------------------------------------------------------
# Meetings

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
    if not schedules.is_occurrence(
        series.rrule,
        original_start,
        starts_on=series.starts_on,
        start_time=series.start_time,
        time_zone=series.time_zone,
        ends_on=series.ends_on,
    ):
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


# ---------------------------------------------------------------------------------------------
# Rounds

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


# ---------------------------------------------------------------------------------------------
# Round registration


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


# ---------------------------------------------------------------------------------------------
# Personal calendar feeds


@transaction.atomic
def calendar_feed_get_or_create(*, person: Person) -> CalendarFeed:
    feed = CalendarFeed.objects.select_for_update().filter(person=person).first()
    if feed is None:
        feed = CalendarFeed.objects.create(person=person, token=secrets.token_urlsafe(32))
    return feed


@transaction.atomic
def calendar_feed_reset(*, person: Person, actor: User, ip_address: str | None = None) -> CalendarFeed:
    """A new secret address; the old one stops working at once."""
    feed = calendar_feed_get_or_create(person=person)
    feed.token, feed.created_at = secrets.token_urlsafe(32), timezone.now()
    feed.save(update_fields=["token", "created_at"])
    audit_record(actor=actor, action="workinggroups.calendar_feed_reset", target=feed, ip_address=ip_address)
    return feed


# ---------------------------------------------------------------------------------------------
# Reminders (run by beat; each one goes out once: the outbox's idempotency key names the kind, the
# phase, the moment it is about and the recipient)


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
