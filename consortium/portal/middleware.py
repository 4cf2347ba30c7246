"""Staff, dataset admins and chairs must have MFA before they use their powers.

Every staff-only page (`/admin/`, including the dataset admins' pages, `/staff/`, and for staff the
API tokens page, since a staff token reads every submission) and every chair power (managing a
group, scheduling, editing or publishing a round, re-running checks, fix windows, running the review:
assignments, tie-break, votes, decisions on objections) sends a staff account or a chair without a
TOTP authenticator to set one up first. The API asks the same of staff tokens (submissions/api.py).
The one exception is explicit: in demo mode (DEMO_MODE=1) the seeded demo accounts (Person.is_demo)
may go without, so that the demo can be tried at once.
"""

import re

from django.contrib import messages
from django.shortcuts import redirect

from consortium.members.permissions import mfa_exempt_in_demo, user_has_mfa

# Staff pages, and the API tokens page for staff (a staff token reads every submission).
STAFF_ONLY = re.compile(r"^/(admin/|staff/|account/api-tokens/)")
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
    if STAFF_ONLY.match(path):
        needs = user.is_staff
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
            messages.warning(
                request,
                "Staff pages and chair powers need two-factor authentication. Set it up here first.",
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)
