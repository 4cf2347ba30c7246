"""Who may know about a submission now: one predicate (`can_view_submission`), asked alike by the
pages, the API and the mail, for every role in every phase of the round; and the chairs' mail about
flagged versions, which waits for the deadline and its grace period and then comes as one digest."""

import datetime as dt
import io

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.utils import timezone

from consortium.common import mail as outbox
from consortium.common.models import OutgoingMail
from submissions import notices, services
from submissions.models import Submission, SubmissionVersion
from submissions.permissions import can_view_submission
from submissions.selectors import submissions_visible_to
from tests.factories import MembershipFactory, OrganisationFactory
from tests.submissions.factories import make_chair, open_round, register, submitter_of
from workinggroups.models import RoundPhase

pytestmark = pytest.mark.django_db
State = OutgoingMail.State

PHASES = {
    "before_deadline": {"deadline_in": dt.timedelta(days=7), "publication_in": dt.timedelta(days=35)},
    "in_grace": {"deadline_in": dt.timedelta(minutes=-20), "publication_in": dt.timedelta(days=26)},
    "after_deadline": {"deadline_in": dt.timedelta(days=-2), "publication_in": dt.timedelta(days=26)},
    "published": {"deadline_in": dt.timedelta(days=-40), "publication_in": dt.timedelta(days=-1)},
}
ROLES = [
    "anonymous", "member", "submitter", "other_submitter", "peer_submitter", "primary", "chair", "dataset_admin",
    "staff",
]  # fmt: skip
SUBMITTING_ORG = {"member", "submitter", "primary"}


def _expected(role: str, phase: str) -> bool:
    """The rule, written out: the submitting organisation and staff always; the chairs of the round's
    group and (peer review) every organisation that submitted to the round, once the deadline and its
    grace period have passed; everyone once results are published."""
    if role in SUBMITTING_ORG or role == "staff" or phase == "published":
        return True
    return role in ("chair", "peer_submitter") and phase == "after_deadline"


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def other_submitter(roles):
    """A submitter of another organisation that did not submit to the round."""
    return submitter_of(roles.other_org, "submitter@globex.test")


def _peer(roles, submission: Submission):
    """A submitter of a third organisation that submitted to the same round (a peer reviewer)."""
    peer = MembershipFactory(organisation=OrganisationFactory(name="Initech", slug="initech")).organisation
    user = submitter_of(peer, "submitter@initech.test")
    register(submission.round, peer)
    services.submission_upload(
        round=submission.round, organisation=peer, division="closed", category="available",
        archive=io.BytesIO(b"\x1f\x8b not really"), original_name="p.tar.gz", actor=user, source="web",
        enforce_rules=False,
    )  # fmt: skip
    return user


def _user(roles, other_submitter, role: str, submission: Submission):
    if role == "peer_submitter":
        return _peer(roles, submission)
    return other_submitter if role == "other_submitter" else roles.user(role)


def _client(roles, user):
    from django.test import Client

    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _submission(roles, **phase) -> Submission:
    round_ = open_round(**phase)
    make_chair(round_.group, roles.chair.person)
    register(round_, roles.org)
    version = services.submission_upload(
        round=round_, organisation=roles.org, division="closed", category="available",
        archive=io.BytesIO(b"\x1f\x8b not really"), original_name="p.tar.gz", actor=roles.submitter,
        source="web", enforce_rules=False,
    )  # fmt: skip
    return version.submission


def _flagged(submission: Submission) -> SubmissionVersion:
    """The official verifier failed the version; its checks are finished."""
    version = submission.versions.get()
    SubmissionVersion.objects.filter(pk=version.pk).update(
        official_verdict="fail", engine_verdict="pass", disagreement=True, verdict="failed",
        checks_finished_at=timezone.now(),
    )  # fmt: skip
    version.refresh_from_db()
    return version


def _shift(submission: Submission, delta: dt.timedelta) -> None:
    """The clock moves on by `delta` (the round's phases and the versions' times move back by as much)."""
    for phase in RoundPhase.objects.filter(round=submission.round):
        phase.starts_at -= delta
        phase.ends_at -= delta
        phase.save()
    for version in SubmissionVersion.objects.filter(submission=submission):
        version.uploaded_at -= delta
        if version.checks_finished_at:
            version.checks_finished_at -= delta
        version.save(update_fields=["uploaded_at", "checks_finished_at"])


@pytest.mark.parametrize("phase", list(PHASES))
@pytest.mark.parametrize("role", ROLES)
def test_pages_api_and_mail_give_the_predicates_answer(roles, other_submitter, role, phase):
    submission = _submission(roles, **PHASES[phase])
    user = _user(roles, other_submitter, role, submission)
    may_know = can_view_submission(user or AnonymousUser(), submission)
    assert may_know == _expected(role, phase)
    # The same rule as a query, for lists: it must agree with the predicate in every cell.
    assert submissions_visible_to(user or AnonymousUser()).filter(pk=submission.pk).exists() == may_know
    client = _client(roles, user)

    page = client.get(f"/submissions/{submission.pk}/")
    checks = client.get(f"/submissions/{submission.pk}/versions/1/checks/")
    api = client.get(f"/api/v1/submissions/{submission.pk}")
    findings = client.get(f"/api/v1/submissions/{submission.pk}/findings")
    listing = client.get(f"/rounds/{submission.round.slug}/submissions/")
    if user is None:
        # No account: the member pages and the API ask to log in first (the public results page is
        # the anonymous channel), and there is no address to mail.
        assert page.status_code == checks.status_code == listing.status_code == 302
        assert api.status_code == findings.status_code == 401
        return
    assert (page.status_code, checks.status_code) == ((200, 200) if may_know else (404, 404))
    assert (api.status_code, findings.status_code) == ((200, 200) if may_know else (404, 404))
    assert (roles.org.name in listing.content.decode()) == may_know

    with_mail = notices.submission_mail(
        key=f"test.matrix:{submission.pk}", submission=submission, recipients=[user.email],
        subject=f"About {submission}", body="…",
    )  # fmt: skip
    assert with_mail == 1
    outbox.outbox_flush()
    message = OutgoingMail.objects.get(key__startswith=f"test.matrix:{submission.pk}")
    assert message.state == (State.SENT if may_know else State.HELD)
    assert [m.to for m in mail.outbox] == ([[user.email]] if may_know else [])


def test_chair_is_not_told_before_the_deadline_then_gets_one_digest_after_the_grace_period(roles):
    submission = _submission(roles, **PHASES["before_deadline"])
    version = _flagged(submission)
    notices.version_notify(version_id=version.pk)
    outbox.outbox_flush()
    assert [m.to for m in mail.outbox] == [[roles.submitter.email]]  # the uploader only
    assert notices.chair_digests_send() == 0

    _shift(submission, dt.timedelta(days=7, minutes=30))  # the deadline passed; still in grace
    assert not can_view_submission(roles.chair, submission)
    assert notices.chair_digests_send() == 0

    _shift(submission, dt.timedelta(minutes=31))  # grace over
    assert can_view_submission(roles.chair, submission)
    assert notices.chair_digests_send() == 1
    assert notices.chair_digests_send() == 0  # once
    outbox.outbox_flush()
    digests = [m for m in mail.outbox if m.to == [roles.chair.email]]
    assert len(digests) == 1
    assert f"{submission} v1" in digests[0].body and "disagrees" in digests[0].body
    assert f"/submissions/{submission.pk}/" in digests[0].body
    # Nobody else of another organisation heard of it.
    assert {m.to[0] for m in mail.outbox} == {roles.submitter.email, roles.chair.email}


def test_version_flagged_after_the_deadline_reaches_the_chair_at_once(roles):
    submission = _submission(roles, **PHASES["after_deadline"])
    version = _flagged(submission)  # e.g. a re-run or a fix window after the deadline
    notices.version_notify(version_id=version.pk)
    notices.version_notify(version_id=version.pk)
    outbox.outbox_flush()
    to_chair = [m for m in mail.outbox if m.to == [roles.chair.email]]
    assert len(to_chair) == 1 and "Official verifier disagrees" in to_chair[0].subject
    assert notices.chair_digests_send() == 0  # not again in a digest


def test_mail_held_for_someone_who_may_not_know_goes_once_they_may(roles, other_submitter):
    submission = _submission(roles, **PHASES["after_deadline"])
    notices.submission_mail(
        key="test.held", submission=submission, recipients=[other_submitter.email], subject="s", body="b"
    )
    outbox.outbox_flush()
    assert mail.outbox == [] and OutgoingMail.objects.get().state == State.HELD
    _shift(submission, dt.timedelta(days=27))  # publication
    assert outbox.outbox_flush(now=timezone.now() + outbox.HOLD_RECHECK)["released"] == 1
    outbox.outbox_flush()
    assert [m.to for m in mail.outbox] == [[other_submitter.email]]


def test_mail_about_a_submission_that_is_gone_is_never_sent(roles, other_submitter):
    submission = _submission(roles, **PHASES["before_deadline"])
    notices.submission_mail(
        key="test.gone", submission=submission, recipients=[other_submitter.email], subject="s", body="b"
    )
    OutgoingMail.objects.update(gate_ref="999999")  # as if the submission had been deleted
    outbox.outbox_flush()
    assert OutgoingMail.objects.get().state == State.WITHHELD and mail.outbox == []


def test_chair_that_stepped_down_gets_no_digest(roles):
    from workinggroups.models import GroupMembership

    submission = _submission(roles, **PHASES["before_deadline"])
    _flagged(submission)
    _shift(submission, dt.timedelta(days=8))
    GroupMembership.objects.filter(person=roles.chair.person, group=submission.round.group).delete()
    assert notices.chair_digests_send() == 0
