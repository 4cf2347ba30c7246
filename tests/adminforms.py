"""Posting Django admin change forms from tests: the data a browser would send for the form as
shown (main form and every inline), to be edited by the test before it is posted."""

from django.forms import CheckboxInput, MultiWidget


def _put(data: dict, key: str, field, value) -> None:
    widget = field.widget
    if isinstance(widget, MultiWidget):
        parts = widget.decompress(value)
        for i, part in enumerate(parts):
            data[f"{key}_{i}"] = "" if part is None else str(part)
    elif isinstance(widget, CheckboxInput):
        if value:
            data[key] = "on"
    elif isinstance(value, list | tuple):
        data[key] = [str(v) for v in value]
    else:
        data[key] = "" if value is None else str(value)


def change_form_data(client, url: str) -> dict:
    """GETs the admin change (or add) page at `url` and returns its form data as a browser posts it."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    data: dict = {}
    form = response.context["adminform"].form
    for name, field in form.fields.items():
        _put(data, form.add_prefix(name), field, form[name].value())
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = str(management[name].value())
        for inline_form in formset.initial_forms:
            for name, field in inline_form.fields.items():
                _put(data, inline_form.add_prefix(name), field, inline_form[name].value())
    return data


def add_inline_row(data: dict, prefix: str, **values) -> None:
    """Appends a new row to the inline `prefix` (as the admin's "Add another" does)."""
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    for name, value in values.items():
        data[f"{prefix}-{index}-{name}"] = str(value)
