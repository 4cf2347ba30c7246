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
        limit = settings.SUBMISSION_MAX_ARCHIVE_BYTES
        self.fields["archive"].help_text = (
            "A .tar.gz, .tgz, .tar or .zip of <Submitter>/systems and <Submitter>/results, at most "
            f"{filesizeformat(limit)}."
        )
        # portal.js refuses a larger file before sending it.
        self.fields["archive"].widget.attrs.update(
            {
                "data-max-bytes": str(limit),
                "data-too-large": f"This file is larger than {filesizeformat(limit)}: "
                "the portal accepts archives up to that size. Nothing was sent.",
            }
        )
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
