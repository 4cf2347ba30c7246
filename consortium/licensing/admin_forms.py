"""Forms of the licensing admin: SPDX validation, agreement versions, decisions, grants, explain."""

import datetime as dt

from django import forms
from django.db import models
from django.utils import timezone

from consortium.licensing.models import RESERVED_SLUGS, AgreementVersion, Dataset, Licence
from consortium.licensing.spdx import InvalidExpression, normalise_expression
from consortium.members.models import Organisation, Person


def https_urls(field, **kwargs):
    """Model URL fields as form fields that assume https (Django 6's default, without its warning)."""
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


class LicenceAdminForm(forms.ModelForm):
    class Meta:
        model = Licence
        formfield_callback = https_urls
        fields = [
            "expression",
            "name",
            "url",
            "text",
            "attribution",
            "share_alike",
            "non_commercial",
            "members_only",
            "is_deprecated",
        ]

    def clean_expression(self) -> str:
        try:
            return normalise_expression(self.cleaned_data["expression"])
        except InvalidExpression as exc:
            raise forms.ValidationError(str(exc), code="invalid_spdx") from exc


class DatasetAdminForm(forms.ModelForm):
    class Meta:
        model = Dataset
        formfield_callback = https_urls
        fields = [
            "name",
            "slug",
            "summary",
            "description",
            "is_listed",
            "homepage",
            "current_version",
            "size_bytes",
            "maintainer_working_group",
            "croissant_url",
            "file",
            "licence",
            "attribution_text",
            "requires_membership",
            "agreement",
            "requires_approval",
            "access_questions",
            "request_cooldown_days",
            "grant_days",
        ]

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if slug in RESERVED_SLUGS:
            raise forms.ValidationError(
                f"“{slug}” is a page of the dataset catalogue; choose another slug.", code="reserved"
            )
        return slug


class AgreementVersionAdminForm(forms.ModelForm):
    """Drafts only: a published version is shown read-only."""

    class Meta:
        model = AgreementVersion
        fields = ["agreement", "label", "text", "effective_date", "is_material", "grace_days", "change_summary"]
        widgets = {"text": forms.Textarea(attrs={"rows": 20, "class": "vLargeTextField"})}


class PublishVersionForm(forms.Form):
    label = forms.CharField(max_length=40, help_text="e.g. 2.0")
    text = forms.CharField(
        strip=False,
        widget=forms.Textarea(attrs={"rows": 24, "class": "vLargeTextField"}),
        help_text="The exact text members will accept (Markdown). Its SHA-256 is recorded with each acceptance.",
    )
    effective_date = forms.DateField(
        initial=timezone.localdate,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        help_text="Not in the past",
    )
    is_material = forms.BooleanField(
        required=False,
        label="Material change",
        help_text="Everyone must accept this version again once the grace period ends",
    )
    grace_days = forms.IntegerField(
        min_value=0, max_value=365, initial=30, help_text="Days during which the previous acceptance still counts"
    )
    change_summary = forms.CharField(max_length=300, required=False, label="What changed")

    def clean_effective_date(self) -> dt.date:
        day = self.cleaned_data["effective_date"]
        if day < timezone.localdate():
            raise forms.ValidationError("The effective date cannot be in the past.")
        return day


class DecisionForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
        help_text="Shown to the person. Required to reject or return.",
    )
    ends_at = forms.DateField(
        required=False,
        label="Access until",
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        help_text="Approvals only; empty for the dataset's default grant length",
    )

    def __init__(self, *args, decision: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.decision = decision
        if decision != "approve":
            del self.fields["ends_at"]
            self.fields["reason"].required = True
            self.fields["reason"].error_messages["required"] = (
                "Give a reason: the person sees it." if decision == "reject" else "Say what should change."
            )

    def clean_ends_at(self):
        day = self.cleaned_data.get("ends_at")
        if day is not None and day <= timezone.localdate():
            raise forms.ValidationError("The end must be after today.")
        return day


class RevokeForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Shown to the holder.",
        error_messages={"required": "Give a reason: the holder sees it."},
    )


class ExtendForm(forms.Form):
    ends_at = forms.DateField(
        required=False,
        label="New end",
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        help_text="Leave empty and tick “No end” for open-ended access",
    )
    no_end = forms.BooleanField(required=False, label="No end")
    reason = forms.CharField(max_length=500, required=False)

    def clean(self):
        data = super().clean()
        if not data.get("no_end") and not data.get("ends_at"):
            raise forms.ValidationError("Give the new end date, or tick “No end”.")
        if data.get("ends_at") and data["ends_at"] <= timezone.localdate():
            self.add_error("ends_at", "The new end must be after today.")
        return data


class GrantAddForm(forms.Form):
    dataset = forms.ModelChoiceField(queryset=Dataset.objects.order_by("name"))
    person = forms.ModelChoiceField(
        queryset=Person.objects.select_related("user").order_by("user__email"),
        required=False,
        help_text="A personal grant…",
    )
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.order_by("name"), required=False, help_text="…or an organisation-wide one"
    )
    ends_at = forms.DateField(
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        help_text="Empty for the dataset's default",
    )
    reason = forms.CharField(max_length=500, required=False)

    def clean(self):
        data = super().clean()
        if bool(data.get("person")) == bool(data.get("organisation")):
            raise forms.ValidationError("Choose a person or an organisation (one of them).")
        return data


class ExplainForm(forms.Form):
    person = forms.CharField(label="Person (email address)", max_length=254)
    dataset = forms.ModelChoiceField(queryset=Dataset.objects.order_by("name"))
    at = forms.DateTimeField(
        required=False,
        label="At (optional)",
        widget=forms.DateTimeInput(format="%Y-%m-%dT%H:%M", attrs={"type": "datetime-local"}),
        help_text="Explain access at another moment; empty for now",
    )

    def clean_person(self) -> Person:
        value = self.cleaned_data["person"].strip()
        person = None
        if value.isdigit():
            person = Person.objects.select_related("user", "organisation").filter(pk=int(value)).first()
        if person is None:
            person = Person.objects.select_related("user", "organisation").filter(user__email__iexact=value).first()
        if person is None:
            raise forms.ValidationError(f"No person with the email address {value}.")
        return person
