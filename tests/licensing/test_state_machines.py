"""Access requests (submitted → approved | rejected | returned | withdrawn, cooldown) and grants
(active → expired | revoked | suspended → active), through the services."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from consortium.audit.models import AuditEvent
from consortium.licensing import services
from consortium.licensing.access import Missing, access_decision
from consortium.licensing.models import AccessRequest, Grant
from tests.factories import MembershipFactory, member_of
from tests.licensing.factories import DatasetFactory, grant

pytestmark = pytest.mark.django_db
State = AccessRequest.State


@pytest.fixture
def org():
    return MembershipFactory().organisation


@pytest.fixture
def person(org):
    return member_of(org, full_name="Rita Requester")


@pytest.fixture
def dataset():
    return DatasetFactory(
        requires_approval=True, access_questions="Who holds the data?\nHow is it secured?", request_cooldown_days=30
    )


def submit(dataset, person, **kw):
    return services.access_request_submit(
        dataset=dataset,
        person=person,
        purpose=kw.pop("purpose", "Benchmarking."),
        answers=kw.pop("answers", ["Our lab", "Encrypted disks"]),
        actor=person.user,
        **kw,
    )


def test_submit_records_answers_and_audits(dataset, person):
    request = submit(dataset, person)
    assert request.state == State.SUBMITTED
    assert request.answers == [
        {"question": "Who holds the data?", "answer": "Our lab"},
        {"question": "How is it secured?", "answer": "Encrypted disks"},
    ]
    assert AuditEvent.objects.filter(action="licensing.request_submitted", target_id=str(request.pk)).exists()


def test_unanswered_question_is_refused(dataset, person):
    with pytest.raises(ValidationError, match="Answer every question"):
        submit(dataset, person, answers=["Our lab", "  "])
    assert not AccessRequest.objects.exists()


def test_second_open_request_is_refused(dataset, person):
    submit(dataset, person)
    with pytest.raises(ValidationError, match="already have a request"):
        submit(dataset, person)


def test_dataset_without_approval_takes_no_requests(person):
    with pytest.raises(ValidationError, match="does not need a request"):
        submit(DatasetFactory(), person)


def test_approval_grants_access_for_the_dataset_length(dataset, person, dataset_admin):
    request = submit(dataset, person)
    the_grant = services.access_request_approve(access_request=request, actor=dataset_admin, reason="Fine")
    request.refresh_from_db()
    assert request.state == State.APPROVED and request.reviewer == dataset_admin and request.decided_at
    assert the_grant.access_request == request and the_grant.state == Grant.State.ACTIVE
    assert abs((the_grant.ends_at - the_grant.starts_at) - dt.timedelta(days=365)) < dt.timedelta(seconds=5)
    assert access_decision(person, dataset).allowed


@pytest.mark.parametrize("decided", [State.APPROVED, State.REJECTED, State.RETURNED, State.WITHDRAWN])
def test_deciding_an_already_decided_request_changes_nothing(dataset, person, dataset_admin, decided):
    request = submit(dataset, person)
    AccessRequest.objects.filter(pk=request.pk).update(state=decided, reviewer=dataset_admin, decided_at=timezone.now())
    for action in (
        lambda: services.access_request_approve(access_request=request, actor=dataset_admin),
        lambda: services.access_request_reject(access_request=request, actor=dataset_admin, reason="No"),
        lambda: services.access_request_return(access_request=request, actor=dataset_admin, reason="More"),
    ):
        with pytest.raises(ValidationError, match=r"already .*nothing changed"):
            action()
    request.refresh_from_db()
    assert request.state == decided
    assert not Grant.objects.exists()


def test_reject_and_return_need_a_reason(dataset, person, dataset_admin):
    request = submit(dataset, person)
    with pytest.raises(ValidationError, match="reason"):
        services.access_request_reject(access_request=request, actor=dataset_admin, reason=" ")
    with pytest.raises(ValidationError, match="should change"):
        services.access_request_return(access_request=request, actor=dataset_admin, reason="")
    request.refresh_from_db()
    assert request.state == State.SUBMITTED


def test_only_dataset_admins_decide(dataset, person, other_staff):
    request = submit(dataset, person)
    with pytest.raises(PermissionDenied):
        services.access_request_approve(access_request=request, actor=person.user)
    with pytest.raises(PermissionDenied):
        services.access_request_approve(access_request=request, actor=other_staff)


def test_returned_request_is_resubmitted_by_its_author(dataset, person, dataset_admin):
    request = submit(dataset, person)
    services.access_request_return(access_request=request, actor=dataset_admin, reason="Name the lab")
    assert access_decision(person, dataset).has(Missing.REQUEST_RETURNED)
    services.access_request_resubmit(
        access_request=request, purpose="Benchmarking at Lab X.", answers=["Lab X", "Vault"], actor=person.user
    )
    request.refresh_from_db()
    assert request.state == State.SUBMITTED and request.answers[0]["answer"] == "Lab X"


def test_someone_else_cannot_resubmit_or_withdraw(dataset, person, org, dataset_admin):
    request = submit(dataset, person)
    stranger = member_of(org, full_name="Stran Ger")
    with pytest.raises(PermissionDenied):
        services.access_request_withdraw(access_request=request, actor=stranger.user)
    services.access_request_return(access_request=request, actor=dataset_admin, reason="More")
    with pytest.raises(PermissionDenied):
        services.access_request_resubmit(access_request=request, purpose="x", answers=["a", "b"], actor=stranger.user)


def test_withdrawn_request_can_be_followed_by_a_new_one(dataset, person):
    request = submit(dataset, person)
    services.access_request_withdraw(access_request=request, actor=person.user)
    with pytest.raises(ValidationError, match="already withdrawn"):
        services.access_request_withdraw(access_request=request, actor=person.user)
    assert submit(dataset, person).state == State.SUBMITTED


def test_rejected_person_waits_for_the_cooldown(dataset, person, dataset_admin):
    request = submit(dataset, person)
    services.access_request_reject(access_request=request, actor=dataset_admin, reason="Not a research use")
    with pytest.raises(ValidationError, match="you may ask again from"):
        submit(dataset, person)
    AccessRequest.objects.filter(pk=request.pk).update(decided_at=timezone.now() - dt.timedelta(days=31))
    assert submit(dataset, person).state == State.SUBMITTED


def test_person_with_access_cannot_ask_again(dataset, person, dataset_admin):
    services.access_request_approve(access_request=submit(dataset, person), actor=dataset_admin)
    with pytest.raises(ValidationError, match="already have access"):
        submit(dataset, person)


# --- Grants -------------------------------------------------------------------------------------


def test_revocation_ends_access_at_once_and_needs_a_reason(person, dataset_admin):
    dataset = DatasetFactory()
    the_grant = grant(dataset, person=person)
    with pytest.raises(ValidationError, match="reason"):
        services.grant_revoke(grant=the_grant, actor=dataset_admin, reason="")
    services.grant_revoke(grant=the_grant, actor=dataset_admin, reason="Terms broken")
    the_grant.refresh_from_db()
    assert the_grant.state == Grant.State.REVOKED and the_grant.ended_by == dataset_admin
    decision = access_decision(person, dataset)
    assert decision.codes == [Missing.GRANT_REVOKED] and "Terms broken" in decision.missing[0].message
    with pytest.raises(ValidationError, match="already revoked"):
        services.grant_revoke(grant=the_grant, actor=dataset_admin, reason="Again")
    assert AuditEvent.objects.filter(action="licensing.grant_revoked", reason="Terms broken").count() == 1


def test_revoked_person_cannot_take_access_up_again_alone(person, dataset_admin):
    dataset = DatasetFactory()
    services.grant_revoke(grant=grant(dataset, person=person), actor=dataset_admin, reason="Abuse")
    with pytest.raises(ValidationError, match="revoked"):
        services.grant_take_up(dataset=dataset, person=person, actor=person.user)


def test_extending_moves_the_end_and_revives_an_expired_grant(person, dataset_admin):
    dataset = DatasetFactory()
    the_grant = grant(dataset, person=person, state=Grant.State.EXPIRED, ends_at=timezone.now() - dt.timedelta(days=1))
    new_end = timezone.now() + dt.timedelta(days=90)
    services.grant_extend(grant=the_grant, ends_at=new_end, actor=dataset_admin, reason="Project extended")
    the_grant.refresh_from_db()
    assert the_grant.state == Grant.State.ACTIVE and the_grant.ends_at == new_end
    assert access_decision(person, dataset).allowed


def test_extending_refuses_past_dates_and_revoked_grants(person, dataset_admin):
    dataset = DatasetFactory()
    the_grant = grant(dataset, person=person)
    with pytest.raises(ValidationError, match="future"):
        services.grant_extend(grant=the_grant, ends_at=timezone.now() - dt.timedelta(days=1), actor=dataset_admin)
    services.grant_revoke(grant=the_grant, actor=dataset_admin, reason="x")
    with pytest.raises(ValidationError, match="revoked grant cannot be extended"):
        services.grant_extend(grant=the_grant, ends_at=None, actor=dataset_admin)


def test_suspend_and_reinstate(person, dataset_admin):
    dataset = DatasetFactory()
    the_grant = grant(dataset, person=person)
    services.grant_suspend(grant=the_grant, actor=dataset_admin, reason="Investigating")
    assert access_decision(person, dataset).codes == [Missing.GRANT_SUSPENDED]
    with pytest.raises(ValidationError, match="Only an active grant"):
        services.grant_suspend(grant=the_grant, actor=dataset_admin, reason="Again")
    services.grant_reinstate(grant=the_grant, actor=dataset_admin)
    assert access_decision(person, dataset).allowed
    with pytest.raises(ValidationError, match="Only a suspended grant"):
        services.grant_reinstate(grant=the_grant, actor=dataset_admin)


def test_one_live_grant_per_holder(person, dataset_admin):
    dataset = DatasetFactory()
    services.grant_create(dataset=dataset, person=person, actor=dataset_admin)
    with pytest.raises(ValidationError, match="already has a grant"):
        services.grant_create(dataset=dataset, person=person, actor=dataset_admin)


def test_open_dataset_is_taken_up_and_renewed_after_expiry(person):
    dataset = DatasetFactory(grant_days=None)
    first = services.grant_take_up(dataset=dataset, person=person, actor=person.user)
    assert first.ends_at is None and first.rests_on == ["open access"]
    with pytest.raises(ValidationError, match="already have access"):
        services.grant_take_up(dataset=dataset, person=person, actor=person.user)
    Grant.objects.filter(pk=first.pk).update(ends_at=timezone.now() - dt.timedelta(seconds=1))
    second = services.grant_take_up(dataset=dataset, person=person, actor=person.user)
    first.refresh_from_db()
    assert first.state == Grant.State.EXPIRED and second.state == Grant.State.ACTIVE


def test_members_only_take_up_needs_membership():
    from tests.factories import PersonFactory

    dataset = DatasetFactory(requires_membership=True)
    outsider = PersonFactory(full_name="No Org")
    with pytest.raises(ValidationError, match="members only"):
        services.grant_take_up(dataset=dataset, person=outsider, actor=outsider.user)
    assert not Grant.objects.exists()
