"""Member-facing forms of dataset licensing. The admin's forms live in admin_forms.py."""

from django import forms

from consortium.licensing.models import AccessRequest, Dataset


class CatalogueFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search")
    policy = forms.ChoiceField(
        required=False,
        label="Access",
        choices=[
            ("", "Any access policy"),
            ("open", "Open"),
            ("agreement", "Agreement to accept"),
            ("members", "Members only"),
            ("approval", "Approval needed"),
        ],
    )


class AccessRequestForm(forms.Form):
    purpose = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        label="What will you use the dataset for?",
    )

    def __init__(self, *args, dataset: Dataset, request_obj: AccessRequest | None = None, **kwargs):
        initial = kwargs.pop("initial", {}) or {}
        if request_obj is not None:
            initial.setdefault("purpose", request_obj.purpose)
            for i, item in enumerate(request_obj.answers or []):
                initial.setdefault(f"answer_{i}", item.get("answer", ""))
        super().__init__(*args, initial=initial, **kwargs)
        self.questions = dataset.questions
        for i, question in enumerate(self.questions):
            self.fields[f"answer_{i}"] = forms.CharField(
                label=question, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
            )

    def answers(self) -> list[str]:
        return [self.cleaned_data[f"answer_{i}"] for i in range(len(self.questions))]


class AcceptanceForm(forms.Form):
    version_id = forms.IntegerField(widget=forms.HiddenInput)
    text_sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64)
    typed_name = forms.CharField(
        max_length=200,
        label="Type your full name to sign",
        help_text="It must match the name on your profile.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    confirm = forms.BooleanField(
        label="I have read this agreement and accept it",
        error_messages={"required": "Tick the box to confirm that you have read and accept the agreement."},
    )
