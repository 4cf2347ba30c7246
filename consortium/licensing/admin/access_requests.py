"""The queue of access requests in the admin: approve, reject, return."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from consortium.audit.client import client_address
from consortium.audit.models import AuditEvent
from consortium.licensing import exports, services
from consortium.licensing.access import access_decision
from consortium.licensing.admin._shared import DecisionMixin, LicensingAdminMixin, _end_of_day, _errors
from consortium.licensing.admin_forms import (
    DecisionForm,
)
from consortium.licensing.models import (
    AccessRequest,
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
