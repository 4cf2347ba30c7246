"""Forms of the working groups app. Field validation here; rules that need the database or several
records (cooldown, phase order, publishing) are in services.py and come back as form errors."""

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError

from consortium.common.forms import add_service_errors  # noqa: F401 (workinggroups/views.py calls forms.add_service_errors)
from consortium.members.models import Person
from submissions import compliance
from workinggroups import schedules
from workinggroups.models import GroupMembership, MeetingSeries, Round, WorkingGroup

Role = GroupMembership.Role


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in schedules.time_zone_names()]


class JoinRequestForm(forms.Form):
    message = forms.CharField(
        label="Message",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Optional: what you would like to work on in the group. Those who decide read it.",
    )


class ApproveForm(forms.Form):
    role = forms.ChoiceField(
        label="Join as",
        choices=[(Role.MEMBER, Role.MEMBER.label), (Role.OBSERVER, Role.OBSERVER.label)],
        initial=Role.MEMBER,
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="Reason for declining",
        max_length=2000,
        error_messages={"required": "Give a reason: the applicant reads it in the email."},
    )


class MemberAddForm(forms.Form):
    email = forms.EmailField(label="Email address of the person to add")
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.MEMBER)

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        person = Person.objects.select_related("user").filter(user__email__iexact=email).first()
        if person is None:
            raise ValidationError(f"Nobody with the address {email} has an account on the portal.")
        self.person = person
        return email


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False)


class GroupSettingsForm(forms.ModelForm):
    class Meta:
        model = WorkingGroup
        fields = ["purpose", "charter", "mailing_list", "visibility"]
        widgets = {"charter": forms.Textarea(attrs={"rows": 12})}
        labels = {"charter": "Charter (Markdown)", "mailing_list": "Mailing-list address"}


class MeetingSeriesForm(forms.ModelForm):
    time_zone = forms.ChoiceField(label="Time zone", choices=time_zone_choices)
    join_link = forms.URLField(label="Join link", required=False, max_length=500, assume_scheme="https")

    class Meta:
        model = MeetingSeries
        fields = [
            "title",
            "rrule",
            "starts_on",
            "start_time",
            "time_zone",
            "duration_minutes",
            "ends_on",
            "join_link",
        ]
        labels = {
            "rrule": "Recurrence rule (RRULE)",
            "starts_on": "First day",
            "start_time": "Start time",
            "duration_minutes": "Duration (minutes)",
            "ends_on": "Last day (optional)",
            "join_link": "Join link",
        }
        widgets = {"starts_on": DateInput(), "ends_on": DateInput(), "start_time": TimeInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].initial = schedules.DEFAULT_TIME_ZONE
        self.fields["duration_minutes"].validators.append(_between(5, 24 * 60))


def _between(low: int, high: int):
    def check(value: int) -> None:
        if value is not None and not (low <= value <= high):
            raise ValidationError(f"Enter a duration between {low} and {high} minutes.")

    return check


class OccurrenceForm(forms.Form):
    agenda = forms.CharField(label="Agenda (Markdown)", required=False, widget=forms.Textarea(attrs={"rows": 6}))
    minutes = forms.CharField(label="Minutes (Markdown)", required=False, widget=forms.Textarea(attrs={"rows": 8}))
    cancelled = forms.BooleanField(label="Cancel this meeting", required=False)
    moved_to = forms.DateTimeField(
        label="Move to (local time of the series)",
        required=False,
        widget=DateTimeInput(),
        help_text="Leave empty to keep the usual time.",
    )

    def clean(self):
        data = super().clean()
        if data.get("cancelled") and data.get("moved_to"):
            self.add_error("moved_to", "A cancelled meeting cannot also be moved; choose one.")
        return data


def _benchmark_list(text: str) -> list[str]:
    return [b.strip() for b in text.replace("\n", ",").split(",") if b.strip()]


class RoundForm(forms.ModelForm):
    """Create or edit a round. The ruleset and benchmarks are checked by Round.clean() against the
    pinned mlperf-logging package, with a message naming what it ships."""

    ruleset = forms.CharField(
        label="Ruleset",
        required=False,
        max_length=20,
        help_text="The ruleset that checks the results, e.g. 6.1.0 (training, HPC) or 5.1 (inference; optional).",
        widget=forms.TextInput(attrs={"list": "ruleset-choices", "autocomplete": "off"}),
    )
    benchmarks_text = forms.CharField(
        label="Allowed benchmarks",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Comma-separated. Leave empty for all of the ruleset's benchmarks.",
    )
    divisions = forms.MultipleChoiceField(
        label="Divisions",
        choices=Round.Division.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[Round.Division.CLOSED, Round.Division.OPEN],
        required=False,
    )
    time_zone = forms.ChoiceField(
        label="Time zone of the round",
        choices=time_zone_choices,
        initial=schedules.DEFAULT_TIME_ZONE,
        help_text="Deadlines are in this zone (US/Pacific, America/Los_Angeles, for MLPerf).",
    )
    grace_minutes = forms.IntegerField(label="Grace period (minutes)", min_value=0, max_value=24 * 60, initial=60)

    class Meta:
        model = Round
        fields = [
            "name",
            "slug",
            "suite",
            "ruleset",
            "divisions",
            "time_zone",
            "grace_minutes",
            "description",
        ]
        labels = {"description": "Description (Markdown)"}
        help_texts = {"slug": "Used in the address /rounds/<slug>/, e.g. training-v6-1."}
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["benchmarks_text"].initial = ", ".join(self.instance.benchmarks)
        self.ruleset_choices = {suite: compliance.available_rulesets(suite) for suite in compliance.usages()}

    def clean_ruleset(self) -> str:
        return self.cleaned_data["ruleset"].strip()

    def _post_clean(self):
        self.instance.benchmarks = _benchmark_list(self.cleaned_data.get("benchmarks_text", ""))
        super()._post_clean()

    def _update_errors(self, errors):
        # Round.clean() reports benchmark errors on "benchmarks"; show them on the text field.
        if hasattr(errors, "error_dict") and "benchmarks" in errors.error_dict:
            errors.error_dict.setdefault("benchmarks_text", []).extend(errors.error_dict.pop("benchmarks"))
        super()._update_errors(errors)

    def round_fields(self) -> dict:
        data = {f: self.cleaned_data[f] for f in self.Meta.fields}
        data["benchmarks"] = self.instance.benchmarks
        return data


class RoundCreateForm(RoundForm):
    deadline = forms.DateField(
        label="Submission deadline (a Friday)",
        required=False,
        widget=DateInput(),
        help_text="The phases are generated from it per the MLPerf calendar; you can adjust them after.",
    )

    def clean_deadline(self) -> dt.date | None:
        deadline = self.cleaned_data.get("deadline")
        if deadline is not None and deadline.weekday() != schedules.FRIDAY:
            raise ValidationError(
                f"The MLPerf submission deadline is on a Friday; {deadline:%d %b %Y} is a "
                f"{schedules.WEEKDAYS[deadline.weekday()]}."
            )
        return deadline


class GenerateForm(forms.Form):
    deadline = forms.DateField(label="Submission deadline (a Friday)", widget=DateInput())
    deadline_time = forms.TimeField(
        label="Deadline time (round's time zone)", initial=schedules.DEADLINE_TIME, widget=TimeInput()
    )

    def clean_deadline(self) -> dt.date:
        deadline = self.cleaned_data["deadline"]
        if deadline.weekday() != schedules.FRIDAY:
            raise ValidationError(
                f"The MLPerf submission deadline is on a Friday; {deadline:%d %b %Y} is a "
                f"{schedules.WEEKDAYS[deadline.weekday()]}."
            )
        return deadline


class PhaseAdjustForm(forms.Form):
    """One start and one end per phase, as local times of the round (parse and render inside
    `timezone.override(round's zone)`). The publication is a moment: start only."""

    def __init__(self, *args, phases, **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds = [p.kind for p in phases]
        for phase in phases:
            self.fields[f"{phase.kind}_start"] = forms.DateTimeField(
                label=f"{phase.label}: {'moment' if phase.is_instant else 'start'}",
                initial=phase.starts_at,
                widget=DateTimeInput(),
            )
            if not phase.is_instant:
                self.fields[f"{phase.kind}_end"] = forms.DateTimeField(
                    label=f"{phase.label}: {'deadline' if phase.kind == schedules.SUBMISSION else 'end'}",
                    initial=phase.ends_at,
                    widget=DateTimeInput(),
                )

    def times(self) -> dict[str, tuple[dt.datetime, dt.datetime]]:
        found = {}
        for kind in self.kinds:
            start = self.cleaned_data[f"{kind}_start"]
            found[kind] = (start, self.cleaned_data.get(f"{kind}_end", start))
        return found

    def pairs(self):
        """(phase label, start field, end field or None) per phase, for the template."""
        return [
            (schedules.PHASE_LABELS[k], self[f"{k}_start"], self[f"{k}_end"] if f"{k}_end" in self.fields else None)
            for k in self.kinds
        ]


class RegistrationForm(forms.Form):
    contacts = forms.ModelMultipleChoiceField(
        label="Contacts for this round",
        queryset=Person.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="People with the submitter role at your organisation.",
    )

    def __init__(self, *args, submitters, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contacts"].queryset = submitters
        self.fields["contacts"].label_from_instance = lambda p: f"{p.display_name} ({p.user.email})"
