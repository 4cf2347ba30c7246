"""Rounds for their managers: create, edit, schedule, generate, publish."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from consortium.audit.client import client_address
from workinggroups import forms, schedules, selectors, services
from workinggroups.models import (
    Round,
    WorkingGroup,
)
from workinggroups.views._shared import _error_text, _posted, _timeline, group_manager_required, round_manager_required


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
