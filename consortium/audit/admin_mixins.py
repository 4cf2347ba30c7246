"""Admin changes are audited like any other change; admin writes that have a service go through it."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.forms.models import model_to_dict
from django.http import HttpResponseRedirect

from consortium.audit.client import client_address
from consortium.audit.services import audit_record
from consortium.common.admin_lists import ListAtScaleMixin


class ServiceRefused(Exception):
    """A service refused an admin write; carries the message the person sees."""


class ServiceWritesAdminMixin:
    """For admins whose save and delete call the services the pages use (so the audit log and the
    hooks see the change). `self.call(service, ...)` passes the actor and address; a refusal
    (ValidationError or PermissionDenied from the service) rolls the whole change back, inlines
    included, and is shown as an error message instead of a server error."""

    def call(self, request, service: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            return service(actor=request.user, ip_address=client_address(request), **kwargs)
        except ValidationError as exc:
            raise ServiceRefused(" ".join(exc.messages)) from exc
        except PermissionDenied as exc:
            raise ServiceRefused(str(exc) or "You may not do this.") from exc

    def _refused(self, request, exc: ServiceRefused) -> HttpResponseRedirect:
        # Inside the admin's own atomic block: nothing of this request is kept.
        transaction.set_rollback(True)
        self.message_user(request, f"Nothing changed: {exc}", messages.ERROR)  # type: ignore[attr-defined]
        return HttpResponseRedirect(request.get_full_path())

    def _changeform_view(self, request, object_id, form_url, extra_context):
        try:
            return super()._changeform_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
        except ServiceRefused as exc:
            return self._refused(request, exc)

    def _delete_view(self, request, object_id, extra_context):
        try:
            return super()._delete_view(request, object_id, extra_context)  # type: ignore[misc]
        except ServiceRefused as exc:
            return self._refused(request, exc)

    def delete_queryset(self, request, queryset):
        """The changelist's "delete selected": each row through delete_model, each in its own
        transaction, refusals reported."""
        for obj in queryset:
            try:
                with transaction.atomic():
                    self.delete_model(request, obj)  # type: ignore[attr-defined]
            except ServiceRefused as exc:
                self.message_user(request, f"{obj}: {exc}", messages.ERROR)  # type: ignore[attr-defined]


class AuditedAdminMixin(ListAtScaleMixin):
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

    def save_formset(self, request, form, formset, change):
        """Rows of an inline are audited like the object they belong to (deletions before they go)."""
        for row in [f.instance for f in formset.deleted_forms if f.instance.pk is not None]:
            self._audit_row(request, row, "deleted")
        super().save_formset(request, form, formset, change)  # type: ignore[misc]
        for row in formset.new_objects:
            self._audit_row(request, row, "created", {"fields": _plain(model_to_dict(row))})
        for row, fields in formset.changed_objects:
            self._audit_row(request, row, "changed", {"changed": {f: str(getattr(row, f, "")) for f in fields}})

    def _audit_row(self, request, row, verb: str, data: dict | None = None) -> None:
        audit_record(
            actor=request.user,
            action=f"{self.audit_area}.{row._meta.model_name}_{verb}",
            target=row,
            organisation=self._organisation_of(row),
            ip_address=client_address(request),
            data=data,
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
