"""Staff must have MFA before they can use the admin."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect

from consortium.members.permissions import person_of


def user_has_mfa(user) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def staff_must_enrol_mfa(user) -> bool:
    if not (user.is_authenticated and user.is_staff):
        return False
    person = person_of(user)
    if settings.DEMO_MODE and person is not None and person.is_demo:
        return False
    return not user_has_mfa(user)


class StaffMfaRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/admin/") and staff_must_enrol_mfa(request.user):
            messages.warning(
                request,
                "Staff accounts need two-factor authentication before using the admin. Set it up here.",
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)
