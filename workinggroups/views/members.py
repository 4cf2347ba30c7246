"""Chair management of a group: settings, members, join requests."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from consortium.audit.client import client_address
from consortium.portal.pagination import paginate
from workinggroups import forms, selectors, services
from workinggroups.models import (
    GroupMembership,
    JoinRequest,
    WorkingGroup,
)
from workinggroups.views._shared import _error_text, _posted, group_manager_required


@group_manager_required
def group_edit(request: HttpRequest, group: WorkingGroup) -> HttpResponse:
    form = forms.GroupSettingsForm(_posted(request), instance=WorkingGroup.objects.get(pk=group.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.group_update(
                group=group, actor=request.user, ip_address=client_address(request), **form.cleaned_data
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, f"{group} was updated.")
            return redirect("workinggroups:group_detail", slug=group.slug)
    return render(
        request,
        "workinggroups/group_edit.html",
        {"group": group, "form": form, "section": "settings"},
        status=400 if request.method == "POST" else 200,
    )


@group_manager_required
def group_members(request: HttpRequest, group: WorkingGroup) -> HttpResponse:
    add_form = forms.MemberAddForm(_posted(request), prefix="add")
    if request.method == "POST" and add_form.is_valid():
        try:
            services.group_member_add(
                group=group,
                person=add_form.person,
                role=add_form.cleaned_data["role"],
                actor=request.user,
                ip_address=client_address(request),
            )
        except (ValidationError, PermissionDenied) as exc:
            add_form.add_error(None, _error_text(exc) if isinstance(exc, ValidationError) else str(exc))
        else:
            messages.success(request, f"{add_form.person} was added to {group}.")
            return redirect("workinggroups:group_members", slug=group.slug)
    return render(
        request,
        "workinggroups/group_members.html",
        {
            "group": group,
            "members": paginate(request, selectors.group_members(group)),
            "add_form": add_form,
            "role_choices": GroupMembership.Role.choices,
            "open_requests": selectors.group_open_join_requests(group).count(),
            "section": "members",
        },
        status=400 if request.method == "POST" else 200,
    )


def _member_action(request: HttpRequest, group: WorkingGroup, action, success: str) -> HttpResponse:
    try:
        action()
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success)
    return redirect("workinggroups:group_members", slug=group.slug)


@require_POST
@group_manager_required
def member_role(request: HttpRequest, group: WorkingGroup, membership_id: int) -> HttpResponse:
    membership = get_object_or_404(GroupMembership.objects.select_related("person"), pk=membership_id, group=group)
    form = forms.MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the listed roles.")
        return redirect("workinggroups:group_members", slug=group.slug)
    role = form.cleaned_data["role"]
    return _member_action(
        request,
        group,
        lambda: services.group_member_set_role(
            membership=membership, role=role, actor=request.user, ip_address=client_address(request)
        ),
        f"{membership.person} is now {GroupMembership.Role(role).label.lower()}.",
    )


@require_POST
@group_manager_required
def member_remove(request: HttpRequest, group: WorkingGroup, membership_id: int) -> HttpResponse:
    membership = get_object_or_404(GroupMembership.objects.select_related("person"), pk=membership_id, group=group)
    form = forms.ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _member_action(
        request,
        group,
        lambda: services.group_member_remove(
            membership=membership, actor=request.user, reason=reason, ip_address=client_address(request)
        ),
        f"{membership.person} was removed from {group}.",
    )


@group_manager_required
def join_requests(request: HttpRequest, group: WorkingGroup) -> HttpResponse:
    return render(
        request,
        "workinggroups/join_requests.html",
        {
            "group": group,
            "open_requests": paginate(request, selectors.group_open_join_requests(group)),
            "decided": paginate(request, selectors.group_decided_join_requests(group), param="decided_page"),
            "approve_form": forms.ApproveForm(),
            "cooldown_days": services.join_cooldown().days,
            "section": "requests",
        },
    )


@require_POST
@group_manager_required
def join_request_decide(request: HttpRequest, group: WorkingGroup, request_id: int, decision: str) -> HttpResponse:
    join_request = get_object_or_404(JoinRequest.objects.select_related("person"), pk=request_id, group=group)
    try:
        if decision == "approve":
            form = forms.ApproveForm(request.POST)
            role = form.cleaned_data["role"] if form.is_valid() else GroupMembership.Role.MEMBER
            services.join_request_approve(
                join_request=join_request, actor=request.user, role=role, ip_address=client_address(request)
            )
            messages.success(request, f"{join_request.person} is now in {group}; they were told by email.")
        elif decision == "decline":
            form = forms.DeclineForm(request.POST)
            if not form.is_valid():
                messages.error(request, " ".join(form.errors.get("reason", ["Give a reason."])))
                return redirect("workinggroups:join_requests", slug=group.slug)
            services.join_request_decline(
                join_request=join_request,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                ip_address=client_address(request),
            )
            messages.success(request, f"You declined {join_request.person}'s request; they were told by email.")
        else:
            raise Http404("Unknown decision.")
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    return redirect("workinggroups:join_requests", slug=group.slug)
