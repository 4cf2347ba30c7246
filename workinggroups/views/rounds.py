"""Rounds for everyone: list, detail, calendar, registration."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from consortium.audit.client import client_address
from consortium.members.permissions import person_of
from consortium.portal.pagination import paginate
from workinggroups import feeds, forms, permissions, schedules, selectors, services
from workinggroups.models import (
    Round,
    RoundRegistration,
)
from workinggroups.views._shared import _error_text, _ics, _posted, _timeline


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
