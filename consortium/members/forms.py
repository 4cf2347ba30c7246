import re

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms

from consortium.members.models import Membership, MembershipTier, Organisation, OrganisationRole

GITHUB_HANDLE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")


class SignupForm(AllauthSignupForm):
    full_name = forms.CharField(max_length=200, label="Full name")

    field_order = ["full_name", "email", "password1", "password2"]


class ProfileForm(forms.Form):
    full_name = forms.CharField(max_length=200, label="Full name")
    github_handle = forms.CharField(max_length=40, required=False, label="GitHub handle")

    def clean_github_handle(self) -> str:
        handle = self.cleaned_data["github_handle"].strip().lstrip("@")
        if handle and not GITHUB_HANDLE.match(handle):
            raise forms.ValidationError(
                "A GitHub handle has up to 39 letters, digits or single hyphens, and does not start with a hyphen."
            )
        return handle


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Colleague's email address")
    roles = forms.MultipleChoiceField(
        choices=OrganisationRole.Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Roles granted when the invitation is accepted.",
    )
    confirm_outside_domains = forms.BooleanField(
        required=False, label="Invite this address even though it is outside the organisation's email domains"
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=OrganisationRole.Role.choices)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False, widget=forms.TextInput)


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=100)
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *Organisation.Kind.choices])
    tier = forms.ChoiceField(required=False)
    country = forms.ChoiceField(required=False)
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *Membership.Status.choices, ("none", "No membership")]
    )

    def __init__(self, *args, countries: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tier"].choices = [("", "Any tier")] + [(t.slug, str(t)) for t in MembershipTier.objects.all()]
        self.fields["country"].choices = [("", "Any country"), *countries]
