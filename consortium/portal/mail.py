"""The portal's outgoing mail and absolute links, shared by every app."""

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse


def site_link(path_or_name: str, **kwargs) -> str:
    """An absolute URL for emails and feeds: a path ("/x/") or a URL name with its kwargs."""
    path = path_or_name if path_or_name.startswith("/") else reverse(path_or_name, kwargs=kwargs or None)
    return settings.SITE_URL.rstrip("/") + path


def portal_mail(subject: str, body: str, recipients: Iterable[str]) -> None:
    """Sends now, with the portal's subject prefix and sender."""
    to = list(recipients)
    if to:
        send_mail(f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}", body, settings.DEFAULT_FROM_EMAIL, to)


def portal_mail_on_commit(subject: str, body: str, recipients: Iterable[str]) -> None:
    """Sends once the surrounding transaction commits (nothing goes out for a rolled-back change)."""
    to = list(recipients)
    if to:
        transaction.on_commit(lambda: portal_mail(subject, body, to))
