"""Signature records in the admin (read-only)."""

from django.contrib import admin

from consortium.licensing import exports
from consortium.licensing.admin._shared import LicensingAdminMixin
from consortium.licensing.models import (
    Acceptance,
)


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
