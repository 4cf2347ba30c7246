"""Writes for submissions, uploads, check runs and workers.

Check runs move through a state machine whose every step is a conditional UPDATE on (id, state,
attempt): a duplicate or late Celery message finds nothing to update and does nothing. PostgreSQL (or
SQLite) is the source of truth; the broker only announces work, and the reaper re-announces what a
dead worker or a lost message left behind.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import logging
import math
import os
import platform
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import IO, Any, cast

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, InterfaceError, OperationalError, models, transaction
from django.db.models import Q
from django.utils import timezone

from consortium.audit.services import audit_record
from consortium.common.dispatch import task_send
from consortium.common.mail import site_link
from consortium.members.models import Organisation, User
from submissions import checks
from submissions.models import (
    ApiToken,
    CheckAttempt,
    CheckKind,
    CheckRun,
    Finding,
    FixWindow,
    InferenceScore,
    Score,
    Submission,
    SubmissionVersion,
    UploadLimit,
    Worker,
    WorkerPing,
    WorkerPool,
)
from submissions.notices import submission_mail, version_notify
from submissions.permissions import can_cancel_checks, can_open_fix_window, can_rerun_checks, upload_refusal
from submissions.storage import (
    StoredUpload,
    archive_path,
    archive_placed,
    archive_receive,
    name_refusal,
    storage_root,
)
from submissions.unpacking import package_root, unpack_archive
from workinggroups import selectors as rounds
from workinggroups.models import Round

logger = logging.getLogger(__name__)
State = CheckRun.State
# For a suite with a ruleset, the checks that follow the result files check (which computes the
# engine's report): the slices of that report, and the official verifier.
AFTER_ENGINE_REPORT = [CheckKind.SYSTEMS, CheckKind.PACKAGE, CheckKind.SCORES, CheckKind.OFFICIAL]


class CheckCancelled(Exception):
    pass


# ---------------------------------------------------------------- storage (submissions/storage.py)


def version_folder(version: SubmissionVersion) -> Path:
    return storage_root() / "versions" / str(version.pk)


def version_package_root(version: SubmissionVersion) -> Path | None:
    unpacked = version_folder(version) / "package"
    return package_root(unpacked) if unpacked.is_dir() else None


# ---------------------------------------------------------------- API tokens


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user: User, name: str, ip_address: str | None = None) -> tuple[ApiToken, str]:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. the machine or script that uses it."})
    raw = "cpt_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name[:100], prefix=raw[:12], token_hash=_token_hash(raw))
    audit_record(actor=user, action="api.token_created", target=token, ip_address=ip_address)
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User, ip_address: str | None = None) -> ApiToken:
    if token.user_id != actor.pk:
        raise PermissionDenied("You can only revoke your own tokens.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="api.token_revoked", target=token, ip_address=ip_address)
    return token


def api_token_authenticate(raw: str) -> User | None:
    token = ApiToken.objects.select_related("user").filter(token_hash=_token_hash(raw), revoked_at=None).first()
    if token is None or not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


# ---------------------------------------------------------------- uploads


def _upload_day_start(round: Round, now: dt.datetime) -> dt.datetime:
    local = now.astimezone(round.tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def upload_limit_for(round: Round, organisation: Organisation) -> int:
    row = (
        UploadLimit.objects.filter(round=round)
        .filter(Q(organisation=organisation) | Q(organisation=None))
        .order_by("organisation")  # the organisation's own row first (NULLs sort last)
        .first()
    )
    return row.per_day if row else settings.SUBMISSION_UPLOADS_PER_DAY


def uploads_today(round: Round, organisation: Organisation, now: dt.datetime) -> int:
    """Uploads counted against the daily limit: not those the portal itself failed to check."""
    return (
        SubmissionVersion.objects.filter(
            submission__round=round,
            submission__organisation=organisation,
            uploaded_at__gte=_upload_day_start(round, now),
        )
        .exclude(check_runs__kind=CheckKind.UNPACK, check_runs__state=State.ERRORED)
        .count()
    )


def upload_window_refusal(round: Round, submission: Submission | None, now: dt.datetime) -> str | None:
    if rounds.round_submission_window_open(round, now):
        return None
    if submission is not None and any(w.is_open(now) for w in submission.fix_windows.all()):
        return None
    deadline = rounds.round_deadline_with_grace(round)
    if deadline is not None and now >= deadline:
        local = deadline.astimezone(round.tz)
        return (
            f"The submission window of {round} closed at {local:%Y-%m-%d %H:%M} {local.tzname()} "
            "(deadline plus grace period). A chair can open a fix window for your submission."
        )
    return f"The submission window of {round} is not open."


def submission_upload(
    *,
    round: Round,
    organisation: Organisation,
    division: str,
    category: str,
    archive: IO[bytes] | StoredUpload,
    original_name: str,
    actor: User | None,  # None: seeding, with enforce_rules=False
    source: str,
    ip_address: str | None = None,
    now: dt.datetime | None = None,
    enforce_rules: bool = True,
) -> SubmissionVersion:
    """A new immutable version of the organisation's submission to `round`, queued for checking.

    No transaction is open while the bytes arrive: the rules are checked first (cheap reads), the
    archive streams into the store's incoming/ folder with its size and type checked as it comes
    (or arrives already streamed, from ArchiveUploadHandler), and the version is then recorded in one
    short transaction that checks the rules again under the submission's lock. A refused or failed
    upload leaves nothing in the store."""
    now = now or timezone.now()
    name = os.path.basename(original_name or "").strip()
    try:
        _upload_check(round, organisation, division, category, name, actor, now, enforce_rules, locked=False)
        upload = archive if isinstance(archive, StoredUpload) else archive_receive(archive, name=name)
    except BaseException:
        if isinstance(archive, StoredUpload):
            archive.discard()
        raise
    try:
        with archive_placed(upload):
            return _version_record(
                round=round, organisation=organisation, division=division, category=category, name=name,
                upload=upload, actor=actor, source=source, ip_address=ip_address, now=now,
                enforce_rules=enforce_rules,
            )  # fmt: skip
    finally:
        upload.discard()  # when the same bytes were stored already, or the record failed


def _upload_check(
    round: Round, organisation: Organisation, division: str, category: str, name: str, actor: User | None,
    now: dt.datetime, enforce_rules: bool, *, locked: bool, submission: Submission | None = None,
) -> None:  # fmt: skip
    if enforce_rules:
        refusal = upload_refusal(actor or AnonymousUser(), round, organisation)
        if refusal:
            raise PermissionDenied(refusal)
    errors: dict[str, str] = {}
    if division not in Submission.Division.values or (round.divisions and division not in round.divisions):
        allowed = ", ".join(round.divisions or Submission.Division.values)
        errors["division"] = f"Choose a division of this round: {allowed}."
    if category not in Submission.Category.values:
        errors["category"] = "Choose an availability category."
    refusal = name_refusal(name)
    if refusal:
        errors["archive"] = refusal
    if errors:
        raise ValidationError(errors)
    if not enforce_rules:
        return
    if not locked:
        submission = (
            Submission.objects.filter(round=round, organisation=organisation, division=division)
            .prefetch_related("fix_windows")
            .first()
        )
    refusal = upload_window_refusal(round, submission, now)
    if refusal:
        raise ValidationError(refusal)
    limit = upload_limit_for(round, organisation)
    if uploads_today(round, organisation, now) >= limit:
        raise ValidationError(
            f"{organisation} has used its {limit} uploads for today in {round}; try again tomorrow "
            f"(uploads the portal failed to check do not count)."
        )


@transaction.atomic
def _version_record(
    *, round: Round, organisation: Organisation, division: str, category: str, name: str, upload: StoredUpload,
    actor: User | None, source: str, ip_address: str | None, now: dt.datetime, enforce_rules: bool,
) -> SubmissionVersion:  # fmt: skip
    submission = (
        Submission.objects.select_for_update()
        .filter(round=round, organisation=organisation, division=division)
        .prefetch_related("fix_windows")
        .first()
    )
    if enforce_rules:  # again, under the lock: the window or the daily limit may have moved meanwhile
        _upload_check(round, organisation, division, category, name, actor, now, True, locked=True,
                      submission=submission)  # fmt: skip
    if submission is None:
        submission = Submission.objects.create(
            round=round, organisation=organisation, division=division, category=category, created_by=actor
        )
        submission = Submission.objects.select_for_update().get(pk=submission.pk)
    elif submission.category != category:
        submission.category = category
        submission.save(update_fields=["category"])
    number = (submission.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    version = SubmissionVersion.objects.create(
        submission=submission,
        number=number,
        sha256=upload.sha256,
        size=upload.size,
        original_name=name[:255],
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        uploaded_at=now,
        source=source,
        in_time=not enforce_rules
        or rounds.round_submission_window_open(round, now)
        or any(w.is_open(now) for w in submission.fix_windows.all()),
    )
    audit_record(
        actor=actor, action="submissions.version_uploaded", target=version, organisation=organisation,
        ip_address=ip_address, data={"sha256": upload.sha256, "size": upload.size, "source": source},
    )  # fmt: skip
    run_create(version=version, kind=CheckKind.UNPACK)
    return version


@transaction.atomic
def fix_window_open(
    *, submission: Submission, actor: User, closes_at: dt.datetime, reason: str, ip_address: str | None = None
) -> FixWindow:
    if not can_open_fix_window(actor, submission):
        raise PermissionDenied("Only chairs of the round's working group and staff open fix windows.")
    now = timezone.now()
    if closes_at <= now:
        raise ValidationError({"closes_at": "The fix window must close in the future."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the fix window is opened; the submitter sees it."})
    window = FixWindow.objects.create(
        submission=submission, opens_at=now, closes_at=closes_at, reason=reason.strip(), opened_by=actor
    )
    audit_record(
        actor=actor, action="submissions.fix_window_opened", target=submission,
        organisation=submission.organisation, ip_address=ip_address, reason=reason,
        data={"closes_at": closes_at.isoformat()},
    )  # fmt: skip
    return window


# ---------------------------------------------------------------- check runs

# Errors worth another try: the connection to the database or the broker dropped. Anything else (a
# DataError, an IntegrityError, a bug) would fail the same way again: the run ends `errored` with a
# finding instead of being retried for ever.
TRANSIENT_DATABASE_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)


def _broker_errors() -> tuple[type[BaseException], ...]:
    from kombu.exceptions import OperationalError as BrokerOperationalError

    errors: list[type[BaseException]] = [BrokerOperationalError, ConnectionError]
    try:
        import redis.exceptions

        errors += [redis.exceptions.ConnectionError, redis.exceptions.TimeoutError]
    except ImportError:  # pragma: no cover - redis is a dependency of celery[redis]
        pass
    return tuple(errors)


TRANSIENT_ERRORS = TRANSIENT_DATABASE_ERRORS + _broker_errors()


class TransientCheckError(Exception):
    """A connection-level error while running `attempt`; the task retries that attempt."""

    def __init__(self, attempt: int, error: BaseException):
        super().__init__(f"{type(error).__name__}: {error}")
        self.attempt = attempt
        self.error = error


def pool_for(kind: str) -> WorkerPool | None:
    """The pool that runs `kind`: the first (by name) that lists it, else the pool on the default queue."""
    for pool in WorkerPool.objects.order_by("name"):
        if kind in (pool.check_kinds or []):
            return pool
    return WorkerPool.objects.filter(queue=settings.CELERY_TASK_DEFAULT_QUEUE).first()


def _queue_of(run: CheckRun) -> str:
    return run.pool.queue if run.pool else settings.CELERY_TASK_DEFAULT_QUEUE


def _announce(run: CheckRun) -> None:
    """Send the Celery message for the run's current attempt to its pool's queue (after commit).

    Robust: when the broker is away, the run stays queued in the database and the reaper announces
    it again once the message is found missing."""
    hard = settings.CHECK_TIME_LIMITS.get(run.kind, settings.CHECK_HARD_TIME_LIMIT)
    queue = _queue_of(run)
    run_id, attempt = run.pk, run.attempt
    transaction.on_commit(
        lambda: task_send(
            "submissions.check_run_execute",
            kwargs={"run_id": run_id, "attempt": attempt},
            queue=queue,
            time_limit=hard,
            soft_time_limit=max(hard - 30, 1),
            # A dropped connection is re-made at once; a broker that stays away costs a few seconds
            # and the reaper announces the run again later (robust: the commit stands either way).
            retry=True,
            retry_policy={"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1},
        ),
        robust=True,
    )


def run_create(*, version: SubmissionVersion, kind: str) -> CheckRun | None:
    """Queues one check kind for a version, once (the unique constraint makes a second call a no-op)."""
    try:
        with transaction.atomic():
            run = CheckRun.objects.create(version=version, kind=kind, pool=pool_for(kind), queued_at=timezone.now())
    except IntegrityError:
        return None
    CheckAttempt.objects.create(run=run, number=1)
    _announce(run)
    return run


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


# ---------------------------------------------------------------- what the engine returns, made safe to store


def _text(value: Any, limit: int | None = None) -> str:
    """Any value as text PostgreSQL accepts (no NUL), at most `limit` characters."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    text = text.replace("\x00", "\ufffd")
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _count(value: Any, maximum: int = 2**31 - 1) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    number = int(value)
    return number if 0 <= number <= maximum else None


def _limit(model: type[models.Model], field: str) -> int:
    found = model._meta.get_field(field)
    assert isinstance(found, models.CharField) and found.max_length is not None  # asked of CharFields only
    return found.max_length


def finding_clean(raw: Any) -> dict[str, Any]:
    """One finding from the engine or the official checker, with every field of the type and length
    the Finding table takes; whatever is missing or malformed becomes a safe default."""
    f = raw if isinstance(raw, dict) else {"message": raw}
    severity = f.get("severity")
    if severity not in Finding.Severity.values:
        severity = Finding.Severity.ERROR
    key = f.get("key")
    return {
        "severity": severity,
        "check": _text(f.get("check") or "engine.unknown", _limit(Finding, "check_id")),
        "key": _text(key, _limit(Finding, "key")) if key not in (None, "") else None,
        "path": _text(f.get("path") or "", _limit(Finding, "path")),
        "line": _count(f.get("line")),
        "message": _text(f.get("message") or "", 20_000),
    }


def scores_clean(raw: Any) -> list[dict[str, Any]]:
    """The engine's scores, fitted to the Score table: names shortened to the column, numbers checked,
    one score per (system, benchmark, scaling) (a second one after shortening is dropped)."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}  # by (system, benchmark, scaling)
    for s in raw if isinstance(raw, list) else []:
        if not isinstance(s, dict):
            continue
        minutes = s.get("minutes")
        if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not math.isfinite(minutes):
            continue
        scaling = s.get("scaling") if s.get("scaling") in Score.Scaling.values else Score.Scaling.STRONG
        score = {
            "system": _text(s.get("system"), _limit(Score, "system")),
            "benchmark": _text(s.get("benchmark"), _limit(Score, "benchmark")),
            "minutes": float(minutes),
            "scaling": scaling,
            "number_of_models": _count(s.get("number_of_models")),
            "instance_scale": _count(s.get("instance_scale")),
            "system_name": _text(s.get("system_name") or "", _limit(Score, "system_name")),
            "accelerator": _text(s.get("accelerator") or "", _limit(Score, "accelerator")),
            "accelerator_count": _count(s.get("accelerator_count")),
        }
        out.setdefault((score["system"], score["benchmark"], scaling), score)
    return list(out.values())


def inference_scores_clean(raw: Any) -> list[dict[str, Any]]:
    """The inference checker's scores (`checks.inference_scores`), fitted to the InferenceScore table:
    text shortened to the column, numbers finite, one score per (system, model, scenario)."""
    out: dict[tuple[str, str, str], dict[str, Any]] = {}

    def number(value: Any) -> float | None:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        return float(value) if ok else None

    for s in raw if isinstance(raw, list) else []:
        if not isinstance(s, dict) or "scenario" not in s or number(s.get("value")) is None:
            continue
        text = {k: _text(s.get(k) or "", _limit(InferenceScore, k)) for k in INFERENCE_SCORE_TEXT}
        accuracy_values = s.get("accuracy_values")
        score = {
            **text,
            "value": number(s.get("value")),
            "accuracy": number(s.get("accuracy")),
            "accuracy_values": {str(k)[:40]: str(v)[:40] for k, v in list(accuracy_values.items())[:20]}
            if isinstance(accuracy_values, dict)
            else {},
            "power": number(s.get("power")),
            "accelerator_count": _count(s.get("accelerator_count")),
        }
        out.setdefault((text["system"], text["model"], text["scenario"]), score)
    return list(out.values())


INFERENCE_SCORE_TEXT = ("system", "model", "mlperf_model", "scenario", "division", "units", "accuracy_metric",
                        "power_units", "system_name", "accelerator")  # fmt: skip


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


def _message_run(raw: Any) -> tuple[int, int] | None:
    """(run_id, attempt) of a check_run_execute message as the broker stores it, else None."""
    try:
        envelope = raw if isinstance(raw, dict) else json.loads(raw)
        if envelope.get("headers", {}).get("task") != "submissions.check_run_execute":
            return None
        body = envelope["body"]
        if envelope.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        kwargs = json.loads(body)[1]
        return int(kwargs["run_id"]), int(kwargs.get("attempt", 1))
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return None


def _messages_waiting(queue: str) -> set[tuple[int, int]] | None:
    """The (run_id, attempt) of every check message waiting in a broker queue, read from the broker
    itself (Redis lists, or the embedded broker's folder); None when the broker cannot be read."""
    url = settings.CELERY_BROKER_URL
    raw: list[Any] = []
    try:
        if url.startswith(("redis://", "rediss://")):
            import redis
            from kombu.transport.redis import PRIORITY_STEPS, Channel

            client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
            try:
                for pri in PRIORITY_STEPS:
                    raw += client.lrange(f"{queue}{Channel.sep}{pri}" if pri else queue, 0, -1)
                # Delivered to a worker but not acknowledged: in flight while the delivery is recent (a
                # live worker claims it at once) or its countdown (a retry's ETA) has not long passed;
                # an old one belongs to a worker that died with it.
                now = time.time()
                scored = client.zrange(Channel.unacked_index_key, 0, -1, withscores=True)
                delivered = dict(cast("list[tuple[bytes, float]]", scored))  # withscores: (tag, score) pairs
                items = (
                    cast("list[bytes | None]", client.hmget(Channel.unacked_key, list(delivered))) if delivered else []
                )
                for tag, item in zip(delivered, items, strict=True):
                    if item is None:  # acknowledged between the two reads
                        continue
                    with contextlib.suppress(ValueError, TypeError, IndexError, AttributeError):
                        message = json.loads(item)[0]
                        eta = message.get("headers", {}).get("eta")
                        until = max(delivered[tag], dt.datetime.fromisoformat(eta).timestamp() if eta else 0)
                        if until > now - settings.WORKER_STALE_AFTER:
                            raw.append(message)
            finally:
                client.close()
        elif url.startswith("filesystem://"):
            folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
            for path in folder.glob(f"*.{queue}.msg"):
                with contextlib.suppress(FileNotFoundError):
                    raw.append(path.read_bytes())
        else:
            return None
    except Exception:
        logger.warning("could not read the messages of queue %s", queue, exc_info=True)
        return None
    return {run for item in raw if (run := _message_run(item)) is not None}


# A message a worker has just popped from its queue is in neither the queue nor the unacknowledged
# set until that worker records the delivery (milliseconds; longer on a loaded machine).
IN_FLIGHT_RECHECK_SECONDS = 0.5


def _messages_missing(runs: list[CheckRun]) -> list[CheckRun]:
    """The queued runs whose message is nowhere in the broker, looked for twice a moment apart, so
    that a message on its way from its queue to a worker is not taken for lost. When the broker cannot
    be read, every run counts as missing (announcing again is harmless: an old message is skipped)."""

    def not_waiting(candidates: list[CheckRun]) -> list[CheckRun]:
        waiting = {queue: _messages_waiting(queue) for queue in {_queue_of(r) for r in candidates}}
        return [r for r in candidates if not ((w := waiting[_queue_of(r)]) is not None and (r.pk, r.attempt) in w)]

    missing = not_waiting(runs)
    if missing:
        time.sleep(IN_FLIGHT_RECHECK_SECONDS)
        missing = not_waiting(missing)
    return missing


def runs_reap(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The reaper (beat). Running checks whose run heartbeat is older than WORKER_STALE_AFTER are
    re-queued as a new attempt, whoever their node is; queued checks whose message seems lost
    (queued longer than CHECK_REQUEUE_AFTER, and their message is not in the broker's queue) are
    announced again as a new attempt. Both stop at CHECK_MAX_ATTEMPTS: the run is then
    `errored` with a finding, and the uploader and staff are told."""
    now = now or timezone.now()
    stale = _stale_before(now)
    requeued = gave_up = announced = 0
    dead = CheckRun.objects.filter(state=State.RUNNING).filter(
        Q(heartbeat_at__lt=stale) | Q(heartbeat_at=None, started_at__lt=stale) | Q(heartbeat_at=None, started_at=None)
    )
    for run in dead.select_related("version"):
        beat = run.heartbeat_at or run.started_at
        since = f" since {beat:%H:%M:%S} UTC" if beat else ""
        reason = f"worker {run.worker or '?'} sent no heartbeat for this check{since}."
        with transaction.atomic():
            if run.attempt >= settings.CHECK_MAX_ATTEMPTS:
                gave_up += _run_give_up(run, now=now, reason=reason)
                continue
            if _retry(run, requested_by=None, message=f"Retrying: {reason}", from_state=State.RUNNING):
                CheckAttempt.objects.filter(run=run, number=run.attempt - 1).update(
                    outcome="lost", finished_at=now, message=reason
                )
                requeued += 1
    lost_before = now - dt.timedelta(seconds=settings.CHECK_REQUEUE_AFTER)
    old = list(CheckRun.objects.filter(state=State.QUEUED, queued_at__lt=lost_before).select_related("pool", "version"))
    for run in _messages_missing(old):
        reason = f"its message was not picked up within {settings.CHECK_REQUEUE_AFTER} s and is not in its queue."
        with transaction.atomic():
            if run.attempt >= settings.CHECK_MAX_ATTEMPTS:
                gave_up += _run_give_up(run, now=now, reason=reason)
                continue
            if _retry(run, requested_by=None, message=f"Announced again: {reason}", from_state=State.QUEUED):
                CheckAttempt.objects.filter(run=run, number=run.attempt - 1).update(
                    outcome="lost", finished_at=now, message=reason
                )
                announced += 1
    return {"requeued": requeued, "gave_up": gave_up, "announced": announced}


# ---------------------------------------------------------------- running a check (in the worker)


def _round_rules(version: SubmissionVersion) -> tuple[str | None, str | None]:
    round = version.submission.round
    if round.has_ruleset and round.ruleset:
        return round.suite, round.ruleset
    return None, None


def check_run_execute(*, run_id: int, attempt: int, worker: str) -> str:
    """Runs one attempt of one check. Safe to call twice: only the claimed attempt does work.

    User mistakes become findings. A connection-level error raises TransientCheckError (the task
    retries the attempt); any other error ends the run `errored` with a finding."""
    from celery.exceptions import SoftTimeLimitExceeded

    try:
        if not run_claim(run_id=run_id, attempt=attempt, worker=worker):
            taken = run_take_over(run_id=run_id, attempt=attempt, worker=worker)
            if taken is None:
                return "skipped"
            attempt = taken
    except TRANSIENT_ERRORS as exc:  # the database went away before the claim: retry the message
        _close_broken_connection()
        raise TransientCheckError(attempt, exc) from exc
    with RunHeartbeat(run_id=run_id, attempt=attempt) as beat:
        try:
            return _check_run_attempt(run_id, attempt, beat)
        except CheckCancelled:
            return _run_cancelled(run_id, attempt)
        except SoftTimeLimitExceeded:
            run_error(run_id=run_id, attempt=attempt, check="portal.time_limit",
                      message="The check ran past its time limit and was stopped.")  # fmt: skip
            return State.ERRORED
        except TRANSIENT_ERRORS as exc:
            logger.warning("check run %s attempt %s: transient error: %s", run_id, attempt, exc)
            _requeue_after_transient(run_id, attempt, exc)
            raise TransientCheckError(attempt, exc) from exc
        except Exception as exc:
            logger.exception("check run %s attempt %s failed unexpectedly", run_id, attempt)
            message = f"The check itself failed ({type(exc).__name__}: {_text(exc, 1000)}); staff can re-run it."
            try:
                run_error(run_id=run_id, attempt=attempt, check="portal.check_error", message=message)
            except TRANSIENT_ERRORS as again:
                raise TransientCheckError(attempt, again) from again
            return State.ERRORED


def _requeue_after_transient(run_id: int, attempt: int, exc: BaseException) -> None:
    """Back to queued for the retry, on a fresh connection when the old one was killed; if the
    database stays away, the run keeps `running` and the take-over or the reaper finds it."""
    for _ in range(2):
        try:
            run_requeue_transient(run_id=run_id, attempt=attempt, error=f"{type(exc).__name__}: {exc}")
            return
        except TRANSIENT_ERRORS:
            _close_broken_connection()


def _close_broken_connection() -> None:
    """Drop this thread's database connection so the next query opens a fresh one (not inside a
    transaction, which must end where it began)."""
    from django.db import connection

    if not connection.in_atomic_block:
        connection.close()


def _run_cancelled(run_id: int, attempt: int) -> str:
    now = timezone.now()
    with transaction.atomic():
        if CheckRun.objects.filter(pk=run_id, attempt=attempt, state=State.RUNNING).update(
            state=State.CANCELLED, finished_at=now, message="Cancelled while running."
        ):
            CheckAttempt.objects.filter(run_id=run_id, number=attempt).update(outcome=State.CANCELLED, finished_at=now)
            version_advance(version=CheckRun.objects.get(pk=run_id).version)
    return "cancelled"


def _check_run_attempt(run_id: int, attempt: int, beat: RunHeartbeat) -> str:
    run = CheckRun.objects.select_related("version__submission__round").get(pk=run_id)
    version = run.version
    usage, ruleset = _round_rules(version)

    def progress(done: int, total: int) -> None:
        beat.check()
        run_progress(run_id=run_id, attempt=attempt, done=done, total=total)

    def tick() -> None:
        beat.check()
        run_heartbeat(run_id=run_id, attempt=attempt)

    if run.kind == CheckKind.UNPACK:
        outcome, root = _execute_unpack(version)
    else:
        root = version_package_root(version)
        if root is None:
            outcome = checks.CheckOutcome("errored", message="The unpacked package is missing on this worker.")
            outcome.findings = [_portal_finding("portal.package_missing", outcome.message)]
        else:
            outcome = _execute_kind(run.kind, version, root, usage, ruleset, progress, tick)
    beat.check()
    verdicts = None
    if outcome.verdict and run.kind in (CheckKind.OFFICIAL, CheckKind.PACKAGE):
        field = "official_verdict" if run.kind == CheckKind.OFFICIAL else "engine_verdict"
        verdicts = {field: outcome.verdict}
    run_finish(
        run_id=run_id, attempt=attempt, state=outcome.state, message=outcome.message, findings=outcome.findings,
        scores=outcome.scores if run.kind == CheckKind.SCORES else None, excerpt_root=root, verdicts=verdicts,
    )  # fmt: skip
    return outcome.state


def _execute_unpack(version: SubmissionVersion) -> tuple[checks.CheckOutcome, Path | None]:
    target = version_folder(version) / "package"
    if target.exists():  # an earlier attempt died half way: start clean, inside the version's folder only
        shutil.rmtree(target)
    result = unpack_archive(archive_path(version.sha256), target)
    if not result.ok:
        SubmissionVersion.objects.filter(pk=version.pk).update(state=SubmissionVersion.State.REJECTED)
        return checks.CheckOutcome("failed", result.findings, message="The archive was rejected."), None
    root = package_root(target)
    if root is None:
        SubmissionVersion.objects.filter(pk=version.pk).update(state=SubmissionVersion.State.REJECTED)
        finding = {"severity": "error", "check": "unpack.layout", "key": None, "line": None, "path": "",
                   "message": "The archive holds no package: expected <Submitter>/systems/ and "
                              "<Submitter>/results/ (or systems/ and results/ at the top)."}  # fmt: skip
        return checks.CheckOutcome("failed", [finding], message="No package in the archive."), None
    SubmissionVersion.objects.filter(pk=version.pk).update(state=SubmissionVersion.State.UNPACKED)
    message = f"{result.entries} files, {result.total_bytes} bytes unpacked."
    return checks.CheckOutcome("passed", _folder_warnings(version, root, target), message=message), root


def _folder_warnings(version: SubmissionVersion, root: Path, target: Path) -> list[dict[str, Any]]:
    """A warning when the package's top folder is another organisation's results folder (a package of
    Krai uploaded by NVIDIA): probably the wrong file."""
    if root == target:  # systems/ and results/ at the top: no folder name to compare
        return []
    own = version.submission.organisation
    other = Organisation.objects.filter(results_folder=root.name).exclude(pk=own.pk).first()
    if other is None:
        return []
    own_folder = f"{own.results_folder}/" if own.results_folder else "its own folder"
    message = (f"The package's top folder {root.name}/ is the results folder of {other}, not of {own} "
               f"(expected {own_folder}). Check that this is the right package.")  # fmt: skip
    return [{"severity": "warning", "check": "unpack.other_organisation", "key": None, "line": None, "path": "",
             "message": message}]  # fmt: skip


def _engine_report_path(version: SubmissionVersion) -> Path:
    return version_folder(version) / "engine-report.json"


def _kept_report(
    path: Path, stamp: dict[str, str], compute: Callable[[], dict[str, Any]], *, fresh: bool
) -> dict[str, Any]:
    """The report kept at `path` when it was computed under `stamp`, else computed and kept."""
    if not fresh:
        with contextlib.suppress(FileNotFoundError, ValueError, KeyError):
            kept = json.loads(path.read_text(encoding="utf-8"))
            if kept["stamp"] == stamp:
                kept_report: dict[str, Any] = kept["report"]
                return kept_report
    report = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    tmp.write_text(json.dumps({"stamp": stamp, "report": report}), encoding="utf-8")
    os.replace(tmp, path)  # atomic: a reader sees the whole report or none
    return report


def version_engine_report(
    version: SubmissionVersion, root: Path, usage: str, ruleset: str,
    progress: Callable[[int, int], None] | None = None, *, fresh: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """The compliance engine's report on the version, computed once (by the result files check, with
    progress) and kept beside the unpacked package; the other engine checks slice it. A report of
    another engine or rules version, or none (another machine, a re-run), is computed again."""
    from submissions.compliance.api import engine_id, rules_id

    stamp = {"engine": engine_id(), "rules": rules_id(), "usage": usage, "ruleset": ruleset}
    path = _engine_report_path(version)
    return _kept_report(path, stamp, lambda: checks.engine_report(root, usage, ruleset, progress), fresh=fresh)


def version_inference_report(
    version: SubmissionVersion, root: Path, ruleset: str, *, fresh: bool = False
) -> dict[str, Any]:
    """The inference checker's report on the version, for the division uploaded: computed once (by the
    result files check) and kept as the training engine's report is; the other checks slice it."""
    from submissions.compliance.api import engine_id, rules_id

    division = version.submission.division
    stamp = {"engine": engine_id(), "rules": rules_id("inference", ruleset), "usage": "inference",
             "ruleset": ruleset, "division": division}  # fmt: skip
    path = _engine_report_path(version)
    return _kept_report(path, stamp, lambda: checks.inference_report(root, ruleset, division), fresh=fresh)


def _execute_kind(
    kind: str,
    version: SubmissionVersion,
    root: Path,
    usage: str | None,
    ruleset: str | None,
    progress: Callable[[int, int], None],
    tick: Callable[[], None],
) -> checks.CheckOutcome:
    if usage == "inference" and ruleset:  # the inference checker, for the division uploaded, once per version
        fresh = kind == CheckKind.RESULTS  # the result files check computes it (a re-run checks again)
        return checks.inference_check(kind, version_inference_report(version, root, ruleset, fresh=fresh))
    if kind == CheckKind.SYSTEMS and (usage is None or ruleset is None):
        return checks.systems_check(root, None, None)
    if usage is None or ruleset is None:
        return checks.CheckOutcome("errored", message="This round has no ruleset for this check.")
    if kind == CheckKind.OFFICIAL:
        limit = max(settings.CHECK_TIME_LIMITS[CheckKind.OFFICIAL] - 60, 10)
        limits = checks.SandboxLimits(
            cpu_seconds=min(settings.OFFICIAL_CHECKER_CPU_SECONDS, limit),
            memory_bytes=settings.OFFICIAL_CHECKER_MEMORY_BYTES,
            file_bytes=settings.OFFICIAL_CHECKER_FILE_BYTES,
        )
        return checks.official_check(root, usage, ruleset, timeout=limit, tick=tick, limits=limits)
    if kind == CheckKind.RESULTS:  # computes the version's engine report (fresh: a re-run checks again)
        return checks.results_check(version_engine_report(version, root, usage, ruleset, progress, fresh=True))
    report = version_engine_report(version, root, usage, ruleset)
    if kind == CheckKind.SYSTEMS:
        return checks.systems_check(root, usage, ruleset, report)
    if kind == CheckKind.PACKAGE:
        return checks.package_rules_check(report)
    if kind == CheckKind.SCORES:
        return checks.scores_check(report)
    return checks.CheckOutcome("errored", message=f"Unknown check kind {kind!r}.")


# ---------------------------------------------------------------- the pipeline


def version_advance(*, version: SubmissionVersion) -> None:
    """Queues the checks whose prerequisites are done, and settles the verdict when all are final.
    Idempotent: each kind is created once per version.

    Order, for a round with a ruleset: unpack → result files (computes the engine's report on the
    whole package, once) → system descriptions, package rules and scores (slices of that report, so
    the engine's verdict and all its findings follow within seconds) and the official verifier (the
    second opinion, binding, slower). Without a ruleset: unpack → the generic system descriptions."""
    version = SubmissionVersion.objects.select_related("submission__round").get(pk=version.pk)
    runs = {r.kind: r for r in version.check_runs.all()}
    unpack = runs.get(CheckKind.UNPACK)
    _, ruleset = _round_rules(version)
    if unpack is not None and unpack.state == State.PASSED:
        results = runs.get(CheckKind.RESULTS)
        due = [CheckKind.RESULTS] if ruleset else [CheckKind.SYSTEMS]
        if ruleset and results is not None and results.is_final:
            due += AFTER_ENGINE_REPORT
        for kind in due:
            if kind not in runs:
                created = run_create(version=version, kind=kind)
                if created:
                    runs[kind] = created
    if runs and all(r.is_final for r in runs.values()) and not _more_to_come(runs, unpack, ruleset):
        _settle(version, runs, ruleset)


def _more_to_come(runs: dict[str, CheckRun], unpack: CheckRun | None, ruleset: str | None) -> bool:
    if unpack is None or unpack.state != State.PASSED:
        return False
    expected = {CheckKind.UNPACK, *([CheckKind.RESULTS, *AFTER_ENGINE_REPORT] if ruleset else [CheckKind.SYSTEMS])}
    return not expected <= set(runs)


def _settle(version: SubmissionVersion, runs: dict[str, CheckRun], ruleset: str | None) -> None:
    V = SubmissionVersion.Verdict
    states = {k: r.state for k, r in runs.items()}
    official = runs.get(CheckKind.OFFICIAL)
    if states.get(CheckKind.UNPACK) != State.PASSED:
        verdict = V.ERRORED if states.get(CheckKind.UNPACK) in (State.ERRORED, State.CANCELLED) else V.FAILED
    elif official is not None:
        # The official verifier's verdict is binding; when it could not run, the version could not be checked.
        binding: dict[str, SubmissionVersion.Verdict] = {State.PASSED: V.PASSED, State.FAILED: V.FAILED}
        verdict = binding.get(official.state, V.ERRORED)
    elif any(s in (State.ERRORED, State.CANCELLED) for s in states.values()):
        verdict = V.ERRORED
    else:
        verdict = V.FAILED if State.FAILED in states.values() else V.PASSED
    fresh = SubmissionVersion.objects.get(pk=version.pk)
    engine, official_v = fresh.engine_verdict, fresh.official_verdict
    official_as_pass_fail = {"pass": "pass", "fail": "fail", "crash": "fail"}.get(official_v, "")
    disagreement = bool(engine and official_as_pass_fail and engine != official_as_pass_fail)
    updated = SubmissionVersion.objects.filter(pk=version.pk, checks_finished_at=None).update(
        verdict=verdict, disagreement=disagreement, checks_finished_at=timezone.now()
    )
    if updated:
        # Queued in this transaction (the outbox sends it after commit): a verdict is never without its mail.
        version_notify(version_id=version.pk)


# ---------------------------------------------------------------- workers


def _memory_bytes() -> int | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def worker_hardware_facts() -> dict[str, Any]:
    """What this machine is, as reported by a worker at start-up."""
    from submissions.gpus import detect_gpus

    return {
        "cpu_model": _cpu_model(),
        "cpu_cores": os.cpu_count(),
        "memory_bytes": _memory_bytes(),
        "gpus": detect_gpus(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": {p: _package_version(p) for p in ("celery", "django", "mlperf-logging")},
    }


@transaction.atomic
def worker_register(*, hostname: str, queues: list[str]) -> Worker:
    now = timezone.now()
    pool = WorkerPool.objects.filter(queue__in=queues).order_by("name").first()
    worker, _ = Worker.objects.update_or_create(
        hostname=hostname,
        defaults={
            "pool": pool,
            "queues": queues,
            "facts": worker_hardware_facts(),
            "started_at": now,
            "last_heartbeat": now,
            "stopped_at": None,
        },
    )
    return worker


def worker_heartbeat(*, hostname: str, queues: list[str]) -> None:
    updated = Worker.objects.filter(hostname=hostname).update(last_heartbeat=timezone.now(), stopped_at=None)
    if not updated:  # registration failed at start-up (database was down): do it now
        worker_register(hostname=hostname, queues=queues)


def worker_stopped(*, hostname: str) -> None:
    Worker.objects.filter(hostname=hostname).update(stopped_at=timezone.now())


def ping_record(*, marker: str, hostname: str) -> None:
    WorkerPing.objects.get_or_create(marker=marker, defaults={"hostname": hostname})
