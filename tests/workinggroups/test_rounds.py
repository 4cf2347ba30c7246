"""Rounds: generating the schedule from a deadline, adjusting it, publishing, the clock-derived
phase, and registration of organisations."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from consortium.members.models import Membership, MembershipTier
from tests.workinggroups.factories import GroupMembershipFactory, RoundFactory, WorkingGroupFactory, deadline_in
from workinggroups import schedules, selectors, services
from workinggroups.models import GroupMembership, Round, RoundPhase, RoundRegistration

pytestmark = pytest.mark.django_db


def create(roles, deadline=dt.date(2030, 5, 17), **fields):
    data = {"name": "Training v9.0", "slug": "training-v9-0", "suite": "training", "ruleset": "6.1.0"} | fields
    return services.round_create(group=roles.group, actor=roles.chair, deadline=deadline, **data)


def phases(round):
    return {p.kind: p for p in RoundPhase.objects.filter(round=round)}


def test_chair_creates_a_round_with_generated_phases(roles):
    round = create(roles)
    found = phases(round)
    assert list(found) == list(schedules.PHASE_KINDS)
    assert found["submission"].ends_at == dt.datetime(2030, 5, 17, 20, tzinfo=dt.UTC)  # 13:00 PDT
    assert round.benchmarks  # defaulted to the ruleset's list
    assert round.time_zone == "America/Los_Angeles" and round.grace_minutes == 60
    assert not round.published


def test_regenerating_keeps_uids_and_raises_sequence(roles):
    round = create(roles)
    before = phases(round)
    services.round_schedule_generate(round=round, deadline=dt.date(2030, 5, 24), actor=roles.chair)
    after = phases(round)
    for kind in schedules.PHASE_KINDS:
        assert after[kind].uid == before[kind].uid
        assert after[kind].sequence == before[kind].sequence + 1
    services.round_schedule_generate(round=round, deadline=dt.date(2030, 5, 24), actor=roles.chair)
    assert {k: p.sequence for k, p in phases(round).items()} == {k: 1 for k in schedules.PHASE_KINDS}


def test_adjusting_one_phase_moves_only_it(roles):
    round = create(roles)
    publication = phases(round)["publication"]
    later = publication.starts_at + dt.timedelta(days=7)
    moved = services.round_phases_adjust(round=round, times={"publication": (later, later)}, actor=roles.chair)
    assert moved == ["publication"]
    found = phases(round)
    assert found["publication"].starts_at == later and found["publication"].sequence == 1
    assert found["revision"].sequence == 0


def test_overlapping_adjustment_is_refused_and_nothing_saved(roles):
    round = create(roles)
    before = phases(round)
    review = before["objection_review"]
    with pytest.raises(ValidationError) as info:
        services.round_phases_adjust(
            round=round,
            times={
                "objection_review": (review.starts_at - dt.timedelta(days=3), review.ends_at),
                "publication": (before["publication"].starts_at + dt.timedelta(days=1),) * 2,
            },
            actor=roles.chair,
        )
    assert "before objection filing closes" in " ".join(info.value.message_dict["objection_review"])
    assert {k: (p.starts_at, p.sequence) for k, p in phases(round).items()} == {
        k: (p.starts_at, p.sequence) for k, p in before.items()
    }


def test_publish_refuses_a_deadline_in_the_past(roles):
    round = create(roles, deadline=dt.date(2020, 5, 15), slug="old", name="Old")
    with pytest.raises(ValidationError, match="is in the past"):
        services.round_publish(round=round, actor=roles.chair)
    round.refresh_from_db()
    assert not round.published


def test_publish_refuses_an_incomplete_schedule(roles):
    round = services.round_create(group=roles.group, actor=roles.chair, name="No dates", slug="no-dates", suite="other")
    with pytest.raises(ValidationError, match="has no registration phase"):
        services.round_publish(round=round, actor=roles.chair)


def test_publish_and_unpublish(roles):
    round = create(roles)
    services.round_publish(round=round, actor=roles.chair)
    round.refresh_from_db()
    assert round.published and round.published_by == roles.chair
    with pytest.raises(ValidationError, match="already published"):
        services.round_publish(round=round, actor=roles.chair)
    services.round_unpublish(round=round, actor=roles.staff)
    round.refresh_from_db()
    assert not round.published


def test_chair_cannot_schedule_round_for_other_group(roles):
    other = WorkingGroupFactory(name="HPC", slug="hpc")
    with pytest.raises(PermissionDenied):
        services.round_create(
            group=other, actor=roles.chair, name="HPC v4", slug="hpc-v4", suite="hpc", ruleset="3.0.0"
        )
    round = create(roles)
    GroupMembershipFactory(group=other, person=roles.member.person, role=GroupMembership.Role.CHAIR)
    with pytest.raises(PermissionDenied):
        services.round_schedule_generate(round=round, deadline=dt.date(2030, 5, 24), actor=roles.member)
    with pytest.raises(PermissionDenied):
        services.round_publish(round=round, actor=roles.member)


def test_current_phase_and_submission_window_follow_the_clock(roles):
    round = create(roles)
    services.round_publish(round=round, actor=roles.chair)
    round = Round.objects.get(pk=round.pk)
    deadline = selectors.round_deadline(round)
    assert selectors.round_deadline_with_grace(round) == deadline + dt.timedelta(minutes=60)
    assert selectors.round_current_phase(round, deadline - dt.timedelta(days=1)).kind == "submission"
    assert selectors.round_submission_window_open(round, deadline + dt.timedelta(minutes=59))
    assert not selectors.round_submission_window_open(round, deadline + dt.timedelta(minutes=60))
    assert selectors.round_current_phase(round, deadline + dt.timedelta(days=8)).kind == "objection_review"
    assert selectors.round_status(round, deadline + dt.timedelta(days=8)) == "Objection review"
    assert selectors.round_status(round, deadline - dt.timedelta(weeks=20)) == "Upcoming"
    Round.objects.filter(pk=round.pk).update(published=False)
    assert not selectors.round_submission_window_open(Round.objects.get(pk=round.pk), deadline - dt.timedelta(days=1))


# Registration ------------------------------------------------------------------------------


@pytest.fixture
def open_round(roles):
    """A published round whose registration is open now (deadline about 10 weeks ahead)."""
    round = create(roles, deadline=deadline_in(70))
    services.round_publish(round=round, actor=roles.chair)
    return Round.objects.get(pk=round.pk)


def register(roles, round, actor=None, contacts=None):
    return services.round_register(
        round=round,
        organisation=roles.org,
        contacts=contacts if contacts is not None else [roles.submitter.person],
        actor=actor or roles.submitter,
    )


def test_submitter_registers_the_organisation(roles, open_round):
    registration = register(roles, open_round)
    assert list(registration.contacts.all()) == [roles.submitter.person]
    assert selectors.round_is_registered(open_round, roles.org)
    # The primary contact updates it; still one registration.
    register(roles, open_round, actor=roles.primary)
    assert RoundRegistration.objects.count() == 1


def test_contacts_must_hold_the_submitter_role(roles, open_round):
    with pytest.raises(ValidationError, match="Not a submitter at Acme AI"):
        register(roles, open_round, contacts=[roles.member.person])
    with pytest.raises(ValidationError, match="at least one contact"):
        register(roles, open_round, contacts=[])
    assert not RoundRegistration.objects.exists()


def test_plain_members_and_other_organisations_cannot_register(roles, open_round):
    for user in (roles.member, roles.chair, roles.dataset_admin):
        with pytest.raises(PermissionDenied):
            register(roles, open_round, actor=user)


def test_tier_that_may_not_submit_cannot_register(roles, open_round):
    tier = MembershipTier.objects.create(name="Affiliate", slug="affiliate", may_submit_results=False)
    Membership.objects.filter(organisation=roles.org).update(tier=tier)
    with pytest.raises(ValidationError, match="does not include submitting results"):
        register(roles, open_round)


def test_lapsed_membership_cannot_register(roles, open_round):
    Membership.objects.filter(organisation=roles.org).update(staff_override="suspended")
    with pytest.raises(ValidationError, match="membership is suspended"):
        register(roles, open_round)


def test_registration_closes_eight_weeks_before(roles):
    round = create(roles, deadline=deadline_in(21))  # registration closed a few weeks ago
    services.round_publish(round=round, actor=roles.chair)
    with pytest.raises(ValidationError, match=r"Registration for Training v9\.0 closed"):
        register(roles, round)


def test_withdraw_registration(roles, open_round):
    registration = register(roles, open_round)
    services.round_registration_withdraw(registration=registration, actor=roles.primary)
    assert not RoundRegistration.objects.exists()


def test_round_of_other_suite_has_schedule_without_ruleset(roles):
    round = services.round_create(
        group=roles.group,
        actor=roles.chair,
        name="Inference v7.0",
        slug="inf-7",
        suite="inference",
        deadline=dt.date(2030, 2, 15),
    )
    assert round.ruleset == "" and round.benchmarks == []
    assert len(phases(round)) == 6


def test_rounds_visible_to(roles):
    draft = RoundFactory(group=roles.group, slug="draft", name="Draft")
    published = RoundFactory(group=roles.group, slug="pub", name="Pub", published=True)
    assert set(selectors.rounds_visible_to(None)) == {published}
    assert set(selectors.rounds_visible_to(roles.member)) == {published}
    assert set(selectors.rounds_visible_to(roles.chair)) == {draft, published}
    assert set(selectors.rounds_visible_to(roles.staff)) == {draft, published}
