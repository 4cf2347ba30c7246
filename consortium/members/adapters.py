from allauth.account.adapter import DefaultAccountAdapter

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
