"""Datasets and their subsets in the admin."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from consortium.licensing import exports, permissions, selectors
from consortium.licensing.access import access_decision, agreement_status
from consortium.licensing.admin._shared import LicensingAdminMixin
from consortium.licensing.admin_forms import (
    DatasetAdminForm,
    ExplainForm,
)
from consortium.licensing.models import (
    AccessRequest,
    Dataset,
    DatasetSubset,
    Grant,
)
from consortium.members.selectors import current_membership


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


@admin.register(DatasetSubset)
class DatasetSubsetAdmin(LicensingAdminMixin, admin.ModelAdmin):
    list_display = ("name", "dataset", "licence", "size_bytes")
    list_filter = ("dataset",)
    search_fields = ("name", "slug", "dataset__name", "licence__expression")
    list_select_related = ("dataset", "licence")
    autocomplete_fields = ("licence",)
