"""A person's own calendar and its private feed."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from consortium.audit.client import client_address
from consortium.members.permissions import is_staff_admin, person_of
from workinggroups import feeds, selectors, services
from workinggroups.models import (
    CalendarFeed,
)
from workinggroups.views._shared import _ics


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
