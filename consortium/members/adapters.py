import hashlib
from types import SimpleNamespace
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.utils import timezone

from consortium.audit.client import client_address
from consortium.common.mail import mail_enqueue
from consortium.members.services import person_register


class AccountAdapter(DefaultAccountAdapter):
    """Every new account gets its profile, and a request to join the organisation its domain names."""

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            full_name = form.cleaned_data.get("full_name", "") if hasattr(form, "cleaned_data") else ""
            person_register(user=user, full_name=full_name, ip_address=client_address(request))
        return user

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """allauth's mails (verification, password reset, login codes) go through the outbox like
        every other mail, rendered as allauth renders them, greeting with the portal's name and
        address rather than the host that served the request ("Hello from 127.0.0.1:8100!")."""
        site = SimpleNamespace(name=settings.SITE_NAME, domain=urlsplit(settings.SITE_URL).netloc or settings.SITE_URL)
        message = self.render_mail(
            template_prefix,
            email,
            {"request": allauth_context.request, "email": email, "current_site": site, **context},
        )
        mail_enqueue(
            key=account_mail_key(template_prefix, message.body),
            # mail_enqueue adds the portal's prefix itself.
            subject=message.subject.removeprefix(settings.ACCOUNT_EMAIL_SUBJECT_PREFIX),
            body=message.body,
            recipients=message.to,
            about=f"account:{template_prefix.rpartition('/')[2]}",
            erase_body_once_sent=True,
        )


def account_mail_key(template_prefix: str, body: str) -> str:
    """The same message asked for twice in the same second (a double click) goes once; a new
    request goes again, even when its body is the same (allauth's verification link is)."""
    digest = hashlib.sha256(body.encode()).hexdigest()[:24]
    return f"account.{template_prefix.rpartition('/')[2]}:{timezone.now():%Y%m%dT%H%M%S}:{digest}"
