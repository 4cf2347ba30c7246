"""What every licensing admin uses: the access rule, error text, the intermediate action page."""

import datetime as dt

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone

from consortium.audit.admin_mixins import AuditedAdminMixin
from consortium.licensing import permissions


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
