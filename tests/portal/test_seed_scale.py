"""`manage.py seed_scale`: refuses without DEMO_MODE or without the demo data, creates exactly the
counts asked for on top of the demo, and a second run creates nothing."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from consortium.audit.models import AuditEvent
from consortium.licensing.demo import seed_licensing
from consortium.members.demo import seed_members
from consortium.members.models import Organisation, Person
from consortium.portal.scale import ScaleCounts
from submissions.models import CheckAttempt, CheckRun, Finding, Submission, SubmissionVersion
from workinggroups.demo import seed_workinggroups
from workinggroups.models import GroupMembership, Round, RoundRegistration

pytestmark = pytest.mark.django_db


def _demo():
    today = timezone.localdate()
    seed_members(today=today, log=lambda *_: None)
    seed_workinggroups(today=today, log=lambda *_: None)
    seed_licensing(today=today, log=lambda *_: None)


def _run(*args) -> str:
    out = io.StringIO()
    call_command("seed_scale", *args, stdout=out)
    return out.getvalue()


def _totals() -> dict[str, int]:
    return {
        "organisations": Organisation.objects.count(),
        "people": Person.objects.count(),
        "rounds": Round.objects.count(),
        "submissions": Submission.objects.count(),
        "versions": SubmissionVersion.objects.count(),
        "runs": CheckRun.objects.count(),
        "attempts": CheckAttempt.objects.count(),
        "findings": Finding.objects.count(),
        "memberships": GroupMembership.objects.count(),
        "registrations": RoundRegistration.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def test_seed_scale_refuses_without_demo_mode(settings):
    settings.DEMO_MODE = False
    _demo()
    with pytest.raises(CommandError, match="only with DEMO_MODE on"):
        _run("--scale", "0.01")
    assert not Organisation.objects.filter(slug__startswith="scale-").exists()


def test_seed_scale_refuses_without_the_demo_data(settings):
    settings.DEMO_MODE = True
    with pytest.raises(CommandError, match=r"run `python manage.py seed_demo` first"):
        _run("--scale", "0.01")


def test_seed_scale_refuses_a_scale_that_is_not_positive(settings):
    settings.DEMO_MODE = True
    _demo()
    with pytest.raises(CommandError, match="--scale must be a positive number"):
        _run("--scale", "0")


def test_scale_counts_round_up_and_take_overrides():
    assert ScaleCounts.at(1) == ScaleCounts(organisations=60, people=5000, rounds=40, versions=20000, datasets=20)
    assert ScaleCounts.at(0.01) == ScaleCounts(organisations=1, people=50, rounds=1, versions=200, datasets=1)
    assert ScaleCounts.at(0.01, rounds=3).rounds == 3


def test_seed_scale_creates_what_it_says_on_top_of_the_demo_and_is_idempotent(settings):
    settings.DEMO_MODE = True
    _demo()
    demo_orgs = Organisation.objects.count()
    demo_people = Person.objects.count()
    demo_rounds = Round.objects.count()
    out = _run("--scale", "0.01", "--organisations", "4", "--rounds", "3")
    totals = _totals()
    assert totals["organisations"] == demo_orgs + 4
    assert totals["people"] == demo_people + 50
    assert totals["rounds"] == demo_rounds + 3
    assert totals["versions"] == 200
    assert totals["runs"] == 6 * 200 and totals["attempts"] == 6 * 200
    assert totals["findings"] > 0 and totals["memberships"] > 0
    # One audit event per uploaded version, registration, round, organisation and approved person.
    assert AuditEvent.objects.filter(action="submissions.version_uploaded").count() == 200
    scale_registrations = RoundRegistration.objects.filter(round__slug__startswith="scale-").count()
    assert AuditEvent.objects.filter(action="workinggroups.round_registered").count() == scale_registrations
    # Each event at the moment of what it records, over the years, not at the moment of seeding.
    version = SubmissionVersion.objects.order_by("uploaded_at").first()
    event = AuditEvent.objects.get(action="submissions.version_uploaded", target_id=str(version.pk))
    assert event.at == version.uploaded_at and event.at.year < timezone.now().year
    assert "created     200 submission versions" in out
    # It builds on the demo: NVIDIA submits to every scale round, and scale people join demo groups.
    nvidia_rounds = Submission.objects.filter(organisation__slug="nvidia").values("round").distinct().count()
    assert nvidia_rounds == 3
    assert GroupMembership.objects.filter(group__slug="training", person__user__email__contains="scale").exists()
    # Failed versions have an error finding; passed ones none.
    failed = SubmissionVersion.objects.filter(verdict="failed").first()
    assert Finding.objects.filter(run__version=failed, severity="error").exists()
    assert not Finding.objects.filter(run__version__verdict="passed", severity="error").exists()
    # A second run creates nothing.
    again = _run("--scale", "0.01", "--organisations", "4", "--rounds", "3")
    assert _totals() == totals
    assert "nothing to add" in again
