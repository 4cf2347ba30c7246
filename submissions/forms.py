from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from submissions.models import Finding, Submission


class UploadForm(forms.Form):
    division = forms.ChoiceField(choices=Submission.Division.choices)
    category = forms.ChoiceField(choices=Submission.Category.choices, label="Availability category")
    archive = forms.FileField(
        label="Package archive",
        help_text=f"A .tar.gz, .tgz, .tar or .zip of <Submitter>/systems and <Submitter>/results, at most "
        f"{filesizeformat(settings.SUBMISSION_MAX_ARCHIVE_BYTES)}.",
        widget=forms.ClearableFileInput(attrs={"accept": ".tar.gz,.tgz,.tar,.zip"}),
    )

    def __init__(self, *args, divisions: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if divisions:
            self.fields["division"].choices = [c for c in Submission.Division.choices if c[0] in divisions]


class FindingFilterForm(forms.Form):
    severity = forms.ChoiceField(required=False, choices=[("", "All severities"), *Finding.Severity.choices])
    check = forms.ChoiceField(required=False)

    def __init__(self, *args, kinds: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["check"].choices = [("", "All checks"), *kinds]


class FixWindowForm(forms.Form):
    closes_at = forms.DateTimeField(
        label="Closes at (UTC)", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    reason = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
