from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from consortium.members.permissions import person_of
from consortium.portal.health import health_report
from consortium.portal.selectors import attention_items
from consortium.portal.tour import tours_for


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    person = person_of(request.user)
    return render(
        request,
        "portal/dashboard.html",
        {"items": attention_items(request.user), "person": person, "tours": tours_for(request.user)},
    )


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name no icon; the static URL is looked up per
    request (the manifest of hashed names exists only after collectstatic)."""
    return HttpResponsePermanentRedirect(static("portal/favicon.svg"))


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)
