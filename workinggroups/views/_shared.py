"""What the working group views share: form input, error text, calendar responses, access decorators,
the round timeline."""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from workinggroups import permissions, selectors
from workinggroups.models import (
    Round,
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
