"""Working group pages for everyone: list, detail, calendar, join, leave."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from consortium.audit.client import client_address
from consortium.members.permissions import person_of
from consortium.portal.pagination import paginate
from workinggroups import feeds, forms, permissions, selectors, services
from workinggroups.models import (
    JoinRequest,
    WorkingGroup,
)
from workinggroups.views._shared import _error_text, _ics, _posted, _visible_group


def group_list(request: HttpRequest) -> HttpResponse:
    groups = list(selectors.groups_visible_to(request.user))
    return render(
        request,
        "workinggroups/group_list.html",
        {
            "groups": groups,
            "areas": WorkingGroup.Area,
            "chaired": set(permissions.chaired_groups(request.user).values_list("pk", flat=True)),
        },
    )


def group_detail(request: HttpRequest, slug: str) -> HttpResponse:
    group = _visible_group(request, slug)
    user = request.user
    return render(
        request,
        "workinggroups/group_detail.html",
        {
            "group": group,
            "chairs": selectors.group_chairs(group),
            "members": paginate(request, selectors.group_members(group))
            if permissions.can_view_group_members(user, group)
            else None,
            "upcoming": selectors.group_upcoming_meetings(group),
            "recent": selectors.group_recent_meetings(group),
            "rounds": selectors.group_rounds(group, user),
            "can_manage": permissions.can_manage_group(user, group),
            "my_membership": selectors.group_membership_of(group, user),
            "my_request": selectors.latest_join_request(group, user),
            "can_request": permissions.can_request_to_join(user, group),
            "deciders": selectors.join_deciders(group),
        },
    )


def group_calendar(request: HttpRequest, slug: str) -> HttpResponse:
    group = _visible_group(request, slug)
    return _ics(feeds.group_feed(group), f"{group.slug}.ics")


@login_required
def group_join(request: HttpRequest, slug: str) -> HttpResponse:
    group = _visible_group(request, slug)
    form = forms.JoinRequestForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.join_request_create(
                group=group,
                actor=request.user,
                message=form.cleaned_data["message"],
                ip_address=client_address(request),
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            deciders = selectors.join_deciders(group)
            messages.success(request, f"You asked to join {group}. {deciders[0].upper()}{deciders[1:]} will decide; "
                             "you will get an email.")  # fmt: skip
            return redirect("workinggroups:group_detail", slug=group.slug)
    return render(
        request,
        "workinggroups/group_join.html",
        {
            "group": group,
            "form": form,
            "can_request": permissions.can_request_to_join(request.user, group),
            "my_membership": selectors.group_membership_of(group, request.user),
            "my_request": selectors.latest_join_request(group, request.user),
            "is_member_of_consortium": permissions.is_consortium_member(request.user),
            "deciders": selectors.join_deciders(group),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@login_required
def join_request_withdraw(request: HttpRequest, slug: str, request_id: int) -> HttpResponse:
    person = person_of(request.user)
    join_request = get_object_or_404(JoinRequest, pk=request_id, group__slug=slug, person=person)
    try:
        services.join_request_withdraw(
            join_request=join_request, actor=request.user, ip_address=client_address(request)
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, "You withdrew your request.")
    return redirect("workinggroups:group_detail", slug=slug)


@require_POST
@login_required
def group_leave(request: HttpRequest, slug: str) -> HttpResponse:
    group = _visible_group(request, slug)
    membership = selectors.group_membership_of(group, request.user)
    if membership is None:
        raise Http404("You are not in this group.")
    try:
        services.group_member_remove(membership=membership, actor=request.user, ip_address=client_address(request))
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, f"You left {group}.")
    return redirect("workinggroups:group_detail", slug=slug)
