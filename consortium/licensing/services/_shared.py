"""What every licensing service module uses: state names, mail, the admin check."""

from django.core.exceptions import PermissionDenied

from consortium.licensing import notices, permissions
from consortium.licensing.models import (
    AccessRequest,
    Grant,
)
from consortium.members.models import User

RequestState = AccessRequest.State
GrantState = Grant.State
Cause = Grant.SuspensionCause


def _mail(*, key: str, about: str, recipients: list[str], subject: str, body: str) -> int:
    return notices.send(key=key, about=about, recipients=recipients, subject=subject, body=body)


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _require_admin(actor: User) -> None:
    if not permissions.can_administer_licensing(actor):
        raise PermissionDenied("Only dataset admins and staff may do this.")
