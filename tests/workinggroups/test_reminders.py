"""Reminders by beat: run the task functions twice, see one email each."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from consortium.common.models import OutgoingMail
from tests.workinggroups.factories import add_phases, deadline_in, round_with_phases
from workinggroups import services, tasks
from workinggroups.models import Round, RoundPhase, RoundRegistration

pytestmark = pytest.mark.django_db


def _reminder_kinds() -> list[str]:
    """The kinds of reminder the outbox holds (its keys are workinggroups.reminder:<kind>:...)."""
    keys = OutgoingMail.objects.filter(key__startswith="workinggroups.reminder:").values_list("key", flat=True)
    return sorted(key.split(":")[1] for key in keys)


def _registered(roles, round):
    registration = RoundRegistration.objects.create(round=round, organisation=roles.org)
    registration.contacts.add(roles.submitter.person)
    return registration


def _move_deadline_to(round: Round, deadline: dt.datetime) -> None:
    """Puts the submission deadline at `deadline` (and the later phases after it)."""
    RoundPhase.objects.filter(round=round).delete()
    add_phases(round, dt.date(2030, 5, 17))
    shift = deadline - RoundPhase.objects.get(round=round, kind="submission").ends_at
    for phase in RoundPhase.objects.filter(round=round):
        phase.starts_at += shift
        phase.ends_at += shift
        phase.save()


@pytest.fixture
def round(roles):
    round = round_with_phases(group=roles.group, deadline=deadline_in(70), name="Training v9.0", slug="t9")
    _registered(roles, round)
    return round


def run_twice(task, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = task()
    with django_capture_on_commit_callbacks(execute=True):
        second = task()
    return first, second


def test_seven_days_before_the_deadline_once(roles, round, django_capture_on_commit_callbacks):
    _move_deadline_to(round, timezone.now() + dt.timedelta(days=6, hours=20))
    first, second = run_twice(tasks.send_deadline_reminders, django_capture_on_commit_callbacks)
    assert (first, second) == (1, 0)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [roles.submitter.email]
    assert "submission deadline" in message.subject and "in 7 days" in message.body
    assert " PST" in message.body or " PDT" in message.body
    assert _reminder_kinds() == ["deadline_7d"]


def test_one_day_before_the_deadline_once(roles, round, django_capture_on_commit_callbacks):
    _move_deadline_to(round, timezone.now() + dt.timedelta(hours=20))
    assert run_twice(tasks.send_deadline_reminders, django_capture_on_commit_callbacks) == (1, 0)
    assert "in 1 day" in mail.outbox[0].body
    assert _reminder_kinds() == ["deadline_1d"]


def test_no_reminder_far_from_the_deadline_or_for_drafts_or_after_it(roles, round, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_deadline_reminders() == 0  # ten weeks ahead
    _move_deadline_to(round, timezone.now() - dt.timedelta(hours=1))
    assert services.deadline_reminders_send() == 0
    _move_deadline_to(round, timezone.now() + dt.timedelta(hours=5))
    Round.objects.filter(pk=round.pk).update(published=False)
    assert services.deadline_reminders_send() == 0
    assert mail.outbox == []


def test_moved_deadline_gets_its_own_reminder(roles, round, django_capture_on_commit_callbacks):
    deadline = timezone.now() + dt.timedelta(hours=10)
    _move_deadline_to(round, deadline)
    with django_capture_on_commit_callbacks(execute=True):
        services.deadline_reminders_send()
    _move_deadline_to(round, deadline + dt.timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        services.deadline_reminders_send()
    assert len(mail.outbox) == 2


def test_reminders_at_the_right_moment_in_the_rounds_zone(roles, round):
    # Deadline Fri 13:00 Pacific = 20:00 UTC in summer: the 1-day reminder is due from Thu 20:00 UTC.
    deadline = dt.datetime(2030, 5, 17, 20, tzinfo=dt.UTC)
    _move_deadline_to(round, deadline)
    assert services.deadline_reminders_send(now=deadline - dt.timedelta(days=1, minutes=1)) == 1
    assert _reminder_kinds() == ["deadline_7d"]
    assert services.deadline_reminders_send(now=deadline - dt.timedelta(days=1)) == 1
    assert services.deadline_reminders_send(now=deadline - dt.timedelta(hours=1)) == 0
    assert _reminder_kinds() == ["deadline_1d", "deadline_7d"]


def test_chairs_hear_when_a_phase_starts_once(roles, round, django_capture_on_commit_callbacks):
    phase = RoundPhase.objects.get(round=round, kind="registration")
    RoundPhase.objects.filter(pk=phase.pk).update(starts_at=timezone.now() - dt.timedelta(minutes=5))
    first, second = run_twice(tasks.send_phase_reminders, django_capture_on_commit_callbacks)
    assert (first, second) == (1, 0)
    assert mail.outbox[0].to == [roles.chair.email]
    assert "registration has started" in mail.outbox[0].subject.lower()


def test_stale_phase_starts_are_not_announced(roles, round):
    RoundPhase.objects.filter(round=round, kind="registration").update(starts_at=timezone.now() - dt.timedelta(days=3))
    assert services.phase_reminders_send() == 0


def test_tasks_accept_unknown_keyword_arguments(roles, round):
    assert tasks.send_deadline_reminders(old_argument=1) == 0
    assert tasks.send_phase_reminders(old_argument=1) == 0
