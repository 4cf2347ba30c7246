"""Personal API tokens: a person creates (shown once), lists and revokes their own."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from consortium.audit.client import client_address
from submissions import services
from submissions.models import ApiToken


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        label="Name",
        help_text="What uses the token, e.g. the build machine or script, so you recognise it later.",
    )


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """The person's tokens; a POST creates one and shows it this once (never stored in clear)."""
    form = ApiTokenForm(request.POST or None)
    created: tuple[ApiToken, str] | None = None
    if request.method == "POST" and form.is_valid():
        try:
            created = services.api_token_create(
                user=request.user, name=form.cleaned_data["name"], ip_address=client_address(request)
            )
        except ValidationError as exc:
            form.add_error("name" if hasattr(exc, "error_dict") and "name" in exc.error_dict else None, exc)
        else:
            form = ApiTokenForm()
    context = {
        "form": form,
        "tokens": ApiToken.objects.filter(user=request.user).order_by("-created_at"),
        "created": created[0] if created else None,
        "raw_token": created[1] if created else None,
        "api_base": request.build_absolute_uri(reverse("api:rounds")).removesuffix("/v1/rounds"),
    }
    response = render(request, "submissions/tokens.html", context)
    if created:
        response["Cache-Control"] = "no-store"  # the page holds the token in clear: no cache may keep it
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)  # others' tokens do not exist here
    was_active = token.is_active
    services.api_token_revoke(token=token, actor=request.user, ip_address=client_address(request))
    if was_active:
        messages.success(request, f"Token “{token.name}” ({token.prefix}…) revoked; it no longer works.")
    else:
        messages.info(request, f"Token “{token.name}” was already revoked.")
    return redirect("submissions:tokens")
