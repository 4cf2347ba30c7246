"""Working groups, their members and chairs, meetings, and benchmark rounds (issue 4).

Fields, choices, constraints and small derived properties only: writes live in services.py, the
calendar arithmetic in schedules.py, the ruleset catalogue in the compliance engine (submissions.compliance).
"""

import datetime as dt
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from submissions import compliance
from workinggroups import schedules


def _validate_time_zone(value: str) -> None:
    try:
        schedules.zone(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


class WorkingGroup(models.Model):
    class Area(models.TextChoices):
        BENCHMARKS = "benchmarks", "Benchmarks"
        DATA = "data", "Data"
        SAFETY = "safety", "Safety"
        BEST_PRACTICES = "best-practices", "Best practices"
        RESEARCH = "research", "Research"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    class Visibility(models.TextChoices):
        PUBLIC = "public", "Public"
        MEMBERS = "members", "Members only"

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    area = models.CharField(max_length=20, choices=Area.choices)
    purpose = models.CharField(max_length=300, help_text="One line: what the group does")
    charter = models.TextField(blank=True, help_text="Markdown; rendered safely (no raw HTML, no scripts)")
    mailing_list = models.EmailField(blank=True, help_text="The group's mailing-list address")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    visibility = models.CharField(
        max_length=10,
        choices=Visibility.choices,
        default=Visibility.PUBLIC,
        help_text="Members-only pages are hidden from anonymous visitors and from the public list",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_public(self) -> bool:
        return self.visibility == self.Visibility.PUBLIC

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class GroupMembership(models.Model):
    class Role(models.TextChoices):
        CHAIR = "chair", "Chair"
        CO_CHAIR = "co_chair", "Co-chair"
        MEMBER = "member", "Member"
        OBSERVER = "observer", "Observer"

    group = models.ForeignKey(WorkingGroup, on_delete=models.CASCADE, related_name="memberships")
    person = models.ForeignKey("members.Person", on_delete=models.CASCADE, related_name="group_memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    since = models.DateTimeField(default=timezone.now)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["group", "role", "person__full_name"]
        constraints = [
            models.UniqueConstraint(fields=["group", "person"], name="one_membership_per_group_person"),
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.get_role_display()} of {self.group}"

    @property
    def is_chair(self) -> bool:
        return self.role in (self.Role.CHAIR, self.Role.CO_CHAIR)


class JoinRequest(models.Model):
    """A person asks to join a group. submitted → approved | declined | withdrawn, once."""

    class State(models.TextChoices):
        SUBMITTED = "submitted", "Waiting for a decision"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"

    group = models.ForeignKey(WorkingGroup, on_delete=models.CASCADE, related_name="join_requests")
    person = models.ForeignKey("members.Person", on_delete=models.CASCADE, related_name="join_requests")
    message = models.TextField(blank=True, max_length=2000)
    state = models.CharField(max_length=10, choices=State.choices, default=State.SUBMITTED)
    reason = models.TextField(blank=True, max_length=2000, help_text="Why it was declined")
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "person"],
                condition=Q(state="submitted"),
                name="one_open_join_request_per_group_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} → {self.group} ({self.get_state_display()})"

    @property
    def is_open(self) -> bool:
        return self.state == self.State.SUBMITTED


class MeetingSeries(models.Model):
    """Recurring meetings of a group: an RFC 5545 RRULE on the wall clock of `time_zone`."""

    group = models.ForeignKey(WorkingGroup, on_delete=models.CASCADE, related_name="meeting_series")
    title = models.CharField(max_length=200)
    rrule = models.CharField(
        "recurrence rule",
        max_length=500,
        help_text=f"An RFC 5545 RRULE, e.g. {schedules.RRULE_EXAMPLES}",
    )
    starts_on = models.DateField(help_text="The day of the first meeting (or the day the rule starts from)")
    start_time = models.TimeField(help_text="Local start time in the series' time zone")
    time_zone = models.CharField(max_length=64, default=schedules.DEFAULT_TIME_ZONE, validators=[_validate_time_zone])
    duration_minutes = models.PositiveSmallIntegerField(default=60)
    ends_on = models.DateField(
        null=True, blank=True, help_text="Last day of the series; needed unless the rule has COUNT or UNTIL"
    )
    join_link = models.URLField(blank=True, max_length=500)
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0, help_text="iCalendar SEQUENCE; rises on every change")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["group", "title"]
        verbose_name_plural = "meeting series"
        constraints = [
            models.CheckConstraint(condition=Q(duration_minutes__gt=0), name="meeting_duration_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.group}: {self.title}"

    def clean(self) -> None:
        if not (self.starts_on and self.start_time and self.time_zone):
            return
        try:
            schedules.zone(self.time_zone)
            self.rrule = schedules.normalise_rrule(
                self.rrule,
                starts_on=self.starts_on,
                start_time=self.start_time,
                time_zone=self.time_zone,
                ends_on=self.ends_on,
            )
        except schedules.RecurrenceError as exc:
            raise ValidationError({"rrule": str(exc)}) from exc
        except ValueError as exc:
            raise ValidationError({"time_zone": str(exc)}) from exc

    @property
    def duration(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.duration_minutes)

    def has_meeting_at(self, moment: dt.datetime) -> bool:
        """Whether the series' rule puts a meeting at exactly `moment`."""
        return schedules.is_occurrence(
            self.rrule,
            moment,
            starts_on=self.starts_on,
            start_time=self.start_time,
            time_zone=self.time_zone,
            ends_on=self.ends_on,
        )


class MeetingOccurrence(models.Model):
    """What differs for one meeting of a series: its agenda and minutes, cancelled, or moved."""

    series = models.ForeignKey(MeetingSeries, on_delete=models.CASCADE, related_name="occurrences")
    original_start = models.DateTimeField(help_text="When the rule puts this meeting (RECURRENCE-ID)")
    agenda = models.TextField(blank=True, help_text="Markdown")
    minutes = models.TextField(blank=True, help_text="Markdown")
    cancelled = models.BooleanField(default=False)
    moved_to = models.DateTimeField(null=True, blank=True, help_text="The new start, when moved")
    sequence = models.PositiveIntegerField(default=0, help_text="iCalendar SEQUENCE; rises when moved")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["series", "original_start"]
        constraints = [
            models.UniqueConstraint(fields=["series", "original_start"], name="one_override_per_occurrence"),
        ]

    def __str__(self) -> str:
        return f"{self.series} on {self.original_start:%Y-%m-%d %H:%M} UTC"

    @property
    def start(self) -> dt.datetime:
        return self.moved_to or self.original_start


class Round(models.Model):
    """A benchmark round: the release schedule of a suite, checked with one ruleset."""

    class Suite(models.TextChoices):
        TRAINING = "training", "Training"
        HPC = "hpc", "HPC"
        INFERENCE = "inference", "Inference"
        OTHER = "other", "Other (no ruleset yet)"

    class Division(models.TextChoices):
        CLOSED = "closed", "Closed"
        OPEN = "open", "Open"

    group = models.ForeignKey(WorkingGroup, on_delete=models.PROTECT, related_name="rounds")
    name = models.CharField(max_length=120, unique=True, help_text='For example "Training v6.1"')
    slug = models.SlugField(max_length=80, unique=True)
    suite = models.CharField(max_length=20, choices=Suite.choices)
    ruleset = models.CharField(
        max_length=20,
        blank=True,
        help_text="The ruleset that checks it: mlperf-logging's (training, HPC), the inference checker's (inference)",
    )
    benchmarks = models.JSONField(default=list, blank=True, help_text="Allowed benchmarks")
    divisions = models.JSONField(default=list, blank=True)
    time_zone = models.CharField(max_length=64, default=schedules.DEFAULT_TIME_ZONE, validators=[_validate_time_zone])
    grace_minutes = models.PositiveSmallIntegerField(
        default=int(schedules.DEFAULT_GRACE.total_seconds() // 60),
        help_text="Uploads are still accepted this long after the deadline",
    )
    description = models.TextField(blank=True, help_text="Markdown")
    published = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_example = models.BooleanField(default=False, help_text="Demo round with invented dates")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def has_ruleset(self) -> bool:
        return self.suite in compliance.usages()

    @property
    def grace(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.grace_minutes)

    @property
    def tz(self):
        return schedules.zone(self.time_zone)

    def clean(self) -> None:
        """The ruleset must be one the pinned package ships for the suite, and the benchmarks must
        be allowed by it. Empty benchmarks mean "all of the ruleset's" (filled in here)."""
        errors: dict[str, str] = {}
        if self.suite in compliance.usages():
            shipped = compliance.available_rulesets(self.suite)
            if not self.ruleset and self.suite in compliance.RULESET_OPTIONAL:
                self.benchmarks = [b.strip() for b in (self.benchmarks or []) if b and b.strip()]
            elif not self.ruleset:
                errors["ruleset"] = f"Choose the {self.suite} ruleset that checks this round."
            elif self.ruleset not in shipped:
                errors["ruleset"] = (
                    f"{compliance.checker_name(self.suite)} has no {self.suite} ruleset {self.ruleset!r}; "
                    f"it ships {', '.join(shipped)}."
                )
            else:
                allowed = compliance.allowed_benchmarks(self.suite, self.ruleset)
                chosen = [b for b in (self.benchmarks or []) if b]
                unknown = [b for b in chosen if b not in allowed]
                if unknown:
                    errors["benchmarks"] = (
                        f"Not in the {self.suite} {self.ruleset} ruleset: {', '.join(unknown)}. "
                        f"It allows {', '.join(allowed)}."
                    )
                elif not chosen:
                    self.benchmarks = allowed
                else:
                    self.benchmarks = list(dict.fromkeys(chosen))
        elif self.suite:
            if self.ruleset:
                errors["ruleset"] = (
                    f"The {self.get_suite_display().split(' (')[0]} suite has no mlperf-logging ruleset; "
                    "leave the ruleset empty."
                )
            self.benchmarks = [b.strip() for b in (self.benchmarks or []) if b and b.strip()]
        unknown_divisions = [d for d in (self.divisions or []) if d not in self.Division.values]
        if unknown_divisions:
            errors["divisions"] = f"Unknown divisions: {', '.join(unknown_divisions)}."
        if errors:
            raise ValidationError(errors)


class RoundPhase(models.Model):
    """One phase of a round's schedule. `uid` and `sequence` make its calendar event stable."""

    class Kind(models.TextChoices):
        REGISTRATION = schedules.REGISTRATION, schedules.PHASE_LABELS[schedules.REGISTRATION]
        SUBMISSION = schedules.SUBMISSION, schedules.PHASE_LABELS[schedules.SUBMISSION]
        OBJECTION_FILING = schedules.OBJECTION_FILING, schedules.PHASE_LABELS[schedules.OBJECTION_FILING]
        OBJECTION_REVIEW = schedules.OBJECTION_REVIEW, schedules.PHASE_LABELS[schedules.OBJECTION_REVIEW]
        REVISION = schedules.REVISION, schedules.PHASE_LABELS[schedules.REVISION]
        PUBLICATION = schedules.PUBLICATION, schedules.PHASE_LABELS[schedules.PUBLICATION]

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="phases")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0, help_text="iCalendar SEQUENCE; rises when moved")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["round", "starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["round", "kind"], name="one_phase_of_each_kind_per_round"),
            models.CheckConstraint(condition=Q(ends_at__gte=models.F("starts_at")), name="phase_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.round}: {self.get_kind_display()}"

    @property
    def label(self) -> str:
        return self.get_kind_display()

    @property
    def is_instant(self) -> bool:
        return self.kind in schedules.INSTANT_PHASES

    @property
    def closes_at(self) -> dt.datetime:
        """The real end: the submission window closes after its grace period."""
        return schedules.phase_end(self, self.round.grace)


class RoundRegistration(models.Model):
    """An organisation's intent to submit to a round, with its contacts (people with the submitter role)."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="registrations")
    organisation = models.ForeignKey(
        "members.Organisation", on_delete=models.CASCADE, related_name="round_registrations"
    )
    contacts = models.ManyToManyField("members.Person", related_name="round_registrations")
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    registered_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["round", "organisation__name"]
        constraints = [
            models.UniqueConstraint(fields=["round", "organisation"], name="one_registration_per_round_org"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} for {self.round}"


class ReminderKind(models.TextChoices):
    """The reminders beat sends; each goes once through the outbox (its idempotency key)."""

    DEADLINE_7_DAYS = "deadline_7d", "Deadline in 7 days"
    DEADLINE_1_DAY = "deadline_1d", "Deadline in 1 day"
    PHASE_STARTED = "phase_started", "Phase started"


class CalendarFeed(models.Model):
    """The secret token of a person's own calendar feed. Resetting it replaces the token.

    The token is stored as is (not hashed) so the person can see the subscription address again;
    it only gives read access to meeting and round dates."""

    person = models.OneToOneField("members.Person", on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["person"]

    def __str__(self) -> str:
        return f"Calendar feed of {self.person}"
