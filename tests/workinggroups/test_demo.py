"""The demo seed: groups and rounds from the CSV files, chairs, meetings, registrations, and example
rounds dated around `today` (a live submission window and a round in review)."""

import datetime as dt

import pytest

from consortium.members.demo import seed_members
from workinggroups import permissions, schedules, selectors
from workinggroups.demo import seed_workinggroups
from workinggroups.models import MeetingSeries, Round, RoundRegistration, WorkingGroup

pytestmark = pytest.mark.django_db
REVIEW = {"objection_filing", "objection_review", "revision"}


def seed(today):
    seed_members(today=today, log=lambda *_: None)
    seed_workinggroups(today=today, log=lambda *_: None)


def at_noon(today):
    return dt.datetime.combine(today, dt.time(12), tzinfo=schedules.zone("America/Los_Angeles"))


@pytest.mark.parametrize("today", [dt.date(2026, 11, 28), dt.date(2026, 5, 27), dt.date(2027, 1, 15)])
def test_demo_has_an_open_window_and_a_round_in_review(today):
    seed(today)
    seed(today)  # idempotent
    now = at_noon(today)
    rounds = list(Round.objects.prefetch_related("phases"))
    assert len(rounds) == 14 and len({r.slug for r in rounds}) == 14
    open_rounds = [r for r in rounds if selectors.round_submission_window_open(r, now)]
    assert any(r.is_example for r in open_rounds)
    assert any((p := selectors.round_current_phase(r, now)) and p.kind in REVIEW for r in rounds)
    assert any(selectors.round_current_phase(r, now).kind == "publication" for r in rounds)  # past rounds
    for round in rounds:
        assert schedules.check_phases(round.phases.all(), time_zone=round.time_zone, grace=round.grace) == []


def test_demo_people_groups_meetings_and_registrations():
    today = dt.date(2026, 11, 28)
    seed(today)
    from django.contrib.auth import get_user_model

    chair = get_user_model().objects.get(email="chair@example.org")
    training = WorkingGroup.objects.get(slug="training")
    assert permissions.is_chair(chair, training)
    assert WorkingGroup.objects.count() == 16
    assert MeetingSeries.objects.filter(group=training).exists()
    assert training.join_requests.filter(state="submitted").exists()
    example = Round.objects.get(slug="training-v7-0")
    assert example.is_example and example.ruleset == "6.1.0" and "llama31_8b" in example.benchmarks
    registration = RoundRegistration.objects.get(round=example, organisation__slug="nvidia")
    assert [p.user.email for p in registration.contacts.all()] == ["submitter@example.org"]
    real = Round.objects.get(slug="training-v5-0")
    deadline = selectors.round_deadline(real)
    assert deadline == dt.datetime(2025, 5, 2, 20, tzinfo=dt.UTC)  # Fri 13:00 PDT, from the CSV
    publication = selectors.round_phase(real, "publication").starts_at
    assert publication == dt.datetime(2025, 6, 4, 17, tzinfo=dt.UTC)  # the CSV's date, 10:00 PDT
    inference = Round.objects.get(slug="inference-v5-0")
    assert inference.suite == "inference" and inference.ruleset == ""


def test_demo_practice_round_is_open_under_the_rules_of_the_shared_packages():
    today = dt.date(2026, 12, 3)
    seed(today)
    practice = Round.objects.get(slug="training-practice-v5-1")
    assert practice.name == "Training practice round (v5.1 rules)" and practice.is_example
    assert practice.ruleset == "5.1.0" and "Practice round" in practice.description
    assert selectors.round_submission_window_open(practice, at_noon(today))
    assert RoundRegistration.objects.filter(round=practice, organisation__slug="nvidia").exists()


@pytest.mark.realdata
def test_shared_v51_package_passes_the_practice_rounds_ruleset(mlperf_dir):
    from submissions.compliance.package import check_package

    seed(dt.date(2026, 12, 3))
    practice = Round.objects.get(slug="training-practice-v5-1")
    report = check_package(mlperf_dir / "training_results_v5.1" / "NVIDIA", practice.suite, practice.ruleset)
    assert report.verdict == "pass"
