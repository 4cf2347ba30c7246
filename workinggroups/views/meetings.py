"""Chair management of a group's meetings: series and single occurrences."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from consortium.audit.client import client_address
from workinggroups import forms, schedules, selectors, services
from workinggroups.models import (
    MeetingSeries,
    WorkingGroup,
)
from workinggroups.views._shared import _posted, group_manager_required


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
