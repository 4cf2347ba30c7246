"""What the working group services share: role names, links, mail, the manager check, dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.utils import timezone

from consortium.common.mail import mail_enqueue, site_link
from consortium.members.models import User
from workinggroups import permissions
from workinggroups.models import (
    GroupMembership,
    WorkingGroup,
)

Role = GroupMembership.Role


def _link(name: str, **kwargs: Any) -> str:
    return site_link(f"workinggroups:{name}", **kwargs)


def _mail(*, key: str, subject: str, template: str, context: dict[str, Any], recipients: list[str]) -> int:
    """Queues the mail in the outbox (sent after commit, once per key and recipient)."""
    if not recipients:
        return 0
    return mail_enqueue(
        key=key, subject=subject, body=render_to_string(template, context), recipients=recipients, about=key
    )


def _require_manager(actor: User, group: WorkingGroup) -> None:
    if not permissions.can_manage_group(actor, group):
        raise PermissionDenied(f"Only the chairs of {group} and staff may do this.")


def _date(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%d %b %Y}"
