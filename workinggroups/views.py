"""Working group pages, chair management pages, rounds and calendar feeds. Thin views: validate,
call a service or selector, render or redirect."""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from consortium.audit.client import client_address
from consortium.members.permissions import is_staff_admin, person_of
from consortium.portal.pagination import paginate
from workinggroups import feeds, forms, permissions, schedules, selectors, services
from workinggroups.models import (
    CalendarFeed,
    GroupMembership,
    JoinRequest,
    MeetingSeries,
    Round,
    RoundRegistration,
    WorkingGroup,
)


def _posted(request: HttpRequest):
    """The POST data for a bound form (even when empty: a form of optional fields), else None."""
    return request.POST if request.method == "POST" else None


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _ics(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, max-age=300"
    return response


def _visible_group(request: HttpRequest, slug: str) -> WorkingGroup:
    group = selectors.group_for(request.user, slug)
    if group is None:
        raise Http404("No such working group.")
    return group


def group_manager_required(view):
    """Loads the group; only its chairs and co-chairs and staff admins pass."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, slug: str, *args, **kwargs):
        group = get_object_or_404(WorkingGroup, slug=slug)
        if not permissions.can_manage_group(request.user, group):
            raise PermissionDenied("Only the group's chairs and staff manage it.")
        return view(request, group, *args, **kwargs)

    return wrapper


def round_manager_required(view):
    """Loads the round; only the chairs of its group and staff admins pass."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, slug: str, *args, **kwargs):
        round = get_object_or_404(Round.objects.select_related("group"), slug=slug)
        if not permissions.can_schedule_round(request.user, round.group):
            raise PermissionDenied("Only the chairs of the round's group and staff schedule it.")
        return view(request, round, *args, **kwargs)

    return wrapper


# ---------------------------------------------------------------------------------------------
# Groups


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


# ---------------------------------------------------------------------------------------------
# Chair management: settings, members, join requests


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


# ---------------------------------------------------------------------------------------------
# Chair management: meetings


@group_manager_required
def meetings(request: HttpRequest, group: WorkingGroup) -> HttpResponse:
    form = forms.MeetingSeriesForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            series = services.meeting_series_create(
                group=group, actor=request.user, ip_address=client_address(request), **form.cleaned_data
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, f"The meeting series {series.title} was created.")
            return redirect("workinggroups:meetings", slug=group.slug)
    return render(
        request,
        "workinggroups/meetings.html",
        {
            "group": group,
            "series_list": group.meeting_series.all(),
            "upcoming": selectors.group_upcoming_meetings(group, limit=12),
            "form": form,
            "rrule_examples": schedules.RRULE_EXAMPLES,
            "section": "meetings",
        },
        status=400 if request.method == "POST" else 200,
    )


@group_manager_required
def meeting_edit(request: HttpRequest, group: WorkingGroup, series_id: int) -> HttpResponse:
    series = get_object_or_404(MeetingSeries, pk=series_id, group=group)
    form = forms.MeetingSeriesForm(_posted(request), instance=MeetingSeries.objects.get(pk=series.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_series_update(
                series=series, actor=request.user, ip_address=client_address(request), **form.cleaned_data
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, f"The meeting series {series.title} was updated.")
            return redirect("workinggroups:meetings", slug=group.slug)
    now = timezone.now()
    return render(
        request,
        "workinggroups/meeting_edit.html",
        {
            "group": group,
            "series": series,
            "form": form,
            "meetings": selectors.series_meetings(
                series, after=now - dt.timedelta(days=60), before=now + dt.timedelta(days=120)
            ),
            "rrule_examples": schedules.RRULE_EXAMPLES,
            "section": "meetings",
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@group_manager_required
def meeting_delete(request: HttpRequest, group: WorkingGroup, series_id: int) -> HttpResponse:
    series = get_object_or_404(MeetingSeries, pk=series_id, group=group)
    services.meeting_series_delete(series=series, actor=request.user, ip_address=client_address(request))
    messages.success(request, f"The meeting series {series.title} was deleted.")
    return redirect("workinggroups:meetings", slug=group.slug)


@group_manager_required
def occurrence_edit(request: HttpRequest, group: WorkingGroup, series_id: int, key: str) -> HttpResponse:
    series = get_object_or_404(MeetingSeries, pk=series_id, group=group)
    original = selectors.parse_occurrence_key(key)
    if original is None or not schedules.is_occurrence(
        series.rrule,
        original,
        starts_on=series.starts_on,
        start_time=series.start_time,
        time_zone=series.time_zone,
        ends_on=series.ends_on,
    ):
        raise Http404("The series has no meeting at that time.")
    override = series.occurrences.filter(original_start=original).first()
    with timezone.override(schedules.zone(series.time_zone)):
        initial = (
            {
                "agenda": override.agenda,
                "minutes": override.minutes,
                "cancelled": override.cancelled,
                "moved_to": override.moved_to,
            }
            if override
            else {}
        )
        form = forms.OccurrenceForm(_posted(request), initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                services.meeting_occurrence_update(
                    series=series,
                    original_start=original,
                    actor=request.user,
                    ip_address=client_address(request),
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                forms.add_service_errors(form, exc)
            else:
                messages.success(request, "The meeting was updated.")
                return redirect("workinggroups:meeting_edit", slug=group.slug, series_id=series.pk)
        return render(
            request,
            "workinggroups/occurrence_edit.html",
            {
                "group": group,
                "series": series,
                "original": original.astimezone(schedules.zone(series.time_zone)),
                "form": form,
                "section": "meetings",
            },
            status=400 if request.method == "POST" else 200,
        )


# ---------------------------------------------------------------------------------------------
# Rounds: chairs


@group_manager_required
def group_rounds(request: HttpRequest, group: WorkingGroup) -> HttpResponse:
    rounds = selectors.group_rounds(group, request.user)
    return render(
        request,
        "workinggroups/group_rounds.html",
        {"group": group, "rounds": [(r, selectors.round_status(r)) for r in rounds], "section": "rounds"},
    )


@group_manager_required
def round_create(request: HttpRequest, group: WorkingGroup) -> HttpResponse:
    form = forms.RoundCreateForm(_posted(request), instance=Round(group=group))
    if request.method == "POST" and form.is_valid():
        try:
            round = services.round_create(
                group=group,
                actor=request.user,
                deadline=form.cleaned_data.get("deadline"),
                ip_address=client_address(request),
                **form.round_fields(),
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc, {"benchmarks": "benchmarks_text"})
        else:
            messages.success(request, f"{round} was created. Check its timeline, then publish it.")
            return redirect("workinggroups:round_schedule", slug=round.slug)
    return render(
        request,
        "workinggroups/round_form.html",
        {"group": group, "form": form, "creating": True, "section": "rounds"},
        status=400 if request.method == "POST" else 200,
    )


@round_manager_required
def round_edit(request: HttpRequest, round: Round) -> HttpResponse:
    form = forms.RoundForm(_posted(request), instance=Round.objects.get(pk=round.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.round_update(
                round=round, actor=request.user, ip_address=client_address(request), **form.round_fields()
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc, {"benchmarks": "benchmarks_text"})
        else:
            messages.success(request, f"{round} was updated.")
            return redirect("workinggroups:round_schedule", slug=form.instance.slug)
    return render(
        request,
        "workinggroups/round_form.html",
        {"group": round.group, "round": round, "form": form, "creating": False, "section": "rounds"},
        status=400 if request.method == "POST" else 200,
    )


def _timeline(round: Round, now: dt.datetime) -> dict:
    """Positions (in %) of the phases on a bar from the first start to the publication."""
    phases = selectors.round_phases(round)
    if not phases:
        return {"rows": [], "now": None}
    first = min(p.starts_at for p in phases)
    last = max(p.closes_at for p in phases)
    total = max((last - first).total_seconds(), 1)

    def pct(moment: dt.datetime) -> float:
        return round_half(100 * (moment - first).total_seconds() / total)

    rows = []
    current = selectors.round_current_phase(round, now)
    for phase in phases:
        left = pct(phase.starts_at)
        width = max(pct(phase.closes_at) - left, 0.8)
        rows.append({"phase": phase, "left": left, "width": min(width, 100 - left + 0.8), "current": phase == current})
    return {"rows": rows, "now": pct(now) if first <= now <= last else None}


def round_half(value: float) -> float:
    return float(f"{value:.2f}")


@round_manager_required
def round_schedule(request: HttpRequest, round: Round) -> HttpResponse:
    """The chair's timeline: generate from a deadline, adjust each phase, publish."""
    tz = round.tz
    with timezone.override(tz):
        phases = selectors.round_phases(round)
        adjust_form = forms.PhaseAdjustForm(_posted(request), phases=phases, prefix="phase")
        if request.method == "POST" and adjust_form.is_valid():
            try:
                moved = services.round_phases_adjust(
                    round=round,
                    times=adjust_form.times(),
                    actor=request.user,
                    ip_address=client_address(request),
                )
            except ValidationError as exc:
                forms.add_service_errors(adjust_form, exc, {k: f"{k}_start" for k in schedules.PHASE_KINDS})
            else:
                labels = ", ".join(schedules.PHASE_LABELS[k].lower() for k in moved) or "nothing"
                messages.success(request, f"Schedule saved; moved: {labels}.")
                return redirect("workinggroups:round_schedule", slug=round.slug)
        deadline = selectors.round_deadline(round)
        generate_form = forms.GenerateForm(
            prefix="generate",
            initial={"deadline": deadline.astimezone(tz).date() if deadline else None},
        )
        return render(
            request,
            "workinggroups/round_schedule.html",
            {
                "round": round,
                "group": round.group,
                "phases": phases,
                "timeline": _timeline(round, timezone.now()),
                "adjust_form": adjust_form,
                "generate_form": generate_form,
                "status": selectors.round_status(round),
                "registrations": selectors.round_registrations(round),
                "section": "rounds",
            },
            status=400 if request.method == "POST" else 200,
        )


@require_POST
@round_manager_required
def round_generate(request: HttpRequest, round: Round) -> HttpResponse:
    form = forms.GenerateForm(request.POST, prefix="generate")
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("workinggroups:round_schedule", slug=round.slug)
    try:
        services.round_schedule_generate(
            round=round,
            deadline=form.cleaned_data["deadline"],
            deadline_time=form.cleaned_data["deadline_time"],
            actor=request.user,
            ip_address=client_address(request),
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(
            request,
            f"The phases were generated from the deadline {form.cleaned_data['deadline']:%a %d %b %Y}.",
        )
    return redirect("workinggroups:round_schedule", slug=round.slug)


@require_POST
@round_manager_required
def round_publish(request: HttpRequest, round: Round) -> HttpResponse:
    try:
        services.round_publish(round=round, actor=request.user, ip_address=client_address(request))
    except ValidationError as exc:
        messages.error(request, "Not published: " + _error_text(exc))
        return redirect("workinggroups:round_schedule", slug=round.slug)
    messages.success(request, f"The schedule of {round} is published.")
    return redirect("workinggroups:round_detail", slug=round.slug)


@require_POST
@round_manager_required
def round_unpublish(request: HttpRequest, round: Round) -> HttpResponse:
    try:
        services.round_unpublish(round=round, actor=request.user, ip_address=client_address(request))
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, f"The schedule of {round} is no longer public.")
    return redirect("workinggroups:round_schedule", slug=round.slug)


# ---------------------------------------------------------------------------------------------
# Rounds: everyone


def round_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    page = paginate(request, selectors.rounds_by_deadline(request.user))
    rows = [
        {
            "round": r,
            "status": selectors.round_status(r, now),
            "deadline": selectors.round_deadline(r),
            "publication": selectors.round_phase(r, schedules.PUBLICATION),
        }
        for r in page
    ]
    return render(request, "workinggroups/round_list.html", {"rows": rows, "page": page})


def _visible_round(request: HttpRequest, slug: str) -> Round:
    round = selectors.round_for(request.user, slug)
    if round is None:
        raise Http404("No such round.")
    return round


def round_detail(request: HttpRequest, slug: str) -> HttpResponse:
    round = _visible_round(request, slug)
    user = request.user
    person = person_of(user)
    organisation = person.organisation if person and person.is_approved_member else None
    now = timezone.now()
    with timezone.override(round.tz):
        return render(
            request,
            "workinggroups/round_detail.html",
            {
                "round": round,
                "group": round.group,
                "group_visible": permissions.can_view_group(user, round.group),
                "phases": selectors.round_phases(round),
                "timeline": _timeline(round, now),
                "status": selectors.round_status(round, now),
                "current": selectors.round_current_phase(round, now),
                "deadline": selectors.round_deadline(round),
                "deadline_with_grace": selectors.round_deadline_with_grace(round),
                "window_open": selectors.round_submission_window_open(round, now),
                "registration_open": selectors.round_registration_open(round, now),
                "can_schedule": permissions.can_schedule_round(user, round.group),
                "can_register": permissions.can_register_for_rounds(user, organisation),
                "registration": selectors.round_registration_of(round, organisation),
                "registrations": selectors.round_registrations(round)
                if permissions.can_schedule_round(user, round.group)
                else None,
            },
        )


def round_calendar(request: HttpRequest, slug: str) -> HttpResponse:
    round = _visible_round(request, slug)
    return _ics(feeds.round_feed(round), f"{round.slug}.ics")


@login_required
def round_register(request: HttpRequest, slug: str) -> HttpResponse:
    round = _visible_round(request, slug)
    person = person_of(request.user)
    organisation = person.organisation if person and person.is_approved_member else None
    if not permissions.can_register_for_rounds(request.user, organisation):
        raise PermissionDenied("Only primary contacts and submitters of a member organisation register it.")
    registration = selectors.round_registration_of(round, organisation)
    submitters = selectors.organisation_submitters(organisation)
    initial = {"contacts": list(registration.contacts.all())} if registration else {}
    form = forms.RegistrationForm(_posted(request), submitters=submitters, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.round_register(
                round=round,
                organisation=organisation,
                contacts=form.cleaned_data["contacts"],
                actor=request.user,
                ip_address=client_address(request),
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, f"{organisation} is registered for {round}.")
            return redirect("workinggroups:round_detail", slug=round.slug)
    with timezone.override(round.tz):
        return render(
            request,
            "workinggroups/round_register.html",
            {
                "round": round,
                "organisation": organisation,
                "registration": registration,
                "form": form,
                "eligibility": selectors.organisation_submit_eligibility(organisation),
                "registration_open": selectors.round_registration_open(round),
                "registration_phase": selectors.round_phase(round, schedules.REGISTRATION),
                "has_submitters": submitters.exists(),
            },
            status=400 if request.method == "POST" else 200,
        )


@require_POST
@login_required
def round_registration_withdraw(request: HttpRequest, slug: str) -> HttpResponse:
    round = _visible_round(request, slug)
    person = person_of(request.user)
    organisation = person.organisation if person and person.is_approved_member else None
    registration = get_object_or_404(RoundRegistration, round=round, organisation=organisation)
    try:
        services.round_registration_withdraw(
            registration=registration, actor=request.user, ip_address=client_address(request)
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, f"{organisation}'s registration for {round} was withdrawn.")
    return redirect("workinggroups:round_detail", slug=round.slug)


# ---------------------------------------------------------------------------------------------
# Personal calendar


@login_required
def my_calendar(request: HttpRequest) -> HttpResponse:
    person = person_of(request.user)
    if person is None:
        raise Http404("Complete your profile first.")
    feed = services.calendar_feed_get_or_create(person=person)
    url = request.build_absolute_uri(reverse("workinggroups:personal_calendar", kwargs={"token": feed.token}))
    return render(
        request,
        "workinggroups/my_calendar.html",
        {
            "feed": feed,
            "feed_url": url,
            # webcal: opens the subscription in the calendar app (Apple Calendar, Outlook, Thunderbird).
            "webcal_url": "webcal://" + url.split("://", 1)[1],
            "groups": selectors.person_groups(person),
            "staff": is_staff_admin(request.user),
        },
    )


@require_POST
@login_required
def my_calendar_reset(request: HttpRequest) -> HttpResponse:
    person = person_of(request.user)
    if person is None:
        raise Http404("Complete your profile first.")
    services.calendar_feed_reset(person=person, actor=request.user, ip_address=client_address(request))
    messages.success(request, "Your calendar has a new secret address; the old one no longer works.")
    return redirect("workinggroups:my_calendar")


def personal_calendar(request: HttpRequest, token: str) -> HttpResponse:
    """The secret feed: no login (calendar apps cannot log in); the token is the key."""
    feed = CalendarFeed.objects.select_related("person").filter(token=token).first()
    if feed is None:
        raise Http404("Unknown calendar address; it may have been reset.")
    return _ics(feeds.person_feed(feed.person), "my-working-groups.ics")
