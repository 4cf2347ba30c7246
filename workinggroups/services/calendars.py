"""Personal calendar feeds."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone

from consortium.audit.services import audit_record
from consortium.members.models import Person, User
from workinggroups.models import (
    CalendarFeed,
)


@transaction.atomic
def calendar_feed_get_or_create(*, person: Person) -> CalendarFeed:
    feed = CalendarFeed.objects.select_for_update().filter(person=person).first()
    if feed is None:
        feed = CalendarFeed.objects.create(person=person, token=secrets.token_urlsafe(32))
    return feed


@transaction.atomic
def calendar_feed_reset(*, person: Person, actor: User, ip_address: str | None = None) -> CalendarFeed:
    """A new secret address; the old one stops working at once."""
    feed = calendar_feed_get_or_create(person=person)
    feed.token, feed.created_at = secrets.token_urlsafe(32), timezone.now()
    feed.save(update_fields=["token", "created_at"])
    audit_record(actor=actor, action="workinggroups.calendar_feed_reset", target=feed, ip_address=ip_address)
    return feed
