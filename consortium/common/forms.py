"""A service's refusal, shown on the page that asked for it. Imports no app."""

from django import forms
from django.core.exceptions import ValidationError


def add_service_errors(form: forms.BaseForm, exc: ValidationError, field_map: dict[str, str] | None = None) -> None:
    """Puts a service's errors on the form: field errors in place (after `field_map`), the rest on top."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, errors in exc.error_dict.items():
        field = (field_map or {}).get(key, key)
        form.add_error(field if field in form.fields else None, errors)


def error_text(exc: Exception) -> str:
    """A service's refusal (ValidationError, PermissionDenied) as one line for a message or a page."""
    return " ".join(getattr(exc, "messages", None) or [str(exc)])
