"""Every model registered in the admin has a working list page (with its search) and, where it has
one, an add page, for staff."""

import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model_admin", list(admin.site._registry.values()), ids=lambda m: m.model._meta.label_lower)
def test_changelist_and_search_answer_for_staff(roles, model_admin):
    meta = model_admin.model._meta
    client = roles.client("staff")
    url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
    assert client.get(url).status_code == 200
    if model_admin.search_fields:
        assert client.get(url, {"q": "acme"}).status_code == 200


def test_every_portal_model_is_in_the_admin():
    from django.apps import apps

    ours = [
        m
        for m in apps.get_models()
        if m._meta.app_label in {"members", "audit", "licensing", "workinggroups", "submissions"}
    ]
    missing = [m._meta.label for m in ours if m not in admin.site._registry]
    assert missing == []
