"""Objections, answers, decisions, votes, withdrawals, publication and corrections: the services,
their refusals (with the message the user sees, nothing changed), the audit log and the notices."""

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from consortium.audit.models import AuditEvent
from submissions.models import Submission
from submissions.permissions import can_view_submission
from submissions.review import services
from submissions.review.models import (
    Ballot,
    Correction,
    Objection,
    Publication,
    PublishedResult,
    ReviewAssignment,
    Vote,
    Withdrawal,
)
from submissions.selectors import submissions_visible_to
from tests.review.conftest import make_review
from tests.review.factories import frozen_submission, new_org

pytestmark = pytest.mark.django_db
EVIDENCE = [{"path": "results/box/retinanet/result_0.txt", "line": 3}]


def _file(review, user, **overrides):
    fields = dict(
        actor=user,
        submission=review.initech,
        summary="Batch size not allowed",
        rule="Training rules 5.1",
        details="See line 3.",
        fix_required=True,
        evidence=EVIDENCE,
    )
    fields.update(overrides)
    return services.objection_file(**fields)


# ---------------------------------------------------------------- visibility (the one predicate)


def test_after_the_deadline_every_submitting_org_and_the_chairs_see_every_submission(roles, review):
    for user in (roles.submitter, roles.member, roles.primary, review.initech_submitter, roles.chair, roles.staff):
        assert can_view_submission(user, review.initech) and can_view_submission(user, review.acme)
        assert set(submissions_visible_to(user).filter(round=review.round)) == {review.acme, review.initech}
    for user in (review.outsider, roles.dataset_admin):
        assert not can_view_submission(user, review.initech)
        assert not submissions_visible_to(user).filter(round=review.round).exists()


def test_before_the_deadline_submitting_orgs_see_only_their_own(roles):
    review = make_review(roles, phase="submission")
    assert can_view_submission(roles.submitter, review.acme)
    assert not can_view_submission(roles.submitter, review.initech)
    assert list(submissions_visible_to(roles.submitter).filter(round=review.round)) == [review.acme]
    assert not can_view_submission(roles.chair, review.acme)


# ---------------------------------------------------------------- objections


def test_filing_an_objection_freezes_evidence_audits_and_tells_those_who_may_see(
    roles, review, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        objection = _file(review, roles.submitter)
    assert objection.state == Objection.State.FILED and objection.version.number == 1
    evidence = objection.evidence.get()
    assert (evidence.path, evidence.line) == ("results/box/retinanet/result_0.txt", 3)
    assert "global_batch_size" in evidence.excerpt
    event = AuditEvent.objects.get(action="review.objection_filed")
    assert event.target_id == str(objection.pk) and event.organisation == roles.org
    recipients = {r for m in mail.outbox for r in m.to}
    assert {"sub@initech.test", roles.submitter.email, roles.primary.email, roles.chair.email} <= recipients
    assert "sub@umbrella.test" not in recipients and roles.member.email not in recipients  # not acting / not allowed


@pytest.mark.parametrize(
    "case, message",
    [
        ("own", "against your own organisation"),
        ("outsider", "No such submission (or you may not see it)"),
        ("no_file", "has no file 'results/box/retinanet/result_9.txt'"),
        ("no_line", "has 5 lines in version 1; there is no line 99"),
        ("escape", "has no file '../../../etc/passwd'"),
        ("no_evidence", "at least one file and line"),
        ("plain_member", "Only submitters and primary contacts"),
    ],
)
def test_bad_objections_are_refused_and_nothing_is_stored(roles, review, case, message):
    user, overrides = roles.submitter, {}
    if case == "own":
        overrides = {
            "submission": review.acme,
            "evidence": [{"path": "results/sys1/retinanet/result_0.txt", "line": 1}],
        }
    elif case == "outsider":
        user = review.outsider
    elif case == "no_file":
        overrides = {"evidence": [{"path": "results/box/retinanet/result_9.txt", "line": 1}]}
    elif case == "no_line":
        overrides = {"evidence": [{"path": EVIDENCE[0]["path"], "line": 99}]}
    elif case == "escape":
        overrides = {"evidence": [{"path": "../../../etc/passwd", "line": 1}]}
    elif case == "no_evidence":
        overrides = {"evidence": []}
    elif case == "plain_member":
        user = roles.member
    with pytest.raises((PermissionDenied, ValidationError)) as exc:
        _file(review, user, **overrides)
    assert message in " ".join(getattr(exc.value, "messages", [str(exc.value)]))
    assert not Objection.objects.exists() and not AuditEvent.objects.filter(action="review.objection_filed").exists()


def test_objection_from_an_organisation_that_did_not_submit_is_refused(roles, review):
    # Umbrella did not submit; after the deadline it may not even see the submission. Give it a
    # late version only (not in time): still not a submitting organisation.
    umbrella = review.outsider.person.organisation
    late = frozen_submission(review.round, umbrella, systems=("u1",))
    late.versions.update(in_time=False)
    with pytest.raises(PermissionDenied, match="No such submission"):
        _file(review, review.outsider)
    assert not Objection.objects.exists()


def test_objection_outside_objection_filing_is_refused(roles):
    review = make_review(roles, phase="objection_review")
    with pytest.raises(
        PermissionDenied, match=r"Objections are filed only during objection filing; .* is objection review now"
    ):
        _file(review, roles.submitter)
    assert not Objection.objects.exists()


def test_the_accused_answers_and_acknowledges_a_fix(roles, review):
    objection = _file(review, roles.submitter, fix_required=False)
    services.objection_respond(
        actor=review.initech_submitter, objection=objection, body="Agreed.", acknowledges_fix=True
    )
    objection.refresh_from_db()
    assert objection.state == Objection.State.ANSWERED and objection.fix_required
    with pytest.raises(PermissionDenied, match="Only the accused and the objecting organisation"):
        services.objection_respond(actor=review.outsider, objection=objection, body="x")
    assert objection.responses.count() == 1


def test_decision_fix_required_opens_a_fix_window_until_revision_ends(roles, review):
    objection = _file(review, roles.submitter)
    with pytest.raises(PermissionDenied):
        services.objection_decide(actor=roles.submitter, objection=objection, outcome="fix_required")
    services.objection_decide(actor=roles.chair, objection=objection, outcome="fix_required", note="Fix the batch.")
    objection.refresh_from_db()
    assert objection.state == Objection.State.DECIDED and objection.outcome == "fix_required"
    window = review.initech.fix_windows.get()
    assert window.closes_at == review.round.phases.get(kind="revision").ends_at
    services.objection_close(actor=roles.chair, objection=objection, note="Fixed in v2.")
    objection.refresh_from_db()
    assert objection.state == Objection.State.CLOSED
    actions = list(AuditEvent.objects.filter(target_id=str(objection.pk)).values_list("action", flat=True))
    assert {"review.objection_filed", "review.objection_decided", "review.objection_closed"} <= set(actions)


def test_decision_moved_open_moves_the_submission(roles, review):
    objection = _file(review, roles.submitter)
    services.objection_decide(actor=roles.chair, objection=objection, outcome="moved_open")
    assert Submission.objects.get(pk=review.initech.pk).division == "open"


def test_the_objector_withdraws(roles, review):
    objection = _file(review, roles.submitter)
    with pytest.raises(PermissionDenied):
        services.objection_withdraw(actor=review.initech_submitter, objection=objection)
    services.objection_withdraw(actor=roles.primary, objection=objection, reason="We were wrong.")
    objection.refresh_from_db()
    assert objection.state == Objection.State.WITHDRAWN


# ---------------------------------------------------------------- review assignments


def test_review_assignments_pair_by_result_count_once(roles, review):
    third_org, _ = new_org("Hooli", "hooli", submitter_email="sub@hooli.test")
    frozen_submission(review.round, third_org, systems=("h1", "h2", "h3"))
    made = services.review_assignments_make(actor=roles.chair, round=review.round)
    pairs = {(a.reviewer.name, a.reviewed.name) for a in made}
    assert len(pairs) == 6  # three submitters: the bottom three review each other
    assert services.review_assignments_make(actor=roles.chair, round=review.round) == []
    assignment = ReviewAssignment.objects.filter(reviewer=roles.org).first()
    services.review_mark_done(actor=roles.submitter, assignment=assignment)
    assert ReviewAssignment.objects.get(pk=assignment.pk).done_at is not None
    with pytest.raises(PermissionDenied):
        services.review_assignments_make(actor=roles.submitter, round=review.round)


# ---------------------------------------------------------------- votes


def _vote(review, roles, objection=None, options=(("Support", "fix_required"), ("Reject", "rejected"))):
    return services.vote_open(
        actor=roles.chair,
        round=review.round,
        question="Support the objection?",
        options=list(options),
        closes_at=timezone.now() + dt.timedelta(days=1),
        objection=objection,
        seed=99,
    )


def test_one_ballot_per_organisation_and_none_after_close(roles, review):
    vote = _vote(review, roles)
    support, reject = [o.key for o in vote.options.all()]
    services.ballot_cast(actor=roles.submitter, vote=vote, ranking=[support])
    with pytest.raises(PermissionDenied, match="Acme AI already voted"):
        services.ballot_cast(actor=roles.primary, vote=vote, ranking=[reject])
    assert list(Ballot.objects.values_list("ranking", flat=True)) == [[support]]
    with pytest.raises(PermissionDenied, match="Only submitters and primary contacts of organisations that submitted"):
        services.ballot_cast(actor=review.outsider, vote=vote, ranking=[reject])
    services.vote_close(actor=roles.chair, vote=vote)
    with pytest.raises(PermissionDenied, match="no more ballots"):
        services.ballot_cast(actor=review.initech_submitter, vote=vote, ranking=[reject])
    assert Ballot.objects.count() == 1


def test_a_ballot_after_the_closing_time_is_refused(roles, review):
    vote = _vote(review, roles)
    with pytest.raises(PermissionDenied, match="no more ballots"):
        services.ballot_cast(
            actor=roles.submitter,
            vote=vote,
            ranking=[vote.options.first().key],
            at=vote.closes_at + dt.timedelta(seconds=1),
        )
    assert not Ballot.objects.exists()


def test_a_tied_vote_on_an_objection_is_broken_by_the_round_order_and_decides_it(roles, review):
    objection = _file(review, roles.submitter)
    vote = _vote(review, roles, objection=objection)
    support, reject = [o.key for o in vote.options.all()]
    assert vote.tie_break_order == [reject, support]  # the default order puts "rejected" first
    services.ballot_cast(actor=roles.submitter, vote=vote, ranking=[support])
    services.ballot_cast(actor=review.initech_submitter, vote=vote, ranking=[reject])
    vote = services.vote_close(actor=roles.chair, vote=vote)
    assert vote.state == Vote.State.CLOSED and vote.winner.key == reject
    assert vote.result["tie_broken_by"] == "order" and vote.result["seed"] == 99
    objection.refresh_from_db()
    assert objection.state == Objection.State.DECIDED and objection.outcome == "rejected"


def test_three_options_are_counted_condorcet_minimax(roles, review):
    third_org, third = new_org("Hooli", "hooli", submitter_email="sub@hooli.test")
    frozen_submission(review.round, third_org)
    vote = _vote(review, roles, options=(("Fix", "fix_required"), ("Open", "moved_open"), ("Reject", "rejected")))
    fix, open_, reject = [o.key for o in vote.options.all()]
    services.ballot_cast(actor=roles.submitter, vote=vote, ranking=[fix, open_, reject])
    services.ballot_cast(actor=review.initech_submitter, vote=vote, ranking=[reject, open_, fix])
    services.ballot_cast(actor=third, vote=vote, ranking=[open_, fix, reject])
    vote = services.vote_close(actor=roles.chair, vote=vote)
    assert vote.result["method"] == "condorcet-minimax" and vote.winner.key == open_


def test_bad_votes_are_refused(roles, review):
    with pytest.raises(ValidationError, match="at least two options"):
        _vote(review, roles, options=(("Only", "rejected"),))
    with pytest.raises(PermissionDenied):
        services.vote_open(
            actor=roles.submitter,
            round=review.round,
            question="q",
            options=[("a", ""), ("b", "")],
            closes_at=timezone.now() + dt.timedelta(days=1),
        )
    assert not Vote.objects.exists()


# ---------------------------------------------------------------- withdrawals


def test_withdrawal_until_the_revision_deadline(roles, review):
    with pytest.raises(PermissionDenied, match="Only submitters and primary contacts of Initech"):
        services.submission_withdraw(actor=roles.submitter, submission=review.initech, reason="x")
    with pytest.raises(ValidationError, match="Say why"):
        services.submission_withdraw(actor=roles.submitter, submission=review.acme, reason=" ")
    services.submission_withdraw(actor=roles.submitter, submission=review.acme, reason="Late hardware.")
    assert Withdrawal.objects.get().submission == review.acme
    assert AuditEvent.objects.filter(action="review.submission_withdrawn").count() == 1


def test_withdrawal_after_the_revision_deadline_is_refused(roles):
    review = make_review(roles, phase="after_revision")
    with pytest.raises(PermissionDenied, match=r"The revision deadline .* has passed"):
        services.submission_withdraw(actor=roles.submitter, submission=review.acme, reason="Too late.")
    assert not Withdrawal.objects.exists()


# ---------------------------------------------------------------- publication and corrections


def test_publication_freezes_results_with_ids_in_division_organisation_system_order(roles):
    review = make_review(roles, phase="published")
    zeta_org, _ = new_org("Zeta", "zeta", submitter_email="z@zeta.test")
    frozen_submission(review.round, zeta_org, systems=("z1",), division="open")
    failed_org, _ = new_org("Failco", "failco", submitter_email="f@failco.test")
    frozen_submission(review.round, failed_org, verdict="failed")
    publication = services.round_publish(round=review.round)
    results = list(PublishedResult.objects.order_by("position"))
    assert [(r.result_id, r.division, r.organisation_name, r.system) for r in results] == [
        ("5.1-0001", "closed", "Acme AI", "sys1"),
        ("5.1-0002", "closed", "Acme AI", "sys2"),
        ("5.1-0003", "closed", "Initech", "box"),
        ("5.1-0004", "open", "Zeta", "z1"),
    ]
    first = results[0]
    assert first.version_sha256 == review.acme.versions.get().sha256
    assert (first.system_name, first.accelerator, first.accelerator_count, first.nodes) == (
        "Acme AI SYS1",
        "Example GPU X1",
        16,
        2,
    )
    assert [(s.benchmark, s.score) for s in first.scores.all()] == [("retinanet", 42.5)]
    assert publication.result_count == 4
    # Run after the moment: published at the round's publication moment, frozen now.
    moment = review.round.phases.get(kind="publication").starts_at
    assert publication.published_at == moment == first.published_at and publication.frozen_at > moment
    assert services.round_publish(round=review.round) == publication  # twice: published once
    assert PublishedResult.objects.count() == 4 and Publication.objects.count() == 1


def test_withdrawn_submissions_are_not_published(roles):
    review = make_review(roles, phase="published")
    Withdrawal.objects.create(submission=review.initech, reason="x", withdrawn_at=timezone.now())
    services.round_publish(round=review.round)
    assert set(PublishedResult.objects.values_list("organisation_name", flat=True)) == {"Acme AI"}


def test_beat_publishes_due_rounds_once_and_waits_for_running_checks(roles):
    from submissions.review.tasks import rounds_publish_due

    review = make_review(roles, phase="published")
    review.initech.versions.update(verdict="pending")
    assert rounds_publish_due() == 0 and not Publication.objects.exists()
    review.initech.versions.update(verdict="passed")
    assert rounds_publish_due() == 1
    assert rounds_publish_due() == 0
    assert Publication.objects.count() == 1 and PublishedResult.objects.count() == 3
    future = make_review_round_not_due(roles)
    assert not Publication.objects.filter(round=future).exists()


def make_review_round_not_due(roles):
    from tests.review.factories import review_round

    return review_round(roles.group, phase="revision", slug="training-v6-0", name="Training v6.0")


def test_corrections_are_recorded_and_keep_the_id(roles):
    review = make_review(roles, phase="published")
    services.round_publish(round=review.round)
    result = PublishedResult.objects.get(result_id="5.1-0003")
    with pytest.raises(PermissionDenied):
        services.result_correct(actor=roles.submitter, result=result, field="system_name", new_value="x", reason="y")
    services.result_correct(
        actor=roles.chair,
        result=result,
        field="system_name",
        new_value="Initech Box 2",
        reason="Typo in the system description.",
    )
    services.result_correct(
        actor=roles.chair, result=result, field="score:retinanet", new_value="29.5", reason="Summarizer rerun."
    )
    result.refresh_from_db()
    assert result.result_id == "5.1-0003" and result.system_name == "Initech Box 2"
    assert result.scores.get().score == 29.5
    corrections = list(Correction.objects.values_list("field", "old_value", "new_value"))
    assert corrections == [("system_name", "Initech BOX", "Initech Box 2"), ("score:retinanet", "30.0", "29.5")]
    with pytest.raises(ValidationError, match="Correct one of"):
        services.result_correct(actor=roles.chair, result=result, field="result_id", new_value="x", reason="y")
