"""Writing to the audit log. Call inside the transaction of the change it records."""

from typing import TYPE_CHECKING, Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models

from consortium.audit.models import AuditEvent

if TYPE_CHECKING:
    # The audit log sits below members: it names the user model through django-stubs' placeholder
    # (the plugin reads AUTH_USER_MODEL) and the organisation for the type checker only.
    from django.contrib.auth.models import _AnyUser

    from consortium.members.models import Organisation


def audit_record(
    *,
    actor: "_AnyUser | None",
    action: str,
    target: models.Model | None = None,
    organisation: "Organisation | None" = None,
    ip_address: str | None = None,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. `actor` is a user or None for the system (beat tasks, seeding)."""
    actor_user = actor if isinstance(actor, AbstractBaseUser) else None  # an account, not anonymous or the system
    event = AuditEvent(
        actor=actor_user,
        actor_label=actor_user.email if actor_user else "system",
        action=action,
        organisation=organisation,
        ip_address=ip_address or None,
        reason=reason,
        data=data or {},
    )
    if target is not None:
        event.target_type = target._meta.label_lower
        event.target_id = str(target.pk)
        event.target_label = str(target)[:255]
    event.save()
    return event
