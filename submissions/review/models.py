"""The models of the review and publication of a round (imported by submissions/models.py).

Nothing here is deleted: foreign keys protect what the published record points at, and changes to a
published result are Correction rows."""

from django.conf import settings
from django.db import models
from django.db.models import Q

DEFAULT_TIE_BREAK = ["rejected", "waived", "fix_required", "moved_open", "moved_preview", "withdrawn"]


def default_tie_break() -> list[str]:
    return list(DEFAULT_TIE_BREAK)


class Outcome(models.TextChoices):
    """What the review committee decides about an objection (and what a vote option stands for)."""

    REJECTED = "rejected", "Objection rejected"
    WAIVED = "waived", "Waived (no meaningful effect; fix next round)"
    FIX_REQUIRED = "fix_required", "Fix required"
    MOVED_OPEN = "moved_open", "Moved to the open division"
    MOVED_PREVIEW = "moved_preview", "Moved to preview"
    WITHDRAWN = "withdrawn", "Result withdrawn"


class RoundReview(models.Model):
    """A round's review settings: the fixed tie-break order of outcomes (set before the review)."""

    round = models.OneToOneField("workinggroups.Round", on_delete=models.CASCADE, related_name="review")
    tie_break_order = models.JSONField(
        default=default_tie_break, help_text="Outcomes in the order that breaks a tied vote, first wins"
    )

    def __str__(self) -> str:
        return f"Review of {self.round}"


class Objection(models.Model):
    class State(models.TextChoices):
        FILED = "filed", "Filed"
        ANSWERED = "answered", "Answered"
        DECIDED = "decided", "Decided"
        CLOSED = "closed", "Closed"
        WITHDRAWN = "withdrawn", "Withdrawn"

    OPEN_STATES = (State.FILED, State.ANSWERED)

    round = models.ForeignKey("workinggroups.Round", on_delete=models.PROTECT, related_name="objections")
    submission = models.ForeignKey("submissions.Submission", on_delete=models.PROTECT, related_name="objections")
    version = models.ForeignKey(
        "submissions.SubmissionVersion", on_delete=models.PROTECT, related_name="objections",
        help_text="The frozen version the evidence points into",
    )  # fmt: skip
    filed_by_organisation = models.ForeignKey(
        "members.Organisation", on_delete=models.PROTECT, related_name="objections_filed"
    )
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    filed_at = models.DateTimeField()
    summary = models.CharField(max_length=200)
    details = models.TextField(blank=True)
    rule = models.CharField(max_length=300, help_text="The rule (section) it breaks")
    fix_required = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.FILED, db_index=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    decision_note = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["round", "-filed_at", "-id"]

    def __str__(self) -> str:
        return f"Objection {self.pk} by {self.filed_by_organisation} against {self.submission.organisation}"


class ObjectionEvidence(models.Model):
    """A file and line of the frozen version; the line's text is kept as it was."""

    objection = models.ForeignKey(Objection, on_delete=models.PROTECT, related_name="evidence")
    path = models.CharField(max_length=500, help_text="Inside the package, e.g. results/<system>/<bench>/result_0.txt")
    line = models.PositiveIntegerField()
    excerpt = models.TextField(blank=True)

    class Meta:
        ordering = ["objection", "id"]

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


class ObjectionResponse(models.Model):
    """An answer or comment on an objection, by the accused or the objector."""

    objection = models.ForeignKey(Objection, on_delete=models.PROTECT, related_name="responses")
    organisation = models.ForeignKey("members.Organisation", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    acknowledges_fix = models.BooleanField(default=False, help_text="The accused agrees a fix is required")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["objection", "created_at", "id"]

    def __str__(self) -> str:
        return f"Response by {self.organisation} to objection {self.objection_id}"


class ReviewAssignment(models.Model):
    """One submitting organisation must review another's results (MLPerf's required reviews)."""

    round = models.ForeignKey("workinggroups.Round", on_delete=models.PROTECT, related_name="review_assignments")
    reviewer = models.ForeignKey("members.Organisation", on_delete=models.PROTECT, related_name="+")
    reviewed = models.ForeignKey("members.Organisation", on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")  # fmt: skip

    class Meta:
        ordering = ["round", "reviewer__name", "reviewed__name"]
        constraints = [
            models.UniqueConstraint(fields=["round", "reviewer", "reviewed"], name="one_review_assignment_per_pair"),
            models.CheckConstraint(condition=~Q(reviewer=models.F("reviewed")), name="no_self_review"),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} reviews {self.reviewed}"


class Vote(models.Model):
    class State(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    round = models.ForeignKey("workinggroups.Round", on_delete=models.PROTECT, related_name="votes")
    objection = models.ForeignKey(Objection, null=True, blank=True, on_delete=models.PROTECT, related_name="votes")
    question = models.CharField(max_length=300)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    opened_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    seed = models.BigIntegerField(help_text="Seed of the random tie-break, recorded when the vote opens")
    tie_break_order = models.JSONField(default=list, help_text="Option keys in tie-break order, frozen at opening")
    winner = models.ForeignKey("VoteOption", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    result = models.JSONField(default=dict, blank=True, help_text="The tally, as counted at closing")

    class Meta:
        ordering = ["round", "-opened_at", "-id"]

    def __str__(self) -> str:
        return self.question


class VoteOption(models.Model):
    vote = models.ForeignKey(Vote, on_delete=models.PROTECT, related_name="options")
    key = models.SlugField(max_length=40)
    label = models.CharField(max_length=200)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["vote", "position"]
        constraints = [models.UniqueConstraint(fields=["vote", "key"], name="vote_option_keys_unique")]

    def __str__(self) -> str:
        return self.label


class Ballot(models.Model):
    """One organisation's open ballot: option keys, most preferred first."""

    vote = models.ForeignKey(Vote, on_delete=models.PROTECT, related_name="ballots")
    organisation = models.ForeignKey("members.Organisation", on_delete=models.PROTECT, related_name="+")
    cast_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    cast_at = models.DateTimeField()
    ranking = models.JSONField()

    class Meta:
        ordering = ["vote", "organisation__name"]
        constraints = [models.UniqueConstraint(fields=["vote", "organisation"], name="one_ballot_per_organisation")]

    def __str__(self) -> str:
        return f"{self.organisation} on {self.vote}"


class Withdrawal(models.Model):
    submission = models.OneToOneField("submissions.Submission", on_delete=models.PROTECT, related_name="withdrawal")
    reason = models.TextField()
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    withdrawn_at = models.DateTimeField()
    objection = models.ForeignKey(Objection, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"Withdrawal of {self.submission}"


class Publication(models.Model):
    """The moment a round's record was frozen. One per round: a second run finds it and stops."""

    round = models.OneToOneField("workinggroups.Round", on_delete=models.PROTECT, related_name="publication")
    published_at = models.DateTimeField(help_text="The round's publication moment (the embargo's end)")
    frozen_at = models.DateTimeField(help_text="When the record was frozen (the run, at or after that moment)")
    run_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")  # fmt: skip
    record_version = models.CharField(max_length=20, help_text='The prefix of result IDs, e.g. "5.1"')
    result_count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"Publication of {self.round}"


class PublishedResult(models.Model):
    """One system of one submission, frozen at publication with a stable result ID."""

    round = models.ForeignKey("workinggroups.Round", on_delete=models.PROTECT, related_name="published_results")
    result_id = models.CharField(max_length=30, unique=True)
    position = models.PositiveIntegerField()
    submission = models.ForeignKey("submissions.Submission", on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey("submissions.SubmissionVersion", on_delete=models.PROTECT, related_name="+")
    version_sha256 = models.CharField(max_length=64)
    organisation = models.ForeignKey("members.Organisation", on_delete=models.PROTECT, related_name="+")
    organisation_name = models.CharField(max_length=200)
    submitter_folder = models.CharField(max_length=200)
    system = models.CharField(max_length=200, help_text="The system description's file name without .json")
    system_name = models.CharField(max_length=300)
    division = models.CharField(max_length=20)
    availability = models.CharField(max_length=60)
    accelerator = models.CharField(max_length=200)
    accelerator_count = models.PositiveIntegerField(null=True)
    nodes = models.PositiveIntegerField(null=True)
    framework = models.CharField(max_length=300)
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["round", "position"]
        constraints = [models.UniqueConstraint(fields=["round", "position"], name="published_positions_unique")]

    def __str__(self) -> str:
        return f"{self.result_id} {self.organisation_name} {self.system_name}"


class PublishedScore(models.Model):
    result = models.ForeignKey(PublishedResult, on_delete=models.PROTECT, related_name="scores")
    benchmark = models.CharField(max_length=100)
    scaling = models.CharField(max_length=10, default="strong")
    score = models.FloatField()
    units = models.CharField(max_length=20, default="minutes")

    class Meta:
        ordering = ["result", "benchmark", "scaling"]
        constraints = [
            models.UniqueConstraint(fields=["result", "benchmark", "scaling"], name="one_published_score_each")
        ]

    def __str__(self) -> str:
        return f"{self.result.result_id} {self.benchmark}: {self.score} {self.units}"


class Correction(models.Model):
    """A recorded change to a published result: who, when, why, the old and the new value."""

    result = models.ForeignKey(PublishedResult, on_delete=models.PROTECT, related_name="corrections")
    field = models.CharField(max_length=120, help_text='A result field, or "score:<benchmark>"')
    old_value = models.TextField()
    new_value = models.TextField()
    reason = models.TextField()
    corrected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    corrected_at = models.DateTimeField()

    class Meta:
        ordering = ["result", "corrected_at", "id"]

    def __str__(self) -> str:
        return f"{self.result.result_id} {self.field}: {self.old_value} → {self.new_value}"
