"""The check run state machine: every step a conditional UPDATE on (id, state, attempt)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from consortium.audit.services import audit_record
from consortium.common.mail import site_link
from consortium.members.models import User
from submissions import checks
from submissions.models import (
    CheckAttempt,
    CheckRun,
    Finding,
    InferenceScore,
    Score,
    SubmissionVersion,
)
from submissions.notices import submission_mail
from submissions.permissions import can_cancel_checks, can_rerun_checks
from submissions.services.advance import version_advance
from submissions.services.cleaning import _text, finding_clean, inference_scores_clean, scores_clean
from submissions.services.dispatch import _announce, pool_for

logger = logging.getLogger(__name__)
State = CheckRun.State


class CheckCancelled(Exception):
    pass


def _stale_before(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(seconds=settings.WORKER_STALE_AFTER)


def run_claim(*, run_id: int, attempt: int, worker: str) -> bool:
    """queued → running, for this attempt only. False: a duplicate, late or cancelled message."""
    now = timezone.now()
    with transaction.atomic():
        claimed = CheckRun.objects.filter(
            pk=run_id, attempt=attempt, state=State.QUEUED, cancel_requested=False
        ).update(state=State.RUNNING, worker=worker, started_at=now, heartbeat_at=now, finished_at=None)
        if claimed:
            CheckAttempt.objects.filter(run_id=run_id, number=attempt).update(worker=worker, started_at=now)
    return bool(claimed)


def run_take_over(*, run_id: int, attempt: int, worker: str) -> int | None:
    """A redelivered message for an attempt that is `running` but whose process died: the attempt is
    recorded as lost and this worker runs the next one. Returns the attempt now claimed, or None.

    The process died when the run's heartbeat is stale, or when the message comes back to the very
    node that ran it (Celery requeues the message of a pool child that was killed)."""
    now = timezone.now()
    with transaction.atomic():
        run = CheckRun.objects.select_for_update().select_related("version").filter(pk=run_id).first()
        if run is None or run.state != State.RUNNING or run.attempt != attempt or run.cancel_requested:
            return None
        beat = run.heartbeat_at or run.started_at
        if not ((beat is not None and beat < _stale_before(now)) or run.worker == worker):
            return None
        reason = f"Worker {run.worker or '?'} stopped running attempt {attempt}; {worker} took its message over."
        if attempt >= settings.CHECK_MAX_ATTEMPTS:
            _run_give_up(run, now=now, reason=reason)
            return None
        CheckAttempt.objects.filter(run=run, number=attempt).update(outcome="lost", finished_at=now, message=reason)
        CheckRun.objects.filter(pk=run_id, attempt=attempt, state=State.RUNNING).update(
            attempt=attempt + 1, worker=worker, started_at=now, heartbeat_at=now, progress_done=0,
            progress_total=0, message=reason[:5000],
        )  # fmt: skip
        CheckAttempt.objects.update_or_create(
            run=run, number=attempt + 1, defaults={"worker": worker, "started_at": now}
        )
    return attempt + 1


def run_progress(*, run_id: int, attempt: int, done: int, total: int) -> None:
    """Records progress and a heartbeat; stops the check when it was cancelled or taken away."""
    updated = CheckRun.objects.filter(pk=run_id, attempt=attempt, state=State.RUNNING, cancel_requested=False).update(
        progress_done=max(0, done), progress_total=max(0, total), heartbeat_at=timezone.now()
    )
    if not updated:
        raise CheckCancelled()


def run_heartbeat(*, run_id: int, attempt: int) -> None:
    """Marks a running check as alive; stops it when it was cancelled or taken away."""
    updated = CheckRun.objects.filter(pk=run_id, attempt=attempt, state=State.RUNNING, cancel_requested=False).update(
        heartbeat_at=timezone.now()
    )
    if not updated:
        raise CheckCancelled()


class RunHeartbeat:
    """A thread that writes the run's heartbeat every WORKER_HEARTBEAT_INTERVAL seconds while one
    attempt runs, whatever the check kind: a process that dies (SIGKILL, OOM) stops beating and the
    reaper re-queues the run once the heartbeat is older than WORKER_STALE_AFTER.

    When the beat finds the attempt no longer running (cancelled, or taken over as a new attempt),
    `gone` is set; the check's own progress reports and ticks stop the check then."""

    def __init__(self, *, run_id: int, attempt: int, interval: float | None = None):
        self.run_id, self.attempt = run_id, attempt
        self.interval = interval if interval is not None else settings.WORKER_HEARTBEAT_INTERVAL
        self.gone = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"run-heartbeat-{run_id}", daemon=True)

    def __enter__(self) -> RunHeartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=max(self.interval, 1) + 5)

    def check(self) -> None:
        if self.gone.is_set():
            raise CheckCancelled()

    def _loop(self) -> None:
        from django.db import connection

        try:
            while not self._stop.wait(self.interval):
                try:
                    run_heartbeat(run_id=self.run_id, attempt=self.attempt)
                except CheckCancelled:
                    self.gone.set()
                    return
                except Exception:  # the database hiccuped: beat again next time
                    logger.warning("heartbeat of run %s failed", self.run_id, exc_info=True)
                    connection.close()
        finally:
            connection.close()


def _portal_finding(check: str, message: str) -> dict[str, Any]:
    return {"severity": "error", "check": check, "key": None, "line": None, "path": "", "message": message}


def run_finish(
    *, run_id: int, attempt: int, state: str, message: str = "", findings: list[dict[str, Any]] | None = None,
    scores: list[dict[str, Any]] | None = None, excerpt_root: Path | None = None,
    verdicts: dict[str, str] | None = None,
) -> bool:  # fmt: skip
    """running → passed | failed | errored | cancelled, with its findings, in one transaction.
    Everything the check returned is fitted to the tables first, so no input raises a database error."""
    if state not in CheckRun.FINAL_STATES:
        state = State.ERRORED
    message = _text(message, 5000)
    clean = [finding_clean(f) for f in findings or []]
    clean_scores = scores_clean(scores) if scores is not None else None
    clean_inference = inference_scores_clean(scores) if scores is not None else None
    verdicts = {k: _text(v, 10) for k, v in (verdicts or {}).items() if k in ("engine_verdict", "official_verdict")}
    now = timezone.now()
    with transaction.atomic():
        done = CheckRun.objects.filter(pk=run_id, attempt=attempt, state=State.RUNNING).update(
            state=state, message=message, finished_at=now
        )
        if not done:
            return False
        CheckAttempt.objects.filter(run_id=run_id, number=attempt).update(
            finished_at=now, outcome=state, message=message
        )
        Finding.objects.bulk_create(
            [
                Finding(
                    run_id=run_id,
                    attempt=attempt,
                    severity=f["severity"],
                    check_id=f["check"],
                    key=f["key"],
                    path=f["path"],
                    line=f["line"],
                    message=f["message"],
                    excerpt=_text(checks.excerpt(excerpt_root, f["path"], f["line"]), 1000) if excerpt_root else "",
                )
                for f in clean
            ],
            batch_size=1000,
        )
        run = CheckRun.objects.select_related("version").get(pk=run_id)
        if verdicts:  # engine_verdict / official_verdict, settled together with the run
            SubmissionVersion.objects.filter(pk=run.version_id).update(**verdicts)
        if clean_scores is not None:
            Score.objects.filter(version=run.version).delete()
            Score.objects.bulk_create([Score(version=run.version, **s) for s in clean_scores])
        if clean_inference is not None:
            InferenceScore.objects.filter(version=run.version).delete()
            InferenceScore.objects.bulk_create([InferenceScore(version=run.version, **s) for s in clean_inference])
        version_advance(version=run.version)
    return True


def run_error(*, run_id: int, attempt: int, check: str, message: str) -> bool:
    """A check that could not run to its end (a bug, a time limit): `errored`, with a finding that says so."""
    return run_finish(
        run_id=run_id, attempt=attempt, state=State.ERRORED, message=message, findings=[_portal_finding(check, message)]
    )


def run_requeue_transient(*, run_id: int, attempt: int, error: str) -> bool:
    """A transient failure (database or broker connection): back to queued for the same attempt,
    which the task retries after a short backoff. Queued as of now: the reaper leaves it CHECK_REQUEUE_AFTER."""
    return bool(
        CheckRun.objects.filter(pk=run_id, attempt=attempt, state=State.RUNNING).update(
            state=State.QUEUED,
            queued_at=timezone.now(),
            message=_text(f"Retrying after a transient error: {error}", 5000),
        )
    )


@transaction.atomic
def run_cancel(*, run: CheckRun, actor: User, ip_address: str | None = None) -> CheckRun:
    if not can_cancel_checks(actor, run.version.submission):
        raise PermissionDenied("You may not cancel this check.")
    now = timezone.now()
    if CheckRun.objects.filter(pk=run.pk, state=State.QUEUED).update(state=State.CANCELLED, finished_at=now):
        CheckAttempt.objects.filter(run=run, number=run.attempt).update(outcome=State.CANCELLED, finished_at=now)
    elif CheckRun.objects.filter(pk=run.pk, state=State.RUNNING).update(cancel_requested=True):
        pass  # the worker sees it at its next progress report or heartbeat and stops
    else:
        raise ValidationError("This check has already finished.")
    audit_record(actor=actor, action="submissions.check_cancelled", target=run,
                 organisation=run.version.submission.organisation, ip_address=ip_address)  # fmt: skip
    run.refresh_from_db()
    version_advance(version=run.version)
    return run


def _retry(run: CheckRun, *, requested_by: User | None, message: str, from_state: str | None = None) -> bool:
    """Next attempt of a run: history (attempts and their findings) is kept."""
    current = CheckRun.objects.filter(pk=run.pk, attempt=run.attempt)
    if from_state is not None:
        current = current.filter(state=from_state)
    updated = current.update(
        state=State.QUEUED, attempt=run.attempt + 1, progress_done=0, progress_total=0, worker="",
        started_at=None, finished_at=None, heartbeat_at=None, cancel_requested=False, message=_text(message, 5000),
        queued_at=timezone.now(), pool=pool_for(run.kind),
    )  # fmt: skip
    if updated:
        run.refresh_from_db()
        CheckAttempt.objects.get_or_create(run=run, number=run.attempt, defaults={"requested_by": requested_by})
        _announce(run)
    return bool(updated)


@transaction.atomic
def run_rerun(*, run: CheckRun, actor: User, ip_address: str | None = None) -> CheckRun:
    submission = run.version.submission
    if not can_rerun_checks(actor, submission):
        raise PermissionDenied("Only chairs of the round's working group and staff re-run checks.")
    run = CheckRun.objects.select_for_update().get(pk=run.pk)
    if not run.is_final:
        raise ValidationError("This check is still queued or running.")
    _retry(run, requested_by=actor, message=f"Re-run requested by {actor.email}.")
    SubmissionVersion.objects.filter(pk=run.version_id).update(
        verdict=SubmissionVersion.Verdict.PENDING, checks_finished_at=None
    )
    audit_record(actor=actor, action="submissions.check_rerun", target=run, organisation=submission.organisation,
                 ip_address=ip_address)  # fmt: skip
    run.refresh_from_db()
    return run


def _run_give_up(run: CheckRun, *, now: dt.datetime, reason: str) -> bool:
    """The run used up CHECK_MAX_ATTEMPTS: `errored` with a finding saying what happened; the uploader
    and staff are told. Call inside a transaction."""
    message = f"Gave up after {run.attempt} attempts (CHECK_MAX_ATTEMPTS): {reason}"
    if not CheckRun.objects.filter(pk=run.pk, attempt=run.attempt, state=run.state).update(
        state=State.ERRORED, message=_text(message, 5000), finished_at=now
    ):
        return False
    CheckAttempt.objects.filter(run=run, number=run.attempt).update(outcome="lost", finished_at=now, message=message)
    f = _portal_finding("portal.gave_up", message)
    Finding.objects.create(run=run, attempt=run.attempt, severity=f["severity"], check_id=f["check"], message=message)
    run_id = run.pk
    transaction.on_commit(lambda: run_gave_up_notify(run_id=run_id), robust=True)
    version_advance(version=run.version)
    return True


def run_gave_up_notify(*, run_id: int) -> None:
    """Tell the uploader and staff that the portal gave up on a check (each once)."""
    from django.contrib.auth import get_user_model

    run = CheckRun.objects.select_related("version__submission__round", "version__submission__organisation",
                                          "version__uploaded_by").get(pk=run_id)  # fmt: skip
    version = run.version
    subject = f"Check could not be run: {version.submission} v{version.number} · {run.get_kind_display()}"
    link = site_link("submissions:detail", pk=version.submission_id)
    body = f"{run.message}\n\nA chair or staff can re-run the check.\n\n{link}\n"
    # Staff admins (superusers); dataset admins are staff too but may not see unpublished results.
    staff = get_user_model().objects.filter(is_superuser=True, is_active=True).exclude(email="")
    recipients = {u.email for u in staff}
    if version.uploaded_by and version.uploaded_by.email:
        recipients.add(version.uploaded_by.email)
    submission_mail(
        key=f"gave_up:{run.pk}:{run.attempt}",
        submission=version.submission,
        recipients=sorted(recipients),
        subject=subject,
        body=body,
    )
