"""Agreements and their versions in the admin: drafts, publication, diffs."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from consortium.audit.client import client_address
from consortium.licensing import selectors, services
from consortium.licensing.admin._shared import LicensingAdminMixin, _errors
from consortium.licensing.admin_forms import (
    AgreementVersionAdminForm,
    PublishVersionForm,
)
from consortium.licensing.diffs import diff_stats, text_diff
from consortium.licensing.models import (
    Agreement,
    AgreementVersion,
)


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
