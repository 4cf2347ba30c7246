"""Staff, dataset admins and chairs must have MFA before they use their powers.

Every staff-only page (`/admin/`, including the dataset admins' pages, `/staff/`, and for staff the
API tokens page, since a staff token reads every submission) and every chair power (managing a
group, scheduling, editing or publishing a round, re-running checks, fix windows, running the review:
assignments, tie-break, votes, decisions on objections) sends a staff account or a chair without a
TOTP authenticator to set one up first. The API asks the same of staff tokens (submissions/api.py).
A staff account's session alone reads every unpublished submission, so a staff account without MFA
is sent to set it up on every page, not only the staff pages (an API call in its session gets a 403
in the API's error shape); only the account pages (sign-in, MFA set-up, sign-out), static files and
the health check stay open to it.
The one exception is explicit: in demo mode (DEMO_MODE=1) the seeded demo accounts (Person.is_demo)
may go without, so that the demo can be tried at once.
"""

import re

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect

from consortium.members.permissions import mfa_exempt_in_demo, user_has_mfa

# What a staff account without MFA may still reach: the account pages (MFA set-up, sign-out).
OPEN_WITHOUT_MFA = re.compile(r"^/(accounts/|static/|healthz$)")
CHAIR_POWERS = re.compile(
    r"^/(workinggroups/[^/]+/manage/"
    r"|rounds/[^/]+/(schedule|schedule/generate|edit|publish|unpublish)/"
    r"|submissions/\d+/(checks/\d+/rerun|fix-window)/"
    # running the review: assignments, the tie-break order, votes, decisions on objections
    r"|rounds/[^/]+/(review/assign|review/tie-break|votes/new)/"
    r"|objections/\d+/(decide|close)/"
    r"|votes/\d+/close/)"
)


def _holds_powers(user) -> bool:
    """Staff (dataset admins are staff too) or a chair of some group."""
    if user.is_staff:
        return True
    from workinggroups.permissions import chaired_groups

    return chaired_groups(user).exists()


def mfa_missing_for(request) -> bool:
    """Whether this request uses a power that needs MFA which the user has not set up."""
    user = request.user
    if not user.is_authenticated:
        return False
    path = request.path
    if user.is_staff:
        needs = not OPEN_WITHOUT_MFA.match(path)
    elif CHAIR_POWERS.match(path):
        needs = _holds_powers(user)
    else:
        return False
    return needs and not mfa_exempt_in_demo(user) and not user_has_mfa(user)


class StaffMfaRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if mfa_missing_for(request):
            if request.path.startswith("/api/"):
                detail = "Staff accounts need two-factor authentication: set it up at /accounts/2fa/ first."
                return JsonResponse({"detail": detail, "errors": {"authorization": detail}}, status=403)
            messages.warning(
                request,
                "Staff accounts and chair powers need two-factor authentication. Set it up here first.",
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)
