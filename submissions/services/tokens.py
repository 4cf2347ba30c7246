"""API tokens: created, revoked, and the one lookup that authenticates them."""

from __future__ import annotations

import hashlib
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from consortium.audit.services import audit_record
from consortium.members.models import User
from submissions.models import (
    ApiToken,
)

# ---------------------------------------------------------------- API tokens


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user: User, name: str, ip_address: str | None = None) -> tuple[ApiToken, str]:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. the machine or script that uses it."})
    raw = "cpt_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name[:100], prefix=raw[:12], token_hash=_token_hash(raw))
    audit_record(actor=user, action="api.token_created", target=token, ip_address=ip_address)
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User, ip_address: str | None = None) -> ApiToken:
    if token.user_id != actor.pk:
        raise PermissionDenied("You can only revoke your own tokens.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="api.token_revoked", target=token, ip_address=ip_address)
    return token


def api_token_authenticate(raw: str) -> User | None:
    token = ApiToken.objects.select_related("user").filter(token_hash=_token_hash(raw), revoked_at=None).first()
    if token is None or not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user
