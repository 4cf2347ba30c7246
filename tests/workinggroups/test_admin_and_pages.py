"""Admin pages of every model, and safe Markdown on the group page."""

import datetime as dt

import pytest
from django.urls import reverse

from consortium.common.markdown import render_markdown
from tests.workinggroups.factories import JoinRequestFactory, MeetingSeriesFactory, round_with_phases
from workinggroups.models import (
    CalendarFeed,
    GroupMembership,
    JoinRequest,
    MeetingOccurrence,
    MeetingSeries,
    Round,
    RoundPhase,
    RoundRegistration,
    WorkingGroup,
)

pytestmark = pytest.mark.django_db
MODELS = [
    WorkingGroup,
    GroupMembership,
    JoinRequest,
    MeetingSeries,
    MeetingOccurrence,
    Round,
    RoundPhase,
    RoundRegistration,
    CalendarFeed,
]


@pytest.mark.parametrize("model", MODELS, ids=[m.__name__ for m in MODELS])
def test_admin_changelist_for_staff(roles, model):
    round_with_phases(group=roles.group, slug="r", name="R", deadline=dt.date(2030, 5, 17))
    JoinRequestFactory(group=roles.group, person=roles.member.person)
    MeetingSeriesFactory(group=roles.group)
    url = reverse(f"admin:workinggroups_{model._meta.model_name}_changelist")
    response = roles.client("staff").get(url)  # the staff fixture is a demo person: no MFA needed
    assert response.status_code == 200


def test_admin_round_inline_checks_the_schedule(roles, settings):
    round = round_with_phases(group=roles.group, slug="r", name="R", deadline=dt.date(2030, 5, 17))
    from django.forms import inlineformset_factory

    from workinggroups.admin import RoundPhaseFormSet

    FormSet = inlineformset_factory(
        Round, RoundPhase, formset=RoundPhaseFormSet, fields=("kind", "starts_at", "ends_at"), extra=0
    )
    phases = list(round.phases.order_by("starts_at"))
    data = {"phases-TOTAL_FORMS": str(len(phases)), "phases-INITIAL_FORMS": str(len(phases))}
    for i, phase in enumerate(phases):
        starts = phase.starts_at
        if phase.kind == "objection_review":
            starts -= dt.timedelta(days=3)
        data |= {
            f"phases-{i}-id": str(phase.pk),
            f"phases-{i}-round": str(round.pk),
            f"phases-{i}-kind": phase.kind,
            f"phases-{i}-starts_at": starts.strftime("%Y-%m-%d %H:%M:%S"),
            f"phases-{i}-ends_at": phase.ends_at.strftime("%Y-%m-%d %H:%M:%S"),
        }
    formset = FormSet(data, instance=round, prefix="phases")
    assert not formset.is_valid()
    assert "before objection filing closes" in " ".join(formset.non_form_errors())


def test_charter_markdown_is_rendered_safely(roles, client):
    WorkingGroup.objects.filter(pk=roles.group.pk).update(
        charter="# Scope\n\n**Bold** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    )
    page = client.get("/workinggroups/training/").content.decode()
    assert "<h3>Scope</h3>" in page and "<strong>Bold</strong>" in page
    assert "<script>alert" not in page and "javascript:" not in page and "onerror" not in page


def test_render_markdown_keeps_links_and_lists():
    html = render_markdown("- [MLCommons](https://mlcommons.org)\n- two")
    assert '<a href="https://mlcommons.org" rel="noopener noreferrer nofollow">MLCommons</a>' in html
    assert html.count("<li>") == 2


def test_admin_round_change_page_with_phases_and_registrations(roles):
    round = round_with_phases(group=roles.group, slug="r", name="R", deadline=dt.date(2030, 5, 17))
    RoundRegistration.objects.create(round=round, organisation=roles.org)
    response = roles.client("staff").get(reverse("admin:workinggroups_round_change", args=[round.pk]))
    assert response.status_code == 200
    assert "Objection review" in response.content.decode()
