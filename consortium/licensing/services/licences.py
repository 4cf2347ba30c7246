"""Writes of the licence catalogue."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from consortium.audit.services import audit_record
from consortium.licensing.models import (
    Licence,
)
from consortium.licensing.spdx import KNOWN_NAMES, InvalidExpression, catalogue_entries, normalise_expression
from consortium.members.models import User


@transaction.atomic
def licence_create(
    *,
    expression: str,
    name: str = "",
    url: str = "",
    text: str = "",
    attribution: bool = False,
    share_alike: bool = False,
    non_commercial: bool = False,
    members_only: bool = False,
    actor: User | None = None,
) -> Licence:
    try:
        normalised = normalise_expression(expression)
    except InvalidExpression as exc:
        raise ValidationError({"expression": str(exc)}) from exc
    if Licence.objects.filter(expression=normalised).exists():
        raise ValidationError({"expression": f"The catalogue already has {normalised}."})
    licence = Licence.objects.create(
        expression=normalised,
        name=name or KNOWN_NAMES.get(normalised, ""),
        url=url,
        text=text,
        attribution=attribution,
        share_alike=share_alike,
        non_commercial=non_commercial,
        members_only=members_only,
    )
    audit_record(actor=actor, action="licensing.licence_created", target=licence)
    return licence


def licence_catalogue_sync(*, licence_model: Any = Licence) -> int:
    """Adds the SPDX list shipped with license-expression to the catalogue; returns how many were new.

    Idempotent; existing entries (which admins may have refined) are left alone. Also used by the
    data migration with the historical model.
    """
    existing = set(licence_model.objects.values_list("expression", flat=True))
    new = [
        licence_model(
            expression=entry.key,
            name=KNOWN_NAMES.get(entry.key, ""),
            attribution=entry.attribution,
            share_alike=entry.share_alike,
            non_commercial=entry.non_commercial,
            from_spdx_list=True,
            is_deprecated=entry.is_deprecated,
        )
        for entry in catalogue_entries()
        if entry.key not in existing
    ]
    licence_model.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
    return len(new)
