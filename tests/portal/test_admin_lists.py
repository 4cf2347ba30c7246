"""Admin changelists at scale (consortium/common/admin_lists.py): short pages, one count that the
planner answers for a large unfiltered PostgreSQL table, filter choices from indexes, and the row
checkbox written directly with the same HTML as Django's widget."""

import datetime as dt

import pytest
from django.contrib import admin
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from consortium.audit.models import AuditEvent
from consortium.common import admin_lists
from consortium.common.admin_lists import EstimatedCountPaginator, distinct_values
from consortium.members.models import Organisation
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner statistics")


def _events(n: int, action: str = "roster.role_granted", at: dt.datetime | None = None) -> None:
    rows = [AuditEvent(actor_label="system", action=action, at=at or timezone.now()) for _ in range(n)]
    field = AuditEvent._meta.get_field("at")
    field.auto_now_add = False  # a stated moment, as the scale data's history has
    try:
        AuditEvent.objects.bulk_create(rows)
    finally:
        field.auto_now_add = True


def test_row_checkbox_is_the_html_of_djangos_widget():
    organisation = OrganisationFactory(name="Acme <b>\"&'")
    model_admin = admin.site._registry[Organisation]
    assert model_admin.action_checkbox(organisation) == admin.ModelAdmin.action_checkbox(model_admin, organisation)


def test_every_portal_admin_list_is_short_and_counts_once():
    ours = [
        ma
        for ma in admin.site._registry.values()
        if type(ma).__module__.split(".")[0] in ("consortium", "submissions", "workinggroups")
    ]
    assert ours
    for model_admin in ours:
        assert model_admin.list_per_page <= 50, type(model_admin)
        assert model_admin.show_full_result_count is False, type(model_admin)
        assert model_admin.paginator is EstimatedCountPaginator, type(model_admin)


def test_filtered_list_is_counted_exactly(monkeypatch):
    monkeypatch.setattr(admin_lists, "ESTIMATE_FROM_ROWS", 1)
    _events(3)
    _events(2, action="licensing.grant_created")
    paginator = EstimatedCountPaginator(AuditEvent.objects.filter(action="licensing.grant_created"), 25)
    assert paginator.count == 2


@postgres_only
def test_large_unfiltered_table_is_counted_from_the_planners_estimate(monkeypatch):
    monkeypatch.setattr(admin_lists, "ESTIMATE_FROM_ROWS", 10)
    _events(30)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditevent")
    _events(20)  # not yet in the statistics: the estimate still says 30
    assert EstimatedCountPaginator(AuditEvent.objects.all(), 25).count == 30
    assert AuditEvent.objects.count() == 50


@postgres_only
def test_small_table_is_counted_exactly_on_postgresql():
    _events(30)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditevent")
    _events(20)
    assert EstimatedCountPaginator(AuditEvent.objects.all(), 25).count == 50


def test_distinct_values_are_those_of_distinct():
    for action in ("b.two", "a.one", "b.two", "c.three", "a.one"):
        _events(1, action=action)
    assert distinct_values(AuditEvent.objects.all(), "action") == ["a.one", "b.two", "c.three"]


def test_audit_log_filters_by_year_and_action_as_staff(roles):
    _events(2, action="roster.role_granted")
    _events(1, action="licensing.grant_created", at=timezone.now() - dt.timedelta(days=800))
    old = AuditEvent.objects.get(action="licensing.grant_created")
    url = reverse("admin:audit_auditevent_changelist")
    client = roles.client("staff")
    page = client.get(url)
    years = [str(y) for y in range((timezone.now() - dt.timedelta(days=800)).year, timezone.now().year + 1)]
    assert page.status_code == 200
    assert all(f"?at_year={y}" in page.content.decode() for y in years)
    assert "?action=licensing.grant_created" in page.content.decode()
    filtered = client.get(url, {"at_year": years[0], "action": "licensing.grant_created"})
    assert list(filtered.context["cl"].result_list) == [old]


def test_check_attempt_outcome_filter_offers_the_outcomes_an_attempt_can_have(roles):
    url = reverse("admin:submissions_checkattempt_changelist")
    page = roles.client("staff").get(url, {"outcome": "lost"})
    assert page.status_code == 200
    choices = [c["display"] for c in page.context["cl"].filter_specs[0].choices(page.context["cl"])]
    assert choices == ["All", "Passed", "Failed", "Errored", "Cancelled", "Lost", "None yet"]
