"""Mail about submissions, asked of the same predicate as the pages and the API.

`can_view_submission` (submissions/permissions.py) is the one answer to "who may know about this
submission now". Every message about a submission goes through the outbox with the "submission"
gate, which asks that predicate again just before sending: a recipient who may not know yet is held
until they may (and never mailed if they never may). The uploader hears when the checks finish. The
chairs of the round's group hear of an official-verifier failure or disagreement only once they may
see the submission: a problem found before the deadline and its grace period ends reaches them as
one digest per round after it (`chair_digests_send`, run by beat); one found later, at once.
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from django.utils import timezone

from consortium.common.mail import mail_enqueue, register_mail_gate, site_link
from submissions.models import Finding, Submission, SubmissionVersion
from submissions.permissions import can_view_submission
from workinggroups import selectors as rounds
from workinggroups.models import Round

SUBMISSION_GATE = "submission"
ROUND_GATE = "round_submissions"
# How long after the deadline a chair digest is still worth sending (beat may have been down).
DIGEST_WINDOW = dt.timedelta(days=30)


def _recipient(email: str):
    return get_user_model().objects.filter(email__iexact=email, is_active=True).first() or AnonymousUser()


def recipient_may_know_submission(email: str, submission_id: str) -> bool:
    """The "submission" gate: may the account behind `email` see the submission now?"""
    submission = Submission.objects.select_related("round__group", "organisation").filter(pk=submission_id).first()
    if submission is None:
        raise LookupError(f"submission {submission_id} is gone")
    return can_view_submission(_recipient(email), submission)


def recipient_may_know_round(email: str, round_id: str) -> bool:
    """The "round_submissions" gate: may the account see the round's submissions of organisations
    other than its own (the chair digest)? Asked of the same predicate with a submission of no
    organisation of theirs."""
    round = Round.objects.select_related("group").prefetch_related("phases").filter(pk=round_id).first()
    if round is None:
        raise LookupError(f"round {round_id} is gone")
    return can_view_submission(_recipient(email), Submission(round=round))


def register_gates() -> None:
    register_mail_gate(SUBMISSION_GATE, recipient_may_know_submission)
    register_mail_gate(ROUND_GATE, recipient_may_know_round)


def submission_mail(*, key: str, submission: Submission, recipients: list[str], subject: str, body: str) -> int:
    """Queues mail about `submission`, sent to each recipient only once they may see it."""
    return mail_enqueue(
        key=key,
        subject=subject,
        body=body,
        recipients=recipients,
        about=f"submissions.submission:{submission.pk}",
        gate=SUBMISSION_GATE,
        gate_ref=submission.pk,
    )


def version_notice_key(version_id: int, kind: str) -> str:
    """The outbox key of a notice about a version (kinds: checks_finished, official_verifier)."""
    return f"submissions.version:{version_id}:{kind}"


def _problem(version: SubmissionVersion) -> str:
    """Why the chairs should hear of the version, or "" when they need not."""
    if version.disagreement:
        return "disagrees with the compliance engine"
    return "failed" if version.official_verdict in ("fail", "crash") else ""


def version_notify(*, version_id: int) -> int:
    """Mail the uploader the verdict, and the chairs when the official verifier failed or disagreed
    (if they may see the submission when its checks finished; otherwise the digest tells them).
    Each message goes once (the outbox's idempotency key). Returns how many were queued now."""
    version = SubmissionVersion.objects.select_related(
        "submission__round__group", "submission__organisation", "uploaded_by"
    ).get(pk=version_id)
    submission = version.submission
    counts = {
        sev: Finding.objects.filter(run__version=version, severity=sev).count()
        for sev in ("error", "warning", "advisory")
    }
    url = site_link("submissions:detail", pk=version.submission_id)
    subject_base = f"{submission} v{version.number}"
    queued = 0
    if version.uploaded_by:
        queued += submission_mail(
            key=version_notice_key(version.pk, "checks_finished"),
            submission=submission,
            recipients=[version.uploaded_by.email],
            subject=f"Checks finished: {subject_base} {version.get_verdict_display().lower()}",
            body=f"The checks of {subject_base} finished: {version.get_verdict_display()}.\n"
            f"Findings: {counts['error']} errors, {counts['warning']} warnings, "
            f"{counts['advisory']} advisories.\n\n{url}\n",
        )
    why = _problem(version)
    if why:
        at = version.checks_finished_at or timezone.now()
        for chair in rounds.group_chairs(submission.round.group):
            if not can_view_submission(chair.person.user, submission, at=at):
                continue  # the digest after the deadline carries it
            queued += submission_mail(
                key=version_notice_key(version.pk, "official_verifier"),
                submission=submission,
                recipients=[chair.person.user.email],
                subject=f"Official verifier {why}: {subject_base}",
                body=f"The official MLPerf package checker {why} on {subject_base} "
                f"(official: {version.official_verdict or 'none'}, "
                f"engine: {version.engine_verdict or 'none'}).\n\n{url}\n",
            )
    return queued


def chair_digests_send(*, now: dt.datetime | None = None) -> int:
    """After a round's deadline and grace period: one digest per chair of the versions whose
    official verifier failed or disagreed while the chair could not see them yet. Once each."""
    now = now or timezone.now()
    queued = 0
    candidates = (
        Round.objects.filter(
            phases__kind="submission", phases__ends_at__lte=now, phases__ends_at__gte=now - DIGEST_WINDOW
        )
        .select_related("group")
        .prefetch_related("phases")
        .distinct()
    )
    for round in candidates:
        closes = rounds.round_deadline_with_grace(round)
        if closes is None or closes > now:
            continue
        versions = list(
            SubmissionVersion.objects.filter(submission__round=round, checks_finished_at__lt=closes)
            .filter(Q(official_verdict__in=["fail", "crash"]) | Q(disagreement=True))
            .select_related("submission__organisation", "submission__round")
            .order_by("submission__organisation__name", "submission__division", "number")
        )
        if not versions:
            continue
        for chair in rounds.group_chairs(round.group):
            user = chair.person.user
            # Only what the chair may see (their own organisation's versions they saw anyway).
            listed = [
                v
                for v in versions
                if can_view_submission(user, v.submission, at=now)
                and not can_view_submission(user, v.submission, at=v.checks_finished_at)
            ]
            if not listed:
                continue
            lines = [
                f"- {v.submission} v{v.number}: official verifier {_problem(v)} "
                f"(official: {v.official_verdict or 'none'}, engine: {v.engine_verdict or 'none'})\n"
                f"  {site_link('submissions:detail', pk=v.submission_id)}"
                for v in listed
            ]
            queued += mail_enqueue(
                key=f"submissions.chair_digest:{round.pk}",
                subject=f"{round}: {len(listed)} submission(s) the official verifier flagged",
                body=f"The submission window of {round} has closed. Before it closed, the official MLPerf "
                f"package checker flagged these versions:\n\n" + "\n".join(lines) + "\n",
                recipients=[user.email],
                about=f"workinggroups.round:{round.pk}",
                gate=ROUND_GATE,
                gate_ref=round.pk,
            )
    return queued


@shared_task(name="submissions.chair_digests_send", ignore_result=True, acks_late=True)
def chair_digests_send_task(**_: object) -> int:
    return chair_digests_send()
