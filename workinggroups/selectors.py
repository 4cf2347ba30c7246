"""Reads of working groups, meetings and rounds, already limited to what the asker may see.

For the submissions app (issue 5), the round clock:

- `round_current_phase(round, at=None)`: the RoundPhase running now (or None).
- `round_submission_window_open(round, at=None)`: whether uploads are accepted (grace included).
- `round_deadline(round)` / `round_deadline_with_grace(round)`: the submission deadline, without and
  with its grace period (aware datetimes, None when the round has no submission window).
- `round_is_registered(round, organisation)`: whether the organisation registered for the round.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, CharField, Count, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, Lower, NullIf
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone

from consortium.common.attention import AttentionItem
from consortium.members.models import Organisation, OrganisationRole, Person
from consortium.members.permissions import Viewer, is_staff_admin, person_of
from consortium.members.selectors import current_membership
from workinggroups import permissions, schedules
from workinggroups.models import (
    GroupMembership,
    JoinRequest,
    MeetingOccurrence,
    MeetingSeries,
    Round,
    RoundPhase,
    RoundRegistration,
    WorkingGroup,
)

# ---------------------------------------------------------------------------------------------
# Groups


def _chairs_prefetch() -> Prefetch[str, QuerySet[GroupMembership], str]:
    return Prefetch(
        "memberships",
        queryset=GroupMembership.objects.filter(role__in=permissions.CHAIR_ROLES)
        .select_related("person__user")
        .order_by("role", "person__full_name"),
        to_attr="chair_memberships",
    )


def groups_visible_to(user: Viewer) -> QuerySet[WorkingGroup]:
    """Groups the user may see, active first, with their chairs and member counts."""
    qs = WorkingGroup.objects.all()
    if not (is_staff_admin(user) or permissions.is_consortium_member(user)):
        person = person_of(user)
        visible = Q(visibility=WorkingGroup.Visibility.PUBLIC)
        if person is not None:
            visible |= Q(memberships__person=person)
        qs = qs.filter(visible).distinct()
    return (
        qs.annotate(member_count=Count("memberships", distinct=True))
        .prefetch_related(_chairs_prefetch())
        .order_by("status", "name")
    )


def group_for(user: Viewer, slug: str) -> WorkingGroup | None:
    """The group called `slug` if the user may see it, else None (the page then does not exist)."""
    group = WorkingGroup.objects.filter(slug=slug).prefetch_related(_chairs_prefetch()).first()
    if group is None or not permissions.can_view_group(user, group):
        return None
    return group


ROLE_ORDER = [r.value for r in GroupMembership.Role]


def group_members(group: WorkingGroup) -> QuerySet[GroupMembership]:
    """Everyone on the group's list: chairs first, then co-chairs, members and observers, by name
    (ordered by the database, so that a page of a long list costs what a short list costs)."""
    role_rank = Case(*[When(role=r, then=Value(i)) for i, r in enumerate(ROLE_ORDER)], default=Value(len(ROLE_ORDER)))
    name = Lower(Coalesce(NullIf("person__full_name", Value("")), "person__user__email", output_field=CharField()))
    return (
        group.memberships.select_related("person__user", "person__organisation", "added_by")
        .annotate(role_rank=role_rank, sort_name=name)
        .order_by("role_rank", "sort_name", "pk")
    )


def join_deciders(group: WorkingGroup) -> str:
    """Who decides a request to join `group`, as a phrase: its chairs, or staff when it has none
    (staff manage every group)."""
    if group.memberships.filter(role__in=permissions.CHAIR_ROLES).exists():
        return "its chairs"
    return "the consortium staff (the group has no chair yet)"


def group_chairs(group: WorkingGroup) -> list[GroupMembership]:
    cached: list[GroupMembership] | None = getattr(group, "chair_memberships", None)  # prefetched as a list
    if cached is not None:
        return cached
    return list(
        group.memberships.filter(role__in=permissions.CHAIR_ROLES)
        .select_related("person__user")
        .order_by("role", "person__full_name")
    )


def group_membership_of(group: WorkingGroup, user: Viewer) -> GroupMembership | None:
    person = person_of(user)
    if person is None:
        return None
    return group.memberships.filter(person=person).first()


def group_open_join_requests(group: WorkingGroup) -> QuerySet[JoinRequest]:
    return group.join_requests.filter(state=JoinRequest.State.SUBMITTED).select_related(
        "person__user", "person__organisation"
    )


def group_decided_join_requests(group: WorkingGroup, limit: int = 20) -> QuerySet[JoinRequest]:
    return (
        group.join_requests.exclude(state=JoinRequest.State.SUBMITTED)
        .select_related("person__user", "decided_by")
        .order_by("-decided_at")[:limit]
    )


def latest_join_request(group: WorkingGroup, user: Viewer) -> JoinRequest | None:
    person = person_of(user)
    if person is None:
        return None
    return group.join_requests.filter(person=person).order_by("-created_at").first()


# ---------------------------------------------------------------------------------------------
# Meetings


@dataclass(frozen=True)
class Meeting:
    """One meeting of a series, with what differs for it applied."""

    series: MeetingSeries
    original_start: dt.datetime
    start: dt.datetime
    end: dt.datetime
    override: MeetingOccurrence | None

    @property
    def cancelled(self) -> bool:
        return bool(self.override and self.override.cancelled)

    @property
    def moved(self) -> bool:
        return bool(self.override and self.override.moved_to)

    @property
    def key(self) -> str:
        """The occurrence's address in URLs: its original start in UTC."""
        return occurrence_key(self.original_start)

    @property
    def agenda(self) -> str:
        return self.override.agenda if self.override else ""

    @property
    def minutes(self) -> str:
        return self.override.minutes if self.override else ""


def occurrence_key(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def parse_occurrence_key(key: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(key, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def series_meetings(series: MeetingSeries, *, after: dt.datetime, before: dt.datetime) -> list[Meeting]:
    """The meetings of a series in [after, before], moved ones at their new time, cancelled ones
    included (flagged)."""
    overrides = {o.original_start: o for o in series.occurrences.all()}
    margin = dt.timedelta(days=366)
    starts = schedules.occurrences(
        series.rrule,
        starts_on=series.starts_on,
        start_time=series.start_time,
        time_zone=series.time_zone,
        ends_on=series.ends_on,
        after=after - margin,
        before=before + margin,
        limit=5000,
    )
    meetings = []
    tz = schedules.zone(series.time_zone)
    for original in starts:
        override = overrides.get(original.astimezone(dt.UTC))
        start = override.moved_to.astimezone(tz) if override and override.moved_to else original
        if after <= start <= before:
            meetings.append(Meeting(series, original, start, start + series.duration, override))
    return sorted(meetings, key=lambda m: m.start)


def group_meetings(group: WorkingGroup, *, after: dt.datetime, before: dt.datetime) -> list[Meeting]:
    series = group.meeting_series.prefetch_related("occurrences")
    found: list[Meeting] = []
    for s in series:
        found.extend(series_meetings(s, after=after, before=before))
    return sorted(found, key=lambda m: m.start)


def group_upcoming_meetings(group: WorkingGroup, *, limit: int = 5, now: dt.datetime | None = None) -> list[Meeting]:
    now = now or timezone.now()
    return group_meetings(group, after=now, before=now + dt.timedelta(days=120))[:limit]


def group_recent_meetings(group: WorkingGroup, *, limit: int = 5, now: dt.datetime | None = None) -> list[Meeting]:
    now = now or timezone.now()
    return group_meetings(group, after=now - dt.timedelta(days=120), before=now)[-limit:][::-1]


# ---------------------------------------------------------------------------------------------
# Rounds


def _with_phases(qs: QuerySet[Round]) -> QuerySet[Round]:
    return qs.select_related("group").prefetch_related(
        Prefetch("phases", queryset=RoundPhase.objects.order_by("starts_at"))
    )


def rounds_visible_to(user: Viewer) -> QuerySet[Round]:
    """Published rounds for everyone; drafts too for the chairs of their group and staff."""
    qs = Round.objects.all()
    if not is_staff_admin(user):
        qs = qs.filter(Q(published=True) | Q(group__in=permissions.chaired_groups(user)))
    return _with_phases(qs)


# The longest grace a round can have (grace_minutes is a PositiveSmallIntegerField).
LONGEST_GRACE = dt.timedelta(minutes=32767)


def rounds_in_phase(rounds: QuerySet[Round], kinds: tuple[str, ...], at: dt.datetime) -> QuerySet[Round]:
    """The rounds whose phase of one of `kinds` may be running at `at`: a filter in the database, so
    that a dashboard reads the few rounds open now rather than every round there ever was. The
    exact test (with the round's own grace) stays with the callers."""
    return rounds.filter(
        phases__kind__in=kinds, phases__starts_at__lte=at, phases__ends_at__gt=at - LONGEST_GRACE
    ).distinct()


def rounds_by_deadline(user: Viewer) -> QuerySet[Round]:
    """The rounds the user may see, latest submission deadline first (rounds without a schedule by
    their creation), ordered by the database so that a page of them costs what a few cost."""
    deadline = RoundPhase.objects.filter(round=OuterRef("pk"), kind=schedules.SUBMISSION).values("ends_at")[:1]
    return (
        rounds_visible_to(user)
        .annotate(deadline_at=Coalesce(Subquery(deadline), "created_at"))
        .order_by("-deadline_at", "-pk")
    )


def round_for(user: Viewer, slug: str) -> Round | None:
    found = _with_phases(Round.objects.filter(slug=slug)).first()
    if found is None or not permissions.can_view_round(user, found):
        return None
    return found


def group_rounds(group: WorkingGroup, user: Viewer) -> list[Round]:
    qs = _with_phases(group.rounds.all())
    if not permissions.can_schedule_round(user, group):
        qs = qs.filter(published=True)
    return sorted(qs, key=lambda r: round_deadline(r) or r.created_at, reverse=True)


def round_phases(round: Round) -> list[RoundPhase]:
    """The phases in calendar order (uses prefetched phases when present)."""
    return schedules.sorted_phases(list(round.phases.all()))


def round_phase(round: Round, kind: str) -> RoundPhase | None:
    return next((p for p in round.phases.all() if p.kind == kind), None)


def round_current_phase(round: Round, at: dt.datetime | None = None) -> RoundPhase | None:
    """The phase running at `at` (default: now), derived from the clock; None before the first
    phase and between phases. The submission window runs until its grace period ends; once the
    publication moment has passed, the publication stays current."""
    return schedules.phase_at(round.phases.all(), at or timezone.now(), grace=round.grace)


def round_deadline(round: Round) -> dt.datetime | None:
    """The submission deadline as announced (end of the submission window, before the grace)."""
    phase = round_phase(round, schedules.SUBMISSION)
    return phase.ends_at if phase else None


def round_deadline_with_grace(round: Round) -> dt.datetime | None:
    """The last moment an upload is accepted: the deadline plus the round's grace period."""
    deadline = round_deadline(round)
    return deadline + round.grace if deadline else None


def round_submission_window_open(round: Round, at: dt.datetime | None = None) -> bool:
    """Whether uploads to the round are accepted at `at` (default: now): the round is published and
    `at` lies in [window start, deadline + grace). Use this in the submissions app."""
    phase = round_phase(round, schedules.SUBMISSION)
    if phase is None or not round.published:
        return False
    at = at or timezone.now()
    return phase.starts_at <= at < phase.ends_at + round.grace


def round_registration_open(round: Round, at: dt.datetime | None = None) -> bool:
    """Organisations may register while the round is published and the registration phase runs."""
    phase = round_phase(round, schedules.REGISTRATION)
    if phase is None or not round.published:
        return False
    at = at or timezone.now()
    return phase.starts_at <= at < phase.ends_at


def round_status(round: Round, at: dt.datetime | None = None) -> str:
    """A short human status: "Submission window open", "Objection review", "Published"…"""
    at = at or timezone.now()
    phases = round_phases(round)
    if not phases:
        return "No schedule yet"
    current = round_current_phase(round, at)
    if current is not None:
        return {
            schedules.REGISTRATION: "Registration open",
            schedules.SUBMISSION: "Submission window open",
            schedules.PUBLICATION: "Results published",
        }.get(current.kind, current.label)
    if at < phases[0].starts_at:
        return "Upcoming"
    upcoming = [p for p in phases if p.starts_at > at]
    return f"Before {upcoming[0].label.lower()}" if upcoming else "Closed"


def round_is_registered(round: Round, organisation: Organisation) -> bool:
    return RoundRegistration.objects.filter(round=round, organisation=organisation).exists()


def round_registration_of(round: Round, organisation: Organisation | None) -> RoundRegistration | None:
    if organisation is None:
        return None
    return (
        RoundRegistration.objects.filter(round=round, organisation=organisation)
        .prefetch_related("contacts__user")
        .first()
    )


def round_registrations(round: Round) -> QuerySet[RoundRegistration]:
    return round.registrations.select_related("organisation", "registered_by").prefetch_related("contacts__user")


def organisation_submit_eligibility(organisation: Organisation) -> str:
    """Why the organisation may not register for rounds ("" when it may)."""
    membership = current_membership(organisation)
    if membership is None:
        return f"{organisation} has no membership."
    if not membership.tier.may_submit_results:
        return f"{organisation}'s membership tier ({membership.tier.name}) does not include submitting results."
    if not membership.is_in_good_standing:
        return f"{organisation}'s membership is {membership.status_label.lower()}."
    return ""


def organisation_submitters(organisation: Organisation) -> QuerySet[Person]:
    """People who hold the submitter role at the organisation (the possible round contacts)."""
    return (
        Person.objects.filter(
            organisation=organisation,
            affiliation=Person.Affiliation.APPROVED,
            roles__organisation=organisation,
            roles__role=OrganisationRole.Role.SUBMITTER,
        )
        .select_related("user")
        .distinct()
        .order_by("full_name", "user__email")
    )


# ---------------------------------------------------------------------------------------------
# Calendars


def person_groups(person: Person) -> QuerySet[WorkingGroup]:
    return WorkingGroup.objects.filter(memberships__person=person).distinct()


# ---------------------------------------------------------------------------------------------
# Dashboard


def attention_items(user: Viewer) -> list:
    """Dashboard items for this person (join requests to decide, phases starting…)."""

    items: list[AttentionItem] = []
    person = person_of(user)
    now = timezone.now()
    managed = WorkingGroup.objects.all() if is_staff_admin(user) else permissions.chaired_groups(user)
    pending = (
        JoinRequest.objects.filter(group__in=managed, state=JoinRequest.State.SUBMITTED)
        .values("group__name", "group__slug")
        .annotate(n=Count("pk"))
        .order_by("group__name")
    )
    for row in pending:
        items.append(
            AttentionItem(
                f"{row['n']} join request{'s' if row['n'] != 1 else ''} for {row['group__name']}",
                "Approve or decline them.",
                reverse("workinggroups:join_requests", kwargs={"slug": row["group__slug"]}),
                "warning",
            )
        )
    if not is_staff_admin(user):
        for round in _with_phases(Round.objects.filter(group__in=managed)):
            if not round.published:
                items.append(
                    AttentionItem(
                        f"The schedule of {round.name} is not published",
                        "Check the timeline and publish it.",
                        reverse("workinggroups:round_schedule", kwargs={"slug": round.slug}),
                    )
                )
    if person is None:
        return items
    for request in JoinRequest.objects.filter(person=person, state=JoinRequest.State.SUBMITTED).select_related("group"):
        items.append(
            AttentionItem(
                f"Your request to join {request.group} waits for {join_deciders(request.group)}",
                f"You asked to join on {request.created_at:%d %b %Y}.",
                reverse("workinggroups:group_detail", kwargs={"slug": request.group.slug}),
            )
        )
    organisation = person.organisation if person.is_approved_member else None
    if organisation is not None and permissions.can_register_for_rounds(user, organisation):
        registered_rounds = set(
            RoundRegistration.objects.filter(organisation=organisation).values_list("round_id", flat=True)
        )
        kinds = (schedules.REGISTRATION, schedules.SUBMISSION)
        near = rounds_in_phase(Round.objects.filter(published=True), kinds, now)
        for round in _with_phases(near):
            registered = round.pk in registered_rounds
            registration = round_phase(round, schedules.REGISTRATION)
            if registration is not None and round_registration_open(round, now) and not registered:
                closes = registration.ends_at
                items.append(
                    AttentionItem(
                        f"Registration for {round.name} is open",
                        f"It closes {schedules.format_moment_with_utc(closes, round.tz)}.",
                        reverse("workinggroups:round_register", kwargs={"slug": round.slug}),
                    )
                )
            elif registered and round_submission_window_open(round, now):
                deadline = round_deadline(round)
                assert deadline is not None  # an open submission window has a deadline
                items.append(
                    AttentionItem(
                        f"{round.name}: submission deadline {schedules.format_moment_with_utc(deadline, round.tz)}",
                        f"{organisation} is registered; uploads close {round.grace_minutes} "
                        f"minute{pluralize(round.grace_minutes)} later.",
                        reverse("workinggroups:round_detail", kwargs={"slug": round.slug}),
                        "warning" if deadline - now < dt.timedelta(days=7) else "info",
                    )
                )
    return items
