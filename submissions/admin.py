from django import forms
from django.contrib import admin

from consortium.audit.admin_mixins import AuditedAdminMixin
from consortium.common.admin_lists import ListAtScaleMixin
from submissions.models import (
    ApiToken,
    CheckAttempt,
    CheckKind,
    CheckRun,
    Finding,
    FixWindow,
    InferenceScore,
    Score,
    Submission,
    SubmissionVersion,
    UploadLimit,
    Worker,
    WorkerPing,
    WorkerPool,
)


class WorkerPoolForm(forms.ModelForm):
    check_kinds = forms.MultipleChoiceField(
        choices=CheckKind.choices, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Check kinds routed to this pool's queue. A kind no pool lists runs on the default queue.",
    )  # fmt: skip

    class Meta:
        model = WorkerPool
        fields = ["name", "queue", "description", "check_kinds"]


@admin.register(WorkerPool)
class WorkerPoolAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_area = "workers"
    form = WorkerPoolForm
    list_display = ("name", "queue", "kinds", "description")
    search_fields = ("name", "queue")

    @admin.display(description="Runs")
    def kinds(self, obj):
        return ", ".join(obj.check_kinds or []) or "—"


@admin.register(Worker)
class WorkerAdmin(ListAtScaleMixin, admin.ModelAdmin):
    list_display = ("hostname", "pool", "last_heartbeat", "stopped_at", "started_at")
    list_filter = ("pool",)
    search_fields = ("hostname",)
    readonly_fields = ("hostname", "queues", "facts", "started_at", "last_heartbeat", "stopped_at")


@admin.register(WorkerPing)
class WorkerPingAdmin(ListAtScaleMixin, admin.ModelAdmin):
    """Liveness probes that workers answered (healthz tests, diagnostics)."""

    list_display = ("marker", "hostname", "at")
    readonly_fields = ("marker", "hostname", "at")


class VersionInline(admin.TabularInline):
    model = SubmissionVersion
    extra = 0
    can_delete = False
    fields = ("number", "uploaded_at", "uploaded_by", "source", "in_time", "state", "verdict", "disagreement")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Submission)
class SubmissionAdmin(ListAtScaleMixin, admin.ModelAdmin):
    list_display = ("organisation", "round", "division", "category", "created_at")
    ordering = ("-pk",)  # newest first by key: a page of a long list costs what a short one does
    list_filter = ("round", "division", "category")
    search_fields = ("organisation__name", "round__name")
    list_select_related = ("organisation", "round")
    inlines = [VersionInline]
    readonly_fields = ("round", "organisation", "division", "created_by", "created_at")


class RunInline(admin.TabularInline):
    model = CheckRun
    extra = 0
    can_delete = False
    fields = ("kind", "state", "attempt", "worker", "progress_done", "progress_total", "started_at", "finished_at")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SubmissionVersion)
class SubmissionVersionAdmin(ListAtScaleMixin, admin.ModelAdmin):
    # Newest first by key, and one COUNT: a page of a long history costs what a short one does.
    ordering = ("-pk",)
    """Versions are immutable records: read-only here; re-runs go through the submission page."""

    list_display = ("submission", "number", "uploaded_at", "source", "state", "verdict", "engine_verdict",
                    "official_verdict", "disagreement")  # fmt: skip
    list_filter = ("verdict", "disagreement", "state", "source", "submission__round")
    search_fields = ("submission__organisation__name", "sha256")
    list_select_related = ("submission__organisation", "submission__round")
    inlines = [RunInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CheckRun)
class CheckRunAdmin(ListAtScaleMixin, admin.ModelAdmin):
    # Newest first by key, and one COUNT: a page of a long history costs what a short one does.
    ordering = ("-pk",)
    list_display = ("version", "kind", "state", "attempt", "pool", "worker", "queued_at", "finished_at")
    list_filter = ("state", "kind", "pool")
    search_fields = ("version__submission__organisation__name", "worker")
    list_select_related = ("version__submission__organisation", "version__submission__round", "pool")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AttemptOutcomeFilter(admin.SimpleListFilter):
    """The outcomes an attempt can have (a final run state, or lost), without reading every attempt
    for its distinct outcomes."""

    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        return [(state.value, state.label) for state in CheckRun.FINAL_STATES] + [("lost", "Lost"), ("", "None yet")]

    def queryset(self, request, queryset):
        return queryset if self.value() is None else queryset.filter(outcome=self.value())


@admin.register(CheckAttempt)
class CheckAttemptAdmin(ListAtScaleMixin, admin.ModelAdmin):
    # Newest first by key, and one COUNT: a page of a long history costs what a short one does.
    ordering = ("-pk",)
    list_display = ("run", "number", "worker", "started_at", "finished_at", "outcome")
    list_filter = (AttemptOutcomeFilter,)

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Finding)
class FindingAdmin(ListAtScaleMixin, admin.ModelAdmin):
    list_display = ("run", "severity", "check_id", "path", "line")
    # Newest first by key, and one COUNT: a page of a long history costs what a short one does.
    ordering = ("-pk",)
    list_filter = ("severity", "run__kind")
    search_fields = ("check_id", "message", "path")
    list_select_related = ("run__version__submission__organisation", "run__version__submission__round")

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Score)
class ScoreAdmin(ListAtScaleMixin, admin.ModelAdmin):
    # Newest first by key, and one COUNT: a page of a long history costs what a short one does.
    ordering = ("-pk",)
    list_display = ("version", "system", "benchmark", "minutes")
    search_fields = ("system", "benchmark")


@admin.register(InferenceScore)
class InferenceScoreAdmin(ListAtScaleMixin, admin.ModelAdmin):
    # As Score: newest first by key, one COUNT; the version's name needs its submission's round and
    # organisation (one join, not a query per row).
    ordering = ("-pk",)
    list_display = ("version", "system", "model", "scenario", "value", "units", "accuracy", "power")
    list_select_related = ("version__submission__organisation", "version__submission__round")
    list_filter = ("units", "scenario", "division")
    search_fields = ("system", "model")


@admin.register(FixWindow)
class FixWindowAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_area = "submissions"
    list_display = ("submission", "opens_at", "closes_at", "opened_by")


@admin.register(UploadLimit)
class UploadLimitAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_area = "submissions"
    list_display = ("round", "organisation", "per_day")
    list_filter = ("round",)


@admin.register(ApiToken)
class ApiTokenAdmin(ListAtScaleMixin, admin.ModelAdmin):
    list_display = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    search_fields = ("user__email", "name", "prefix")
    readonly_fields = ("user", "name", "prefix", "token_hash", "created_at", "last_used_at")


# The review and the published record (read-only here: changes go through the review services), and
# the explorer's details of the published record (read-only, like the record itself).
from submissions.results import admin as _results_admin  # noqa: E402, F401
from submissions.review import admin as _review_admin  # noqa: E402, F401
