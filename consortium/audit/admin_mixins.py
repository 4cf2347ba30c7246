"""Admin changes are audited like any other change."""

from django.forms.models import model_to_dict

from consortium.audit.client import client_address
from consortium.audit.services import audit_record


class AuditedAdminMixin:
    audit_area = "admin"

    def _organisation_of(self, obj):
        return getattr(obj, "organisation", None) if hasattr(obj, "organisation_id") else None

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        changed = {f: str(form.cleaned_data.get(f)) for f in form.changed_data} if change else {}
        audit_record(
            actor=request.user,
            action=f"{self.audit_area}.{obj._meta.model_name}_{'changed' if change else 'created'}",
            target=obj,
            organisation=self._organisation_of(obj),
            ip_address=client_address(request),
            data={"changed": changed} if change else {"fields": _plain(model_to_dict(obj))},
        )

    def delete_model(self, request, obj):
        audit_record(
            actor=request.user,
            action=f"{self.audit_area}.{obj._meta.model_name}_deleted",
            target=obj,
            organisation=self._organisation_of(obj),
            ip_address=client_address(request),
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


def _plain(data: dict) -> dict:
    return {k: v if isinstance(v, (str, int, float, bool, type(None))) else str(v) for k, v in data.items()}
