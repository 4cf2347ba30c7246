"""The licensing admin: how dataset admins run the whole life cycle.

Only dataset admins (staff in the Dataset admins group) and staff admins reach it. Changes of state
go through services (audited); signature records and published agreement versions are read-only.
"""

import datetime as dt

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from consortium.audit.admin_mixins import AuditedAdminMixin
from consortium.audit.client import client_address
from consortium.audit.models import AuditEvent
from consortium.common.models import OutgoingMail
from consortium.licensing import exports, permissions, selectors, services
from consortium.licensing.access import access_decision, agreement_status
from consortium.licensing.admin_forms import (
    AgreementVersionAdminForm,
    DatasetAdminForm,
    DecisionForm,
    ExplainForm,
    ExtendForm,
    GrantAddForm,
    LicenceAdminForm,
    PublishVersionForm,
    RevokeForm,
)
from consortium.licensing.diffs import diff_stats, text_diff
from consortium.licensing.models import (
    Acceptance,
    AccessRequest,
    Agreement,
    AgreementVersion,
    Dataset,
    DatasetSubset,
    Grant,
    Licence,
)
from consortium.members.selectors import current_membership


def _end_of_day(day: dt.date | None) -> dt.datetime | None:
    if day is None:
        return None
    return timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59, 59)))


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


class LicensingAdminMixin(AuditedAdminMixin):
    """Opens the model to dataset admins and staff admins only, whatever other staff hold."""

    audit_area = "licensing"

    def _allowed(self, request: HttpRequest) -> bool:
        # Asked for every model, row and action on a page: decided once per request.
        allowed = getattr(request, "_licensing_admin_allowed", None)
        if allowed is None:
            allowed = permissions.can_administer_licensing(request.user)
            request._licensing_admin_allowed = allowed  # type: ignore[attr-defined]
        return allowed

    def has_module_permission(self, request):
        return self._allowed(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args):
        return self._allowed(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request) and super().has_delete_permission(request, obj)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.URLField):
            kwargs.setdefault("assume_scheme", "https")
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def admin_context(self, request: HttpRequest, **extra):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, **extra}


# --- Licences ---------------------------------------------------------------------------------


@admin.register(Licence)
class LicenceAdmin(LicensingAdminMixin, admin.ModelAdmin):
    form = LicenceAdminForm
    list_display = (
        "expression",
        "name",
        "attribution",
        "share_alike",
        "non_commercial",
        "members_only",
        "from_spdx_list",
        "is_deprecated",
    )
    list_filter = ("attribution", "share_alike", "non_commercial", "members_only", "from_spdx_list", "is_deprecated")
    search_fields = ("expression", "name")
    list_per_page = 50


# --- Agreements and versions --------------------------------------------------------------------


class AgreementVersionInline(admin.TabularInline):
    model = AgreementVersion
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("label", "number", "effective_date", "is_material", "grace_days", "published_at", "short_hash")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="SHA-256")
    def short_hash(self, obj):
        return obj.text_sha256[:12] + "…"


@admin.register(Agreement)
class AgreementAdmin(LicensingAdminMixin, admin.ModelAdmin):
    list_display = ("name", "signer", "current_version", "datasets_list")
    list_filter = ("signer",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("licence",)
    inlines = [AgreementVersionInline]
    actions = ["publish_new_version"]
    change_form_template = "admin/licensing/agreement/change_form.html"

    def get_queryset(self, request):
        published = AgreementVersion.objects.filter(published_at__isnull=False).order_by("-number")
        return (
            super()
            .get_queryset(request)
            .prefetch_related("datasets", Prefetch("versions", queryset=published, to_attr="published_versions"))
        )

    def has_delete_permission(self, request, obj=None):
        # An agreement with a published version is part of signature records: never deleted.
        if obj is not None and obj.versions.filter(published_at__isnull=False).exists():
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description="Current version")
    def current_version(self, obj):
        prefetched = getattr(obj, "published_versions", None)
        version = (prefetched[0] if prefetched else None) if prefetched is not None else services.latest_published(obj)
        return f"{version.label} (from {version.effective_date:%d %b %Y})" if version else "unpublished"

    @admin.display(description="Datasets")
    def datasets_list(self, obj):
        return ", ".join(d.name for d in obj.datasets.all()) or "—"

    def get_urls(self):
        return [
            path(
                "<int:agreement_id>/publish/",
                self.admin_site.admin_view(self.publish_view),
                name="licensing_agreement_publish",
            ),
            *super().get_urls(),
        ]

    @admin.action(description="Publish a new version of the selected agreement", permissions=["change"])
    def publish_new_version(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one agreement to publish a new version of.", messages.ERROR)
            return None
        return redirect("admin:licensing_agreement_publish", agreement_id=queryset.get().pk)

    def publish_view(self, request: HttpRequest, agreement_id: int):
        """Editing a published agreement: the edited text is published as a new version."""
        agreement = get_object_or_404(Agreement, pk=agreement_id)
        if not self.has_change_permission(request, agreement):
            raise PermissionDenied
        previous = services.latest_published(agreement)
        initial = {
            "text": previous.text if previous else "",
            "label": _next_label(previous.label) if previous else "1.0",
            "effective_date": timezone.localdate(),
            "grace_days": 30,
        }
        form = PublishVersionForm(request.POST or None, initial=initial)
        diff = []
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            diff = text_diff(previous.text if previous else "", data["text"].replace("\r\n", "\n"))
            if "_publish" in request.POST:
                try:
                    version = services.agreement_version_publish_new(
                        agreement=agreement,
                        label=data["label"],
                        text=data["text"],
                        effective_date=data["effective_date"],
                        is_material=data["is_material"],
                        grace_days=data["grace_days"],
                        change_summary=data["change_summary"],
                        actor=request.user,
                        ip_address=client_address(request),
                    )
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    material = (
                        f"; holders must accept it by {version.grace_ends:%d %b %Y}" if version.is_material else ""
                    )
                    self.message_user(
                        request,
                        f"Published version {version.label} of “{agreement}” (SHA-256 {version.text_sha256[:12]}…)"
                        f"{material}.",
                        messages.SUCCESS,
                    )
                    return redirect("admin:licensing_agreementversion_change", version.pk)
        added, removed = diff_stats(diff)
        return TemplateResponse(
            request,
            "admin/licensing/publish_version.html",
            self.admin_context(
                request,
                title=f"Publish a new version of {agreement}",
                agreement=agreement,
                previous=previous,
                form=form,
                diff=diff,
                added=added,
                removed=removed,
                previewed=request.method == "POST",
            ),
        )


def _next_label(label: str) -> str:
    head, _, tail = label.rpartition(".")
    if tail.isdigit():
        return f"{head}.{int(tail) + 1}" if head else str(int(tail) + 1)
    return f"{label}-next"


class PublishedFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "published"

    def lookups(self, request, model_admin):
        return [("yes", "Published"), ("no", "Draft")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(published_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(published_at__isnull=True)
        return queryset


@admin.register(AgreementVersion)
class AgreementVersionAdmin(LicensingAdminMixin, admin.ModelAdmin):
    form = AgreementVersionAdminForm
    list_display = (
        "agreement",
        "label",
        "number",
        "state",
        "effective_date",
        "is_material",
        "grace_days",
        "published_at",
        "short_hash",
    )
    list_filter = (PublishedFilter, "agreement", "is_material")
    search_fields = ("agreement__name", "label", "text_sha256")
    list_select_related = ("agreement", "published_by")
    actions = ["publish_drafts"]
    change_form_template = "admin/licensing/agreementversion/change_form.html"
    published_fields = (
        "agreement",
        "label",
        "number",
        "effective_date",
        "is_material",
        "grace_days",
        "grace_ends",
        "change_summary",
        "published_at",
        "published_by",
        "text_sha256",
        "text",
        "diff_with_previous",
        "acceptance_count",
    )

    @admin.display(description="State")
    def state(self, obj):
        return "Published" if obj.is_published else "Draft"

    @admin.display(description="SHA-256")
    def short_hash(self, obj):
        return obj.text_sha256[:12] + "…"

    @admin.display(description="Grace period ends")
    def grace_ends(self, obj):
        return f"{obj.grace_ends:%d %b %Y}"

    @admin.display(description="Acceptances")
    def acceptance_count(self, obj):
        return obj.acceptances.count()

    @admin.display(description="Diff against the previous version")
    def diff_with_previous(self, obj):
        previous = selectors.previous_version(obj) if obj.pk else None
        if previous is None:
            return "First version: nothing to compare."
        lines = text_diff(previous.text, obj.text, old_label=previous.label, new_label=obj.label)
        if not lines:
            return f"Same text as version {previous.label}."
        rows = format_html_join(
            "\n",
            '<span class="diff-{}">{}{}</span>',
            ((d.kind, {"added": "+ ", "removed": "- ", "context": "  ", "hunk": ""}[d.kind], d.text) for d in lines),
        )
        return format_html('<p>Against version {}:</p><pre class="licensing-diff">{}</pre>', previous.label, rows)

    def get_fields(self, request, obj=None):
        if obj is not None and obj.is_published:
            return self.published_fields
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_published:
            return self.published_fields
        return ("text_sha256", "diff_with_previous") if obj is not None else ()

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_published:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_published:
            return False
        return super().has_delete_permission(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if request.method == "POST" and obj is not None and obj.is_published:
            self.message_user(
                request,
                f"Version {obj.label} of “{obj.agreement}” is published and cannot be edited; nothing changed. "
                "Use “Publish new version” to change the text.",
                messages.ERROR,
            )
            return HttpResponseRedirect(request.path)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if change:
            data = {f: form.cleaned_data[f] for f in form.changed_data}
            services.agreement_version_update_draft(version=obj, actor=request.user, **data)
        else:
            created = services.agreement_version_draft(actor=request.user, **form.cleaned_data)
            obj.pk = created.pk

    @admin.action(description="Publish selected draft versions", permissions=["change"])
    def publish_drafts(self, request, queryset):
        for version in queryset.order_by("created_at"):
            try:
                services.agreement_version_publish(
                    version=version, actor=request.user, ip_address=client_address(request)
                )
            except ValidationError as exc:
                self.message_user(request, _errors(exc), messages.ERROR)
            else:
                self.message_user(request, f"Published {version}.", messages.SUCCESS)


# --- Datasets ---------------------------------------------------------------------------------


class DatasetSubsetInline(admin.TabularInline):
    model = DatasetSubset
    extra = 0
    fields = ("name", "slug", "licence", "description", "size_bytes", "file")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("licence",)


@admin.register(Dataset)
class DatasetAdmin(LicensingAdminMixin, admin.ModelAdmin):
    form = DatasetAdminForm
    list_display = ("name", "slug", "licences", "policy", "is_listed", "live_grants", "open_requests")
    list_filter = ("is_listed", "requires_membership", "requires_approval", "agreement")
    search_fields = ("name", "slug", "summary")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("licence", "agreement")
    inlines = [DatasetSubsetInline]
    fieldsets = (
        (None, {"fields": ("name", "slug", "summary", "description", "is_listed")}),
        (
            "Facts",
            {
                "fields": (
                    "homepage",
                    "current_version",
                    "size_bytes",
                    "maintainer_working_group",
                    "croissant_url",
                    "file",
                )
            },
        ),
        ("Licence and citation", {"fields": ("licence", "attribution_text")}),
        (
            "Access policy",
            {
                "description": "Requirements combine; none of them means open access.",
                "fields": (
                    "requires_membership",
                    "agreement",
                    "requires_approval",
                    "access_questions",
                    "request_cooldown_days",
                    "grant_days",
                ),
            },
        ),
    )

    def get_queryset(self, request):
        def count(model, state):
            rows = model.objects.filter(dataset=OuterRef("pk"), state=state).order_by().values("dataset")
            return Subquery(rows.annotate(n=Count("pk")).values("n")[:1])

        return (
            super()
            .get_queryset(request)
            .select_related("licence", "agreement")
            .prefetch_related("subsets__licence")
            .annotate(
                live_grant_count=Coalesce(count(Grant, Grant.State.ACTIVE), 0),
                open_request_count=Coalesce(count(AccessRequest, AccessRequest.State.SUBMITTED), 0),
            )
        )

    @admin.display(description="Licences")
    def licences(self, obj):
        return ", ".join(lic.expression for lic in selectors.licences_of(obj)) or "—"

    @admin.display(description="Access policy")
    def policy(self, obj):
        return " + ".join(obj.policy_labels)

    @admin.display(description="Live grants")
    def live_grants(self, obj):
        if hasattr(obj, "live_grant_count"):
            return obj.live_grant_count
        return obj.grants.filter(state=Grant.State.ACTIVE).count()

    @admin.display(description="Requests to decide")
    def open_requests(self, obj):
        count = getattr(obj, "open_request_count", None)
        if count is None:
            count = obj.access_requests.filter(state=AccessRequest.State.SUBMITTED).count()
        if not count:
            return 0
        url = (
            reverse("admin:licensing_accessrequest_changelist") + f"?state__exact=submitted&dataset__id__exact={obj.pk}"
        )
        return format_html('<a href="{}">{}</a>', url, count)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("dashboard/", view(self.dashboard_view), name="licensing_dataset_dashboard"),
            path("explain/", view(self.explain_view), name="licensing_explain"),
            path("export/<str:kind>.csv", view(self.export_view), name="licensing_export"),
            *super().get_urls(),
        ]

    def _require(self, request):
        if not permissions.can_administer_licensing(request.user):
            raise PermissionDenied

    def dashboard_view(self, request: HttpRequest):
        """Pending work: requests to decide, grants ending, suspensions, drafts, versions in grace."""
        self._require(request)
        work = selectors.pending_work(request.user)
        in_grace = []
        for version in work.in_grace:
            waiting = 0
            for grant in Grant.objects.filter(
                dataset__agreement=version.agreement, state=Grant.State.ACTIVE
            ).select_related("person", "organisation", "dataset__agreement"):
                status = agreement_status(
                    version.agreement,
                    person=grant.person,
                    organisation=grant.organisation,
                    at=timezone.now(),
                )
                if status.acceptance is not None and status.acceptance.agreement_version.number < version.number:
                    waiting += 1
            in_grace.append((version, waiting))
        return TemplateResponse(
            request,
            "admin/licensing/dashboard.html",
            self.admin_context(
                request,
                title="Licensing: pending work",
                work=work,
                in_grace=in_grace,
                requests=list(work.requests[:50]),
                expiring=list(work.expiring[:50]),
                suspended=list(work.suspended[:50]),
                drafts=list(work.drafts),
            ),
        )

    def explain_view(self, request: HttpRequest):
        """The one predicate, asked about any person and dataset, with everything it looked at."""
        self._require(request)
        form = ExplainForm(request.GET or None)
        context = {"form": form, "title": "Explain access"}
        if form.is_bound and form.is_valid():
            person = form.cleaned_data["person"]
            dataset = form.cleaned_data["dataset"]
            at = form.cleaned_data.get("at") or timezone.now()
            decision = access_decision(person, dataset, at=at)
            organisation = person.organisation
            membership = current_membership(organisation, timezone.localdate(at)) if organisation else None
            context.update(
                person=person,
                dataset=dataset,
                decision=decision,
                at=at,
                membership=membership,
                membership_status=membership.status_on(timezone.localdate(at)).label if membership else None,
                grants=Grant.objects.filter(dataset=dataset, person=person)
                | (
                    Grant.objects.filter(dataset=dataset, organisation=organisation)
                    if organisation
                    else Grant.objects.none()
                ),
                requests=AccessRequest.objects.filter(dataset=dataset, person=person).order_by("-submitted_at"),
            )
        return TemplateResponse(request, "admin/licensing/explain.html", self.admin_context(request, **context))

    def export_view(self, request: HttpRequest, kind: str):
        self._require(request)
        if kind not in exports.EXPORTS:
            raise Http404("No such export.")
        return exports.csv_response(kind)


# --- Signature records ------------------------------------------------------------------------


@admin.register(Acceptance)
class AcceptanceAdmin(LicensingAdminMixin, admin.ModelAdmin):
    """Signature records: never added, changed or deleted here."""

    list_display = (
        "accepted_at",
        "typed_name",
        "person",
        "organisation",
        "agreement_version",
        "short_hash",
        "ip_address",
    )
    list_filter = ("agreement_version__agreement", ("organisation", admin.RelatedOnlyFieldListFilter))
    search_fields = ("typed_name", "person__user__email", "person__full_name", "text_sha256", "organisation__name")
    list_select_related = ("person__user", "organisation", "agreement_version__agreement")
    date_hierarchy = "accepted_at"
    actions = ["export_csv"]
    fields = (
        "person",
        "organisation",
        "agreement_version",
        "version_label",
        "text_sha256",
        "typed_name",
        "accepted_at",
        "ip_address",
        "user_agent",
    )
    readonly_fields = fields

    @admin.display(description="SHA-256")
    def short_hash(self, obj):
        return obj.text_sha256[:12] + "…"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Export selected signature records as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        return exports.csv_response(
            "acceptances", queryset.select_related("agreement_version__agreement", "person__user", "organisation")
        )


# --- Access requests --------------------------------------------------------------------------


class DecisionMixin:
    """Bulk actions with an intermediate page (the Django admin's confirmation pattern)."""

    def _intermediate(self, request, queryset, *, action: str, title: str, button: str, form, intro: str = ""):
        return TemplateResponse(
            request,
            "admin/licensing/action_form.html",
            self.admin_context(
                request,
                title=title,
                queryset=queryset,
                action=action,
                form=form,
                button=button,
                intro=intro,
                action_checkbox_name=admin.helpers.ACTION_CHECKBOX_NAME,
            ),
        )


@admin.register(AccessRequest)
class AccessRequestAdmin(DecisionMixin, LicensingAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "dataset",
        "person",
        "organisation",
        "state",
        "submitted_at",
        "reviewer",
        "decided_at",
        "explain_link",
    )
    list_filter = ("state", "dataset", ("organisation", admin.RelatedOnlyFieldListFilter))
    search_fields = ("person__user__email", "person__full_name", "dataset__name", "purpose")
    list_select_related = ("dataset", "person__user", "organisation", "reviewer")
    date_hierarchy = "submitted_at"
    actions = ["approve_requests", "reject_requests", "return_requests", "export_csv"]
    fields = (
        "dataset",
        "person",
        "organisation",
        "state",
        "purpose",
        "answers_display",
        "submitted_at",
        "reviewer",
        "decided_at",
        "reason",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Rows are read-only; decisions are the actions below.
        return obj is None and super().has_change_permission(request, obj)

    @admin.display(description="Answers")
    def answers_display(self, obj):
        return (
            format_html_join(
                "",
                "<p><strong>{}</strong><br>{}</p>",
                ((a.get("question"), a.get("answer")) for a in obj.answers or []),
            )
            or "—"
        )

    @admin.display(description="Explain")
    def explain_link(self, obj):
        url = reverse("admin:licensing_explain") + f"?person={obj.person_id}&dataset={obj.dataset_id}"
        return format_html('<a href="{}">Explain access</a>', url)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:request_id>/decide/", view(self.decide_view), name="licensing_accessrequest_decide"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """One page per request: who asks, for what, the history, and the decision."""
        if not str(object_id).isdigit():
            raise Http404
        return redirect("admin:licensing_accessrequest_decide", request_id=int(object_id))

    def decide_view(self, request: HttpRequest, request_id: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        access_request = get_object_or_404(
            AccessRequest.objects.select_related("dataset", "person__user", "organisation", "reviewer"), pk=request_id
        )
        can_decide = (
            self._allowed(request)
            and super().has_change_permission(request)
            and access_request.state == AccessRequest.State.SUBMITTED
        )
        decision = request.POST.get("decision", "")
        form = DecisionForm(decision="approve")
        if request.method == "POST" and can_decide and decision in ("approve", "reject", "return"):
            form = DecisionForm(request.POST, decision=decision)
            if form.is_valid():
                try:
                    self._decide_one(request, access_request, decision, form.cleaned_data)
                except ValidationError as exc:
                    form.add_error(None, _errors(exc))
                else:
                    past = {"approve": "approved", "reject": "rejected", "return": "returned for changes"}[decision]
                    self.message_user(request, f"Request of {access_request.person} {past}.", messages.SUCCESS)
                    return redirect("admin:licensing_accessrequest_decide", request_id=access_request.pk)
            if "ends_at" not in form.fields:  # keep the approval field on the page after a refused reject/return
                form.fields["ends_at"] = DecisionForm(decision="approve").fields["ends_at"]
        earlier = (
            AccessRequest.objects.filter(person=access_request.person, dataset=access_request.dataset)
            .exclude(pk=access_request.pk)
            .select_related("reviewer")
            .order_by("-submitted_at")
        )
        events = AuditEvent.objects.filter(
            target_type=AccessRequest._meta.label_lower, target_id=str(access_request.pk)
        ).order_by("at", "id")
        return TemplateResponse(
            request,
            "admin/licensing/accessrequest/decide.html",
            self.admin_context(
                request,
                title=f"Access request: {access_request.person} for {access_request.dataset}",
                access_request=access_request,
                answers=access_request.answers or [],
                access=access_decision(access_request.person, access_request.dataset),
                earlier=list(earlier),
                events=list(events),
                form=form,
                can_decide=can_decide,
                explain_url=reverse("admin:licensing_explain")
                + f"?person={access_request.person_id}&dataset={access_request.dataset_id}",
            ),
            status=400 if request.method == "POST" and can_decide else 200,
        )

    def _decide_one(self, request: HttpRequest, access_request: AccessRequest, decision: str, data: dict) -> None:
        common = {"access_request": access_request, "actor": request.user, "ip_address": client_address(request)}
        if decision == "approve":
            services.access_request_approve(**common, reason=data["reason"], ends_at=_end_of_day(data.get("ends_at")))
        elif decision == "reject":
            services.access_request_reject(**common, reason=data["reason"])
        else:
            services.access_request_return(**common, reason=data["reason"])

    def _decide(self, request, queryset, decision: str):
        verbs = {"approve": "Approve", "reject": "Reject", "return": "Return for changes"}
        count = queryset.count()
        form = DecisionForm(request.POST if "apply" in request.POST else None, decision=decision)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            done = 0
            for access_request in queryset.select_related("person", "dataset"):
                try:
                    if decision == "approve":
                        services.access_request_approve(
                            access_request=access_request,
                            actor=request.user,
                            reason=reason,
                            ends_at=_end_of_day(form.cleaned_data.get("ends_at")),
                            ip_address=client_address(request),
                        )
                    elif decision == "reject":
                        services.access_request_reject(
                            access_request=access_request,
                            actor=request.user,
                            reason=reason,
                            ip_address=client_address(request),
                        )
                    else:
                        services.access_request_return(
                            access_request=access_request,
                            actor=request.user,
                            reason=reason,
                            ip_address=client_address(request),
                        )
                except ValidationError as exc:
                    self.message_user(request, _errors(exc), messages.ERROR)
                else:
                    done += 1
            if done:
                past = {"approve": "Approved", "reject": "Rejected", "return": "Returned"}[decision]
                self.message_user(request, f"{past} {done} request{'s' if done != 1 else ''}.", messages.SUCCESS)
            return None
        undecided = queryset.exclude(state=AccessRequest.State.SUBMITTED).count()
        intro = (
            f"{undecided} of the selected requests {'is' if undecided == 1 else 'are'} already decided and will "
            "be left unchanged."
            if undecided
            else ""
        )
        return self._intermediate(
            request,
            queryset.select_related("person__user", "dataset"),
            action=f"{decision}_requests",
            title=f"{verbs[decision]} access requests",
            button=f"{verbs[decision]} {count} request{'s' if count != 1 else ''}",
            form=form,
            intro=intro,
        )

    @admin.action(description="Approve selected access requests", permissions=["change"])
    def approve_requests(self, request, queryset):
        return self._decide(request, queryset, "approve")

    @admin.action(description="Reject selected access requests (with a reason)", permissions=["change"])
    def reject_requests(self, request, queryset):
        return self._decide(request, queryset, "reject")

    @admin.action(description="Return selected access requests for changes", permissions=["change"])
    def return_requests(self, request, queryset):
        return self._decide(request, queryset, "return")

    @admin.action(description="Export selected access requests as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        return exports.csv_response(
            "requests", queryset.select_related("dataset", "person__user", "organisation", "reviewer")
        )


# --- Grants -----------------------------------------------------------------------------------


class GrantStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [
            ("active", "Active"),
            ("expiring", "Expiring in 30 days"),
            ("suspended", "Suspended"),
            ("revoked", "Revoked"),
            ("expired", "Expired"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "expiring":
            now = timezone.now()
            return queryset.filter(state=Grant.State.ACTIVE, ends_at__gt=now, ends_at__lte=now + dt.timedelta(days=30))
        if value in Grant.State.values:
            return queryset.filter(state=value)
        return queryset


@admin.register(Grant)
class GrantAdmin(DecisionMixin, LicensingAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "dataset",
        "holder_display",
        "state",
        "suspension_cause",
        "starts_at",
        "ends_at",
        "rests_on_display",
        "explain_link",
    )
    list_filter = (GrantStatusFilter, "dataset", "suspension_cause")
    search_fields = ("person__user__email", "person__full_name", "organisation__name", "dataset__name")
    list_select_related = (
        "dataset",
        "person__user",
        "organisation",
        "membership_organisation",
        "acceptance__agreement_version__agreement",
    )
    actions = ["revoke_grants", "extend_grants", "reinstate_grants", "export_csv"]
    fields = (
        "dataset",
        "person",
        "organisation",
        "state",
        "suspension_cause",
        "starts_at",
        "ends_at",
        "rests_on_display",
        "membership_organisation",
        "acceptance",
        "access_request",
        "granted_by",
        "created_at",
        "ended_at",
        "ended_by",
        "reason",
        "notices_display",
    )
    readonly_fields = fields

    @admin.display(description="Notices sent")
    def notices_display(self, obj):
        """What the outbox sent about this grant (each notice once, by its idempotency key)."""
        rows = OutgoingMail.objects.filter(about=f"licensing.grant:{obj.pk}").order_by("created_at")
        if not rows:
            return "—"
        return format_html_join(
            "", "<div>{} · {} → {} ({})</div>", ((m.created_at.date(), m.subject, m.to, m.state) for m in rows)
        )

    @admin.display(description="Holder")
    def holder_display(self, obj):
        return f"{obj.organisation} (organisation)" if obj.organisation_id else str(obj.person)

    @admin.display(description="Rests on")
    def rests_on_display(self, obj):
        return "; ".join(obj.rests_on)

    @admin.display(description="Explain")
    def explain_link(self, obj):
        if not obj.person_id:
            return "—"
        url = reverse("admin:licensing_explain") + f"?person={obj.person_id}&dataset={obj.dataset_id}"
        return format_html('<a href="{}">Explain access</a>', url)

    def has_change_permission(self, request, obj=None):
        # Grant rows are read-only; changes are the revoke/extend/reinstate actions.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request: HttpRequest, form_url="", extra_context=None):
        """Granting goes through the service (checks, audit), not a model form."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = GrantAddForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                grant = services.grant_create(
                    dataset=data["dataset"],
                    person=data["person"],
                    organisation=data["organisation"],
                    ends_at=_end_of_day(data["ends_at"]),
                    reason=data["reason"],
                    actor=request.user,
                    ip_address=client_address(request),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                self.message_user(request, f"Granted access: {grant}.", messages.SUCCESS)
                return redirect("admin:licensing_grant_changelist")
        return TemplateResponse(
            request,
            "admin/licensing/grant_add.html",
            self.admin_context(request, title="Grant access", form=form),
        )

    @admin.action(description="Revoke selected grants (with a reason)", permissions=["change"])
    def revoke_grants(self, request, queryset):
        form = RevokeForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done = 0
            for grant in queryset:
                try:
                    services.grant_revoke(
                        grant=grant,
                        actor=request.user,
                        reason=form.cleaned_data["reason"],
                        ip_address=client_address(request),
                    )
                except ValidationError as exc:
                    self.message_user(request, f"Grant #{grant.pk}: {_errors(exc)}", messages.ERROR)
                else:
                    done += 1
            if done:
                self.message_user(request, f"Revoked {done} grant{'s' if done != 1 else ''}.", messages.SUCCESS)
            return None
        count = queryset.count()
        return self._intermediate(
            request,
            queryset,
            action="revoke_grants",
            title="Revoke grants",
            button=f"Revoke {count} grant{'s' if count != 1 else ''}",
            form=form,
            intro="Access ends at once and download links stop working.",
        )

    @admin.action(description="Extend selected grants", permissions=["change"])
    def extend_grants(self, request, queryset):
        form = ExtendForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            ends_at = None if form.cleaned_data["no_end"] else _end_of_day(form.cleaned_data["ends_at"])
            done = 0
            for grant in queryset:
                try:
                    services.grant_extend(
                        grant=grant,
                        ends_at=ends_at,
                        actor=request.user,
                        reason=form.cleaned_data["reason"],
                        ip_address=client_address(request),
                    )
                except ValidationError as exc:
                    self.message_user(request, f"Grant #{grant.pk}: {_errors(exc)}", messages.ERROR)
                else:
                    done += 1
            if done:
                self.message_user(request, f"Extended {done} grant{'s' if done != 1 else ''}.", messages.SUCCESS)
            return None
        count = queryset.count()
        return self._intermediate(
            request,
            queryset,
            action="extend_grants",
            title="Extend grants",
            button=f"Extend {count} grant{'s' if count != 1 else ''}",
            form=form,
        )

    @admin.action(description="Reinstate selected suspended grants", permissions=["change"])
    def reinstate_grants(self, request, queryset):
        done = 0
        for grant in queryset:
            try:
                services.grant_reinstate(grant=grant, actor=request.user, ip_address=client_address(request))
            except ValidationError as exc:
                self.message_user(request, f"Grant #{grant.pk}: {_errors(exc)}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, f"Reinstated {done} grant{'s' if done != 1 else ''}.", messages.SUCCESS)

    @admin.action(description="Export selected grants as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        return exports.csv_response(
            "grants", queryset.select_related("dataset", "person__user", "organisation", "granted_by", "acceptance")
        )


# --- Records that are also reached through their parents' pages -----------------------------


@admin.register(DatasetSubset)
class DatasetSubsetAdmin(LicensingAdminMixin, admin.ModelAdmin):
    list_display = ("name", "dataset", "licence", "size_bytes")
    list_filter = ("dataset",)
    search_fields = ("name", "slug", "dataset__name", "licence__expression")
    list_select_related = ("dataset", "licence")
    autocomplete_fields = ("licence",)
