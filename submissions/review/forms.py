"""Forms of the review pages: shape and parse only; the services decide."""

from django import forms

from submissions.review.models import Outcome


def parse_evidence(text: str) -> list[dict]:
    """One `path:line` per line (e.g. results/sys/bench/result_0.txt:42)."""
    items = []
    for raw in text.splitlines():
        raw = raw.strip()
        if not raw:
            continue
        path, sep, line = raw.rpartition(":")
        if not sep or not line.strip().isdigit():
            raise forms.ValidationError(f"Write each piece of evidence as path:line; {raw!r} has no line number.")
        items.append({"path": path.strip(), "line": int(line)})
    return items


class ObjectionForm(forms.Form):
    against = forms.TypedChoiceField(label="Against the submission", coerce=int)
    summary = forms.CharField(label="What is wrong (one line)", max_length=200)
    rule = forms.CharField(label="The rule it breaks", max_length=300, help_text="e.g. Training rules §9.2")
    details = forms.CharField(label="Details", widget=forms.Textarea(attrs={"rows": 4}), required=False)
    evidence = forms.CharField(
        label="Evidence (path:line, one a line)",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="A file and line of the frozen version, e.g. results/sys1/bert/result_0.txt:17",
    )
    fix_required = forms.BooleanField(label="A fix is required", required=False)

    def __init__(self, *args, submissions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["against"].choices = [(s.pk, f"{s.organisation} · {s.get_division_display()}") for s in submissions]

    def clean_evidence(self):
        return parse_evidence(self.cleaned_data["evidence"])


class ResponseForm(forms.Form):
    body = forms.CharField(label="Your answer", widget=forms.Textarea(attrs={"rows": 4}))
    acknowledges_fix = forms.BooleanField(label="We agree a fix is required", required=False)


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(label="Decision", choices=Outcome.choices)
    note = forms.CharField(label="Note (guidance on the fix)", widget=forms.Textarea(attrs={"rows": 2}), required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 2}))


class VoteForm(forms.Form):
    question = forms.CharField(label="Question", max_length=300)
    options = forms.CharField(
        label="Options (one a line: label | outcome)",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"Outcome (optional) one of: {', '.join(Outcome.values)}",
    )
    closes_at = forms.DateTimeField(
        label="Closes at (UTC)", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    objection = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean_options(self):
        out = []
        for raw in self.cleaned_data["options"].splitlines():
            if raw.strip():
                label, _, outcome = raw.partition("|")
                out.append((label.strip(), outcome.strip()))
        return out
