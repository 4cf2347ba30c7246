from types import SimpleNamespace
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings

from consortium.audit.client import client_address
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
        """allauth's mails greet with the portal's name and address, not the host that served the
        request ("Hello from 127.0.0.1:8100!")."""
        site = SimpleNamespace(name=settings.SITE_NAME, domain=urlsplit(settings.SITE_URL).netloc or settings.SITE_URL)
        super().send_mail(template_prefix, email, {"current_site": site, **context})
