"""factory_boy factories and small builders for the working groups app."""

import datetime as dt

import factory
from django.utils import timezone

from tests.factories import PersonFactory
from workinggroups import schedules
from workinggroups.models import (
    GroupMembership,
    JoinRequest,
    MeetingSeries,
    Round,
    RoundPhase,
    WorkingGroup,
)


class WorkingGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkingGroup
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Group {n}")
    slug = factory.Sequence(lambda n: f"group-{n}")
    area = WorkingGroup.Area.BENCHMARKS
    purpose = "Benchmarks for testing"


class GroupMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GroupMembership

    group = factory.SubFactory(WorkingGroupFactory)
    person = factory.SubFactory(PersonFactory)
    role = GroupMembership.Role.MEMBER


class JoinRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JoinRequest

    group = factory.SubFactory(WorkingGroupFactory)
    person = factory.SubFactory(PersonFactory)
    message = "Please let me in."


class MeetingSeriesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MeetingSeries

    group = factory.SubFactory(WorkingGroupFactory)
    title = factory.Sequence(lambda n: f"Weekly call {n}")
    rrule = "FREQ=WEEKLY;BYDAY=TU"
    starts_on = dt.date(2026, 1, 6)
    start_time = dt.time(9, 0)
    time_zone = "America/Los_Angeles"
    duration_minutes = 60
    ends_on = dt.date(2026, 12, 29)
    join_link = "https://meet.example.org/call"


class RoundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Round

    group = factory.SubFactory(WorkingGroupFactory)
    name = factory.Sequence(lambda n: f"Training v{n}.0")
    slug = factory.Sequence(lambda n: f"training-v{n}-0")
    suite = Round.Suite.TRAINING
    ruleset = "6.1.0"
    benchmarks = factory.LazyFunction(list)
    divisions = factory.LazyFunction(lambda: ["closed", "open"])
    time_zone = "America/Los_Angeles"
    published = False


def add_phases(round: Round, deadline: dt.date) -> list[RoundPhase]:
    """The MLPerf phases of `round` for a deadline (a Friday), saved."""
    return [
        RoundPhase.objects.create(round=round, kind=p.kind, starts_at=p.starts_at, ends_at=p.ends_at)
        for p in schedules.mlperf_schedule(deadline, round.time_zone, grace=round.grace)
    ]


def deadline_in(days: int) -> dt.date:
    """The first Friday at least `days` days from today."""
    return schedules.next_friday(timezone.localdate(), min_days=days)


def round_with_phases(*, deadline: dt.date, published: bool = True, **kwargs) -> Round:
    round = RoundFactory(published=published, **kwargs)
    add_phases(round, deadline)
    return round
