"""Submissions, their immutable uploaded versions, check runs and findings, and the worker hardware
that runs the checks."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q


class CheckKind(models.TextChoices):
    UNPACK = "unpack", "Unpack"
    SYSTEMS = "system_descriptions", "System descriptions"
    RESULTS = "result_files", "Result files"
    PACKAGE = "package_rules", "Package rules"
    OFFICIAL = "official_verifier", "Official verifier"
    SCORES = "scores", "Scores"


class WorkerPool(models.Model):
    """A class of worker hardware; each pool is one Celery queue."""

    name = models.CharField(max_length=80, unique=True)
    queue = models.SlugField(max_length=80, unique=True, help_text="Celery queue: workers start with -Q <queue>")
    description = models.TextField(blank=True, help_text="The hardware class, e.g. 8 vCPU, 32 GB")
    check_kinds = models.JSONField(default=list, blank=True, help_text="Check kinds this pool runs")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Worker(models.Model):
    """One Celery worker process, registered by itself at start-up (submissions/heartbeat.py)."""

    hostname = models.CharField(max_length=255, unique=True, help_text="Celery node name, e.g. celery@host")
    pool = models.ForeignKey(WorkerPool, null=True, blank=True, on_delete=models.SET_NULL, related_name="workers")
    queues = models.JSONField(default=list, blank=True)
    facts = models.JSONField(default=dict, blank=True, help_text="CPU, memory, GPUs, Python and packages")
    started_at = models.DateTimeField()
    last_heartbeat = models.DateTimeField(db_index=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["hostname"]

    def __str__(self) -> str:
        return self.hostname


class WorkerPing(models.Model):
    """A task a worker ran for a liveness probe (healthz tests)."""

    marker = models.CharField(max_length=100, unique=True)
    hostname = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.marker} on {self.hostname}"


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the token is shown once at creation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="The first characters, to recognise a token")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Submission(models.Model):
    class Division(models.TextChoices):
        CLOSED = "closed", "Closed"
        OPEN = "open", "Open"

    class Category(models.TextChoices):
        AVAILABLE = "available", "Available on-premise"
        CLOUD = "cloud", "Available cloud"
        PREVIEW = "preview", "Preview"
        RDI = "rdi", "Research, development or internal"

    round = models.ForeignKey("workinggroups.Round", on_delete=models.PROTECT, related_name="submissions")
    organisation = models.ForeignKey("members.Organisation", on_delete=models.PROTECT, related_name="submissions")
    division = models.CharField(max_length=10, choices=Division.choices)
    category = models.CharField(max_length=10, choices=Category.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["round", "organisation__name", "division"]
        constraints = [
            models.UniqueConstraint(fields=["round", "organisation", "division"], name="one_submission_per_division")
        ]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.round} · {self.get_division_display()}"


class FixWindow(models.Model):
    """A chair lets one submission take a new version after the deadline, for a while."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="fix_windows")
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    reason = models.TextField()
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-opens_at"]
        constraints = [models.CheckConstraint(condition=Q(closes_at__gt=models.F("opens_at")), name="fix_window_order")]

    def __str__(self) -> str:
        return f"Fix window for {self.submission} until {self.closes_at:%Y-%m-%d %H:%M}"

    def is_open(self, at: dt.datetime) -> bool:
        return self.opens_at <= at < self.closes_at


class SubmissionVersion(models.Model):
    """One upload. Immutable: the archive is stored by its SHA-256 and never overwritten or deleted."""

    class Source(models.TextChoices):
        WEB = "web", "Browser"
        API = "api", "API"
        SEED = "seed", "Demo data"

    class State(models.TextChoices):
        RECEIVED = "received", "Received"
        UNPACKED = "unpacked", "Unpacked"
        REJECTED = "rejected", "Rejected"

    class Verdict(models.TextChoices):
        PENDING = "pending", "Checks running"
        PASSED = "passed", "Passed"
        FAILED = "failed", "Failed"
        ERRORED = "errored", "Could not be checked"

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.BigIntegerField()
    original_name = models.CharField(max_length=255)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=Source.choices)
    # Whether it was uploaded in time (before deadline + grace, or inside a fix window): a fact of the upload.
    in_time = models.BooleanField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.RECEIVED)
    verdict = models.CharField(max_length=10, choices=Verdict.choices, default=Verdict.PENDING)
    engine_verdict = models.CharField(max_length=10, blank=True)
    official_verdict = models.CharField(max_length=10, blank=True)
    disagreement = models.BooleanField(default=False, help_text="Engine and official verifier disagree")
    checks_finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["submission", "-number"]
        constraints = [models.UniqueConstraint(fields=["submission", "number"], name="version_numbers_unique")]

    def __str__(self) -> str:
        return f"{self.submission} v{self.number}"


class CheckRun(models.Model):
    """One check kind on one version. Every state change is a conditional update (services.py)."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        PASSED = "passed", "Passed"
        FAILED = "failed", "Failed"
        ERRORED = "errored", "Errored"
        CANCELLED = "cancelled", "Cancelled"

    FINAL_STATES = (State.PASSED, State.FAILED, State.ERRORED, State.CANCELLED)

    version = models.ForeignKey(SubmissionVersion, on_delete=models.CASCADE, related_name="check_runs")
    kind = models.CharField(max_length=30, choices=CheckKind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED, db_index=True)
    attempt = models.PositiveSmallIntegerField(default=1)
    pool = models.ForeignKey(WorkerPool, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    queued_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    # Indexed: the workers page counts the checks finished in the last hour among all of them.
    finished_at = models.DateTimeField(null=True, blank=True, db_index=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=255, blank=True)
    message = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)

    class Meta:
        ordering = ["version", "id"]
        constraints = [models.UniqueConstraint(fields=["version", "kind"], name="one_run_per_kind_per_version")]

    def __str__(self) -> str:
        return f"{self.version} · {self.get_kind_display()} · {self.state}"

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL_STATES

    @property
    def percent(self) -> int:
        if self.is_final:
            return 100
        return int(100 * self.progress_done / self.progress_total) if self.progress_total else 0


class CheckAttempt(models.Model):
    """One try at a check run: which worker, when, and how it ended."""

    run = models.ForeignKey(CheckRun, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    worker = models.CharField(max_length=255, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, blank=True)
    message = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["run", "number"]
        constraints = [models.UniqueConstraint(fields=["run", "number"], name="attempt_numbers_unique")]

    def __str__(self) -> str:
        return f"{self.run} attempt {self.number}"


class Finding(models.Model):
    class Severity(models.TextChoices):
        ERROR = "error", "Error"
        WARNING = "warning", "Warning"
        ADVISORY = "advisory", "Advisory"

    run = models.ForeignKey(CheckRun, on_delete=models.CASCADE, related_name="findings")
    attempt = models.PositiveSmallIntegerField(default=1, help_text="Findings of earlier attempts stay as history")
    severity = models.CharField(max_length=10, choices=Severity.choices)
    # "check" in the engine's JSON; named check_id here because Model.check() exists.
    check_id = models.CharField(max_length=80, help_text="Stable id of the rule")
    key = models.CharField(max_length=120, blank=True, null=True)
    path = models.CharField(max_length=500, blank=True, help_text="File inside the package, if any")
    line = models.PositiveIntegerField(null=True, blank=True)
    message = models.TextField()
    excerpt = models.TextField(blank=True, help_text="The offending log line, shortened")

    class Meta:
        ordering = ["run", "path", "line", "id"]
        indexes = [models.Index(fields=["run", "severity"])]

    def __str__(self) -> str:
        return f"{self.severity} {self.check_id} {self.path}:{self.line or ''}"

    def to_dict(self) -> dict:
        return {"severity": self.severity, "check": self.check_id, "key": self.key, "line": self.line,
                "message": self.message}  # fmt: skip


class Score(models.Model):
    """A score as the official result summarizer computes it: strong scaling is the olympic mean time to
    train; HPC weak scaling is the time to train all models, with how many and at what scale."""

    class Scaling(models.TextChoices):
        STRONG = "strong", "Strong scaling"
        WEAK = "weak", "Weak scaling"

    version = models.ForeignKey(SubmissionVersion, on_delete=models.CASCADE, related_name="scores")
    system = models.CharField(max_length=200)
    benchmark = models.CharField(max_length=100)
    scaling = models.CharField(max_length=10, choices=Scaling.choices, default=Scaling.STRONG)
    minutes = models.FloatField()
    number_of_models = models.PositiveIntegerField(null=True, blank=True, help_text="Weak scaling only")
    instance_scale = models.PositiveIntegerField(null=True, blank=True, help_text="Weak scaling: nodes × accelerators")
    # the result summarizer's system columns (blank for scores stored before the engine gave them)
    system_name = models.CharField(max_length=300, blank=True, default="")
    accelerator = models.CharField(max_length=300, blank=True, default="")
    accelerator_count = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["version", "benchmark", "scaling", "system"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "system", "benchmark", "scaling"], name="one_score_per_system_benchmark_scaling"
            )
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.benchmark} ({self.scaling}): {self.minutes:.2f} min"

    def to_dict(self) -> dict:
        """The compliance engine's shape: strong entries keep exactly system, benchmark, minutes."""
        out: dict = {"system": self.system, "benchmark": self.benchmark, "minutes": self.minutes}
        if self.scaling == self.Scaling.WEAK:
            out.update(scaling="weak", number_of_models=self.number_of_models, instance_scale=self.instance_scale)
        if self.system_name:
            out.update(
                system_name=self.system_name, accelerator=self.accelerator, accelerator_count=self.accelerator_count
            )
        return out


class InferenceScore(models.Model):
    """An MLPerf Inference result's score as the official submission checker computes it: one per
    passing result folder ``results/<system>/<model>/<scenario>``. A sibling of the training Score
    (time to train in minutes), whose shape the training and HPC tools fix; here the value carries
    its units (throughput: higher is better; latency and energy: lower)."""

    # Units the inference checker reports for which a smaller value is better.
    LOWER_IS_BETTER = ("Latency (ms)", "millijoules", "Watts")

    version = models.ForeignKey(SubmissionVersion, on_delete=models.CASCADE, related_name="inference_scores")
    system = models.CharField(max_length=200, help_text="results/<system>/: the system description's name")
    model = models.CharField(max_length=100, help_text="The result folder's model (open division: as submitted)")
    mlperf_model = models.CharField(max_length=100, blank=True, help_text="The MLPerf model it counts as")
    scenario = models.CharField(max_length=40)
    division = models.CharField(max_length=20)
    value = models.FloatField()
    units = models.CharField(max_length=20, help_text="Samples/s, Queries/s, Tokens/s, Latency (ms), …")
    accuracy = models.FloatField(null=True, blank=True, help_text="The model's first accuracy metric")
    accuracy_metric = models.CharField(max_length=40, blank=True)
    accuracy_values = models.JSONField(default=dict, blank=True, help_text="Every metric of accuracy.txt")
    power = models.FloatField(null=True, blank=True, help_text="Where power is measured")
    power_units = models.CharField(max_length=20, blank=True)
    # the results table's system columns, from systems/<system>.json
    system_name = models.CharField(max_length=300, blank=True, default="")
    accelerator = models.CharField(max_length=300, blank=True, default="")
    accelerator_count = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["version", "model", "scenario", "system"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "system", "model", "scenario"], name="one_inference_score_per_result"
            )
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.model}/{self.scenario}: {self.value:g} {self.units}"

    @property
    def benchmark(self) -> str:
        """The published record's benchmark of an inference score: ``<model>/<scenario>``."""
        return f"{self.model}/{self.scenario}"

    @property
    def lower_is_better(self) -> bool:
        return self.units in self.LOWER_IS_BETTER

    def to_dict(self) -> dict:
        return {
            "system": self.system, "model": self.model, "scenario": self.scenario, "value": self.value,
            "units": self.units, "accuracy": self.accuracy, "accuracy_metric": self.accuracy_metric,
            "power": self.power, "power_units": self.power_units,
        }  # fmt: skip


class UploadLimit(models.Model):
    """Uploads per organisation and round per day; a row without organisation sets the round's default."""

    round = models.ForeignKey("workinggroups.Round", on_delete=models.CASCADE, related_name="upload_limits")
    organisation = models.ForeignKey("members.Organisation", null=True, blank=True, on_delete=models.CASCADE)
    per_day = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "organisation"], name="one_upload_limit_per_round_org"),
        ]

    def __str__(self) -> str:
        return f"{self.per_day}/day for {self.organisation or 'everyone'} in {self.round}"


# The review and publication of a round (issue 12), in their own module; imported here so that they
# belong to this app and its migrations.
# What the results explorer (issue 13) adds to the published record, in its own module.
from submissions.results.models import PublishedResultDetail, PublishedScoreDetail  # noqa: E402, F401
from submissions.review.models import (  # noqa: E402, F401
    Ballot,
    Correction,
    Objection,
    ObjectionEvidence,
    ObjectionResponse,
    Outcome,
    Publication,
    PublishedResult,
    PublishedScore,
    ReviewAssignment,
    RoundReview,
    Vote,
    VoteOption,
    Withdrawal,
)
