"""A service's refusal on the page: field errors in place, the rest on top, or as one line."""

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError

from consortium.common.forms import add_service_errors, error_text


class _Form(forms.Form):
    name = forms.CharField(required=False)
    benchmarks_text = forms.CharField(required=False)


def _bound() -> _Form:
    form = _Form(data={})
    assert form.is_valid()
    return form


def test_field_errors_land_on_their_fields_and_unknown_ones_on_top():
    form = _bound()
    add_service_errors(form, ValidationError({"name": "Taken.", "deadline": "In the past."}))
    assert form.errors["name"] == ["Taken."]
    assert form.non_field_errors() == ["In the past."]


def test_field_map_renames_a_service_key_to_the_forms_field():
    form = _bound()
    add_service_errors(form, ValidationError({"benchmarks": "Unknown: foo."}), {"benchmarks": "benchmarks_text"})
    assert form.errors["benchmarks_text"] == ["Unknown: foo."]


def test_an_error_without_fields_goes_on_top():
    form = _bound()
    add_service_errors(form, ValidationError(["First.", "Second."]))
    assert form.non_field_errors() == ["First.", "Second."]


def test_error_text_joins_messages_and_reads_permission_denied():
    assert error_text(ValidationError({"a": "One.", "b": "Two."})) == "One. Two."
    assert error_text(PermissionDenied("Chairs only.")) == "Chairs only."
