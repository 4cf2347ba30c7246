"""Writing to the audit log. Call inside the transaction of the change it records."""

from typing import Any

from django.db import models

from consortium.audit.models import AuditEvent


def audit_record(
    *,
    actor: Any | None,
    action: str,
    target: models.Model | None = None,
    organisation: Any | None = None,
    ip_address: str | None = None,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. `actor` is a user or None for the system (beat tasks, seeding)."""
    actor_user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
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
