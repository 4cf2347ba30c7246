"""Grants in the admin: direct grants, revoke, extend, suspend, reinstate, explain."""

import datetime as dt

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from consortium.audit.client import client_address
from consortium.common.models import OutgoingMail
from consortium.licensing import exports, services
from consortium.licensing.admin._shared import DecisionMixin, LicensingAdminMixin, _end_of_day, _errors
from consortium.licensing.admin_forms import (
    ExtendForm,
    GrantAddForm,
    RevokeForm,
)
from consortium.licensing.models import (
    Grant,
)


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
