"""The one predicate, for every combination of requirements (members only × agreement signed by no
one / each person / the organisation's signatory × admin approval) and every way to fall short."""

import datetime as dt
import itertools
from dataclasses import dataclass

import pytest
from django.utils import timezone

from consortium.licensing.access import Missing, access_decision
from consortium.licensing.models import AccessRequest, Agreement, Grant
from consortium.members.models import Membership, Person
from tests.factories import MembershipFactory, OrganisationFactory, PersonFactory, UserFactory, member_of
from tests.licensing.factories import AgreementFactory, DatasetFactory, accept, access_request, grant, publish

pytestmark = pytest.mark.django_db

POLICIES = list(itertools.product([False, True], [None, "person", "organisation"], [False, True]))


def policy_id(policy) -> str:
    membership, agreement, approval = policy
    parts = ["members" if membership else "anyone", f"agreement-{agreement}" if agreement else "no-agreement"]
    return "+".join([*parts, "approval" if approval else "no-approval"])


@dataclass
class World:
    dataset: object
    person: object
    organisation: object
    version: object | None
    grant: Grant | None


def build(policy, *, member=True, accepted=True, approved=True, granted=True) -> World:
    """A person who meets every requirement of `policy`, except those switched off."""
    membership, agreement_kind, approval = policy
    org = MembershipFactory(organisation=OrganisationFactory()).organisation
    person = member_of(org, full_name="Pat Person") if member else PersonFactory(full_name="Pat Person")
    agreement = None
    version = None
    if agreement_kind:
        signer = Agreement.Signer.ORGANISATION if agreement_kind == "organisation" else Agreement.Signer.PERSON
        agreement = AgreementFactory(signer=signer)
        version = publish(agreement)
    dataset = DatasetFactory(requires_membership=membership, agreement=agreement, requires_approval=approval)
    by_org = agreement_kind == "organisation"
    if version and accepted:
        if by_org:
            signatory = member_of(org, "signatory", full_name="Sig Natory")
            accept(version, signatory, organisation=org)
        else:
            accept(version, person)
    if approval and approved:
        access_request(dataset, person, state=AccessRequest.State.APPROVED, decided_at=timezone.now())
    the_grant = None
    if granted:
        holder = {"organisation": org} if by_org and not approval else {"person": person}
        the_grant = grant(dataset, **holder)
    return World(dataset, person, org, version, the_grant)


def needs_membership(policy) -> bool:
    return policy[0] or policy[1] == "organisation"


@pytest.mark.parametrize("policy", POLICIES, ids=policy_id)
def test_person_meeting_every_requirement_may_access(policy):
    world = build(policy)
    decision = access_decision(world.person, world.dataset)
    assert decision.allowed, decision.summary
    assert decision.missing == []
    assert decision.grant == world.grant


def test_user_object_is_resolved_to_its_person():
    world = build((True, "organisation", True))
    assert access_decision(world.person.user, world.dataset).allowed


@pytest.mark.parametrize("policy", [POLICIES[0], POLICIES[-1]], ids=policy_id)
def test_anonymous_is_asked_to_log_in(policy):
    world = build(policy)
    decision = access_decision(None, world.dataset)
    assert not decision.allowed and decision.codes == [Missing.LOGIN]


@pytest.mark.parametrize("policy", POLICIES, ids=policy_id)
def test_without_grant_access_is_denied_with_the_next_step(policy):
    world = build(policy, granted=False, approved=False)
    decision = access_decision(world.person, world.dataset)
    assert not decision.allowed
    expected = Missing.REQUEST_NEEDED if policy[2] else Missing.GRANT_MISSING
    assert expected in decision.codes


@pytest.mark.parametrize("policy", [p for p in POLICIES if needs_membership(p)], ids=policy_id)
def test_person_without_organisation_is_told_it_is_members_only(policy):
    world = build(policy, member=False, granted=False, approved=False, accepted=False)
    decision = access_decision(world.person, world.dataset)
    assert not decision.allowed
    assert decision.codes[0] == Missing.NOT_MEMBER
    assert "members only" in decision.missing[0].message


@pytest.mark.parametrize("policy", [p for p in POLICIES if needs_membership(p)], ids=policy_id)
@pytest.mark.parametrize(
    "change",
    [
        {"end_days_ago": 200},  # lapsed: past the 30-day grace period
        {"staff_override": Membership.Override.WITHDRAWN},
        {"staff_override": Membership.Override.SUSPENDED},
    ],
    ids=["lapsed", "withdrawn", "suspended"],
)
def test_membership_not_in_good_standing_denies_even_an_active_grant(policy, change):
    world = build(policy)
    membership = world.organisation.memberships.get()
    if "end_days_ago" in change:
        membership.end = timezone.localdate() - dt.timedelta(days=change["end_days_ago"])
    else:
        membership.staff_override = change["staff_override"]
    membership.save()
    decision = access_decision(world.person, world.dataset)
    assert not decision.allowed
    assert Missing.MEMBERSHIP in decision.codes
    assert world.grant.state == Grant.State.ACTIVE  # the predicate does not wait for the daily task


@pytest.mark.parametrize("policy", [p for p in POLICIES if needs_membership(p)], ids=policy_id)
def test_membership_in_its_grace_period_still_counts(policy):
    world = build(policy)
    membership = world.organisation.memberships.get()
    membership.end = timezone.localdate() - dt.timedelta(days=5)
    membership.save()
    assert access_decision(world.person, world.dataset).allowed


@pytest.mark.parametrize("policy", [p for p in POLICIES if needs_membership(p)], ids=policy_id)
def test_pending_affiliation_is_not_membership(policy):
    world = build(policy)
    Person.objects.filter(pk=world.person.pk).update(affiliation=Person.Affiliation.PENDING)
    world.person.refresh_from_db()
    decision = access_decision(world.person, world.dataset)
    assert not decision.allowed and Missing.AFFILIATION_PENDING in decision.codes


@pytest.mark.parametrize("policy", [p for p in POLICIES if p[1]], ids=policy_id)
def test_missing_acceptance_is_explained(policy):
    world = build(policy, accepted=False, granted=bool(policy[2]))
    decision = access_decision(world.person, world.dataset)
    assert not decision.allowed
    if policy[1] == "organisation":
        assert Missing.ORGANISATION_NOT_SIGNED in decision.codes
        assert "signatory" in decision.missing[-1].message or any("signatory" in r.message for r in decision.missing)
    else:
        assert Missing.AGREEMENT_NOT_ACCEPTED in decision.codes
        assert "version 1.0" in " ".join(r.message for r in decision.missing)


@pytest.mark.parametrize("policy", [p for p in POLICIES if p[1]], ids=policy_id)
def test_material_version_after_its_grace_period_requires_acceptance_again(policy):
    world = build(policy)
    publish(
        world.version.agreement,
        "2.0",
        "Changed terms.",
        material=True,
        grace_days=10,
        effective=timezone.localdate() - dt.timedelta(days=11),
    )
    decision = access_decision(world.person, world.dataset)
    assert not decision.allowed
    code = Missing.ORGANISATION_REACCEPTANCE_REQUIRED if policy[1] == "organisation" else Missing.REACCEPTANCE_REQUIRED
    assert code in decision.codes
    assert "2.0" in " ".join(r.message for r in decision.missing)


@pytest.mark.parametrize("policy", [p for p in POLICIES if p[1]], ids=policy_id)
def test_material_version_within_its_grace_period_keeps_access_with_a_warning(policy):
    world = build(policy)
    publish(
        world.version.agreement,
        "2.0",
        "Changed terms.",
        material=True,
        grace_days=30,
        effective=timezone.localdate() - dt.timedelta(days=3),
    )
    decision = access_decision(world.person, world.dataset)
    assert decision.allowed
    assert decision.notes and "2.0" in decision.notes[0]
    # …and the day the grace period ends, it no longer does.
    later = timezone.now() + dt.timedelta(days=28)
    assert not access_decision(world.person, world.dataset, at=later).allowed


@pytest.mark.parametrize("policy", [p for p in POLICIES if p[1]], ids=policy_id)
def test_non_material_version_keeps_earlier_acceptance_valid(policy):
    world = build(policy)
    publish(world.version.agreement, "1.1", "Typo fixed.", material=False, effective=timezone.localdate())
    decision = access_decision(world.person, world.dataset)
    assert decision.allowed and decision.agreement.current.label == "1.1"


@pytest.mark.parametrize("policy", [p for p in POLICIES if p[2]], ids=policy_id)
@pytest.mark.parametrize(
    ("state", "code"),
    [
        (AccessRequest.State.SUBMITTED, Missing.REQUEST_PENDING),
        (AccessRequest.State.RETURNED, Missing.REQUEST_RETURNED),
        (AccessRequest.State.REJECTED, Missing.REQUEST_REJECTED),
        (AccessRequest.State.WITHDRAWN, Missing.REQUEST_NEEDED),
    ],
)
def test_request_states_are_explained(policy, state, code):
    world = build(policy, approved=False, granted=False)
    access_request(world.dataset, world.person, state=state, decided_at=timezone.now(), reason="Not enough detail")
    decision = access_decision(world.person, world.dataset)
    assert not decision.allowed and code in decision.codes


@pytest.mark.parametrize("policy", POLICIES, ids=policy_id)
@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"state": Grant.State.REVOKED, "reason": "Terms broken"}, Missing.GRANT_REVOKED),
        ({"state": Grant.State.SUSPENDED, "suspension_cause": "admin"}, Missing.GRANT_SUSPENDED),
        ({"state": Grant.State.EXPIRED}, Missing.GRANT_EXPIRED),
        # Past its end but not yet expired by the daily task: denied all the same.
        ({"ends_at_days": -1}, Missing.GRANT_EXPIRED),
        ({"starts_at_days": 2}, Missing.GRANT_NOT_STARTED),
    ],
    ids=["revoked", "suspended", "expired", "past-end", "not-started"],
)
def test_grant_that_is_not_in_force_denies(policy, change, code):
    world = build(policy)
    fields = dict(change)
    if "ends_at_days" in fields:
        fields["ends_at"] = timezone.now() + dt.timedelta(days=fields.pop("ends_at_days"))
    if "starts_at_days" in fields:
        fields["starts_at"] = timezone.now() + dt.timedelta(days=fields.pop("starts_at_days"))
    Grant.objects.filter(pk=world.grant.pk).update(**fields)
    decision = access_decision(world.person, world.dataset)
    assert not decision.allowed
    assert code in decision.codes, decision.summary


def test_organisation_grant_covers_colleagues_but_not_outsiders():
    world = build((False, "organisation", False))
    colleague = member_of(world.organisation, full_name="Col League")
    outsider = member_of(MembershipFactory().organisation, full_name="Out Sider")
    assert access_decision(colleague, world.dataset).allowed
    assert not access_decision(outsider, world.dataset).allowed


def test_unlisted_dataset_is_denied():
    world = build((False, None, False))
    world.dataset.is_listed = False
    world.dataset.save()
    assert Missing.UNLISTED in access_decision(world.person, world.dataset).codes


def test_account_without_profile_is_told_so():
    world = build((False, None, False))
    decision = access_decision(UserFactory(), world.dataset)
    assert decision.codes == [Missing.PROFILE]


def test_explanations_come_in_the_order_a_person_fixes_them():
    world = build((True, "person", True), member=False, accepted=False, approved=False, granted=False)
    assert access_decision(world.person, world.dataset).codes == [
        Missing.NOT_MEMBER,
        Missing.REQUEST_NEEDED,
        Missing.AGREEMENT_NOT_ACCEPTED,
    ]


def test_a_future_version_is_not_yet_required():
    world = build((False, "person", False))
    publish(
        world.version.agreement,
        "2.0",
        "Later terms.",
        material=True,
        grace_days=0,
        effective=timezone.localdate() + dt.timedelta(days=5),
    )
    decision = access_decision(world.person, world.dataset)
    assert decision.allowed and decision.agreement.current.label == "1.0"
