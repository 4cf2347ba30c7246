from django.contrib import admin
from django.http import HttpRequest, StreamingHttpResponse

from consortium.audit.models import AuditEvent
from consortium.common.csv_export import csv_lines


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = (
        "at",
        "actor_label",
        "action",
        "target_type",
        "target_label",
        "organisation",
        "ip_address",
    )
    list_filter = ("action", "target_type", ("at", admin.DateFieldListFilter), "organisation")
    search_fields = ("actor_label", "action", "target_label", "target_id", "reason")
    date_hierarchy = "at"
    list_select_related = ("organisation",)
    actions = ["export_csv"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_actions(self, request):
        # Keep the export even though "delete selected" is gone; the action needs view permission only.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Export selected events as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset):
        return audit_csv_response(queryset)

    def changelist_view(self, request, extra_context=None):
        # "Export all matching" without selecting: ?export=csv on the filtered list.
        if request.GET.get("export") == "csv":
            params = request.GET.copy()
            del params["export"]
            request.GET = params
            cl = self.get_changelist_instance(request)
            return audit_csv_response(cl.get_queryset(request))
        return super().changelist_view(request, extra_context)


def audit_csv_response(queryset) -> StreamingHttpResponse:
    header = ["at", "actor", "action", "target_type", "target_id", "target", "organisation", "ip", "reason"]

    def rows():
        yield header
        for e in queryset.select_related("organisation").iterator(chunk_size=2000):
            yield [
                e.at.isoformat(),
                e.actor_label,
                e.action,
                e.target_type,
                e.target_id,
                e.target_label,
                e.organisation.slug if e.organisation else "",
                e.ip_address or "",
                e.reason,
            ]

    response = StreamingHttpResponse(csv_lines(rows()), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    return response
