"""Writes for submissions, uploads, check runs and workers.

Check runs move through a state machine whose every step is a conditional UPDATE on (id, state,
attempt): a duplicate or late Celery message finds nothing to update and does nothing. PostgreSQL (or
SQLite) is the source of truth; the broker only announces work, and the reaper re-announces what a
dead worker or a lost message left behind.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import platform
import secrets
import shutil
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from consortium.audit.services import audit_record
from consortium.members.models import Organisation
from consortium.portal.mail import portal_mail, site_link
from submissions import checks
from submissions.models import (
    ApiToken,
    CheckAttempt,
    CheckKind,
    CheckRun,
    Finding,
    FixWindow,
    Notice,
    Score,
    Submission,
    SubmissionVersion,
    UploadLimit,
    Worker,
    WorkerPing,
    WorkerPool,
)
from submissions.permissions import can_cancel_checks, can_open_fix_window, can_rerun_checks, upload_refusal
from submissions.unpacking import package_root, unpack_archive
from workinggroups import selectors as rounds
from workinggroups.models import Round

logger = logging.getLogger(__name__)
State = CheckRun.State
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")
# The compliance checks that follow a successful unpack, for a suite with a ruleset.
RULESET_CHECKS = [CheckKind.SYSTEMS, CheckKind.RESULTS, CheckKind.PACKAGE, CheckKind.OFFICIAL]


class CheckCancelled(Exception):
    pass


# ---------------------------------------------------------------- storage


def storage_root() -> Path:
    return Path(settings.MEDIA_ROOT) / "submissions"


def archive_path(sha256: str) -> Path:
    return storage_root() / "archives" / sha256[:2] / sha256


def version_folder(version: SubmissionVersion) -> Path:
    return storage_root() / "versions" / str(version.pk)


def version_package_root(version: SubmissionVersion) -> Path | None:
    unpacked = version_folder(version) / "package"
    return package_root(unpacked) if unpacked.is_dir() else None


def archive_store(source: IO[bytes]) -> tuple[str, int]:
    """Streams `source` into the content-addressed store; returns (sha256, size). Never overwrites."""
    digest = hashlib.sha256()
    size = 0
    incoming = storage_root() / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=incoming)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in iter(lambda: source.read(1024 * 1024), b""):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        sha = digest.hexdigest()
        final = archive_path(sha)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            os.unlink(tmp_name)  # same bytes already stored: keep the first copy untouched
        else:
            os.replace(tmp_name, final)
            os.chmod(final, 0o444)
        return sha, size
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise


# ---------------------------------------------------------------- API tokens


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user: Any, name: str, ip_address: str | None = None) -> tuple[ApiToken, str]:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. the machine or script that uses it."})
    raw = "cpt_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name[:100], prefix=raw[:12], token_hash=_token_hash(raw))
    audit_record(actor=user, action="api.token_created", target=token, ip_address=ip_address)
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: Any, ip_address: str | None = None) -> ApiToken:
    if token.user_id != actor.pk:
        raise PermissionDenied("You can only revoke your own tokens.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="api.token_revoked", target=token, ip_address=ip_address)
    return token


def api_token_authenticate(raw: str) -> Any | None:
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


@transaction.atomic
def submission_upload(
    *,
    round: Round,
    organisation: Organisation,
    division: str,
    category: str,
    archive: IO[bytes],
    original_name: str,
    actor: Any,
    source: str,
    ip_address: str | None = None,
    now: dt.datetime | None = None,
    enforce_rules: bool = True,
) -> SubmissionVersion:
    """A new immutable version of the organisation's submission to `round`, queued for checking."""
    now = now or timezone.now()
    if enforce_rules:
        refusal = upload_refusal(actor, round, organisation)
        if refusal:
            raise PermissionDenied(refusal)
    errors: dict[str, str] = {}
    if division not in Submission.Division.values or (round.divisions and division not in round.divisions):
        allowed = ", ".join(round.divisions or Submission.Division.values)
        errors["division"] = f"Choose a division of this round: {allowed}."
    if category not in Submission.Category.values:
        errors["category"] = "Choose an availability category."
    name = os.path.basename(original_name or "").strip()
    if not name.lower().endswith(ARCHIVE_SUFFIXES):
        errors["archive"] = f"Upload a .tar.gz, .tgz, .tar or .zip archive (got {name or 'no file'!r})."
    if errors:
        raise ValidationError(errors)
    submission = (
        Submission.objects.select_for_update()
        .filter(round=round, organisation=organisation, division=division)
        .prefetch_related("fix_windows")
        .first()
    )
    if enforce_rules:
        refusal = upload_window_refusal(round, submission, now)
        if refusal:
            raise ValidationError(refusal)
        limit = upload_limit_for(round, organisation)
        if uploads_today(round, organisation, now) >= limit:
            raise ValidationError(
                f"{organisation} has used its {limit} uploads for today in {round}; try again tomorrow "
                f"(uploads the portal failed to check do not count)."
            )
    sha, size = archive_store(archive)
    if size == 0:
        raise ValidationError({"archive": "The uploaded file is empty."})
    if size > settings.SUBMISSION_MAX_ARCHIVE_BYTES:
        raise ValidationError({"archive": f"The archive is larger than {settings.SUBMISSION_MAX_ARCHIVE_BYTES} bytes."})
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
        sha256=sha,
        size=size,
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
        ip_address=ip_address, data={"sha256": sha, "size": size, "source": source},
    )  # fmt: skip
    run_create(version=version, kind=CheckKind.UNPACK)
    return version


@transaction.atomic
def fix_window_open(
    *, submission: Submission, actor: Any, closes_at: dt.datetime, reason: str, ip_address: str | None = None
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


def pool_for(kind: str) -> WorkerPool | None:
    """The pool that runs `kind`: the first (by name) that lists it, else the pool on the default queue."""
    for pool in WorkerPool.objects.order_by("name"):
        if kind in (pool.check_kinds or []):
            return pool
    return WorkerPool.objects.filter(queue=settings.CELERY_TASK_DEFAULT_QUEUE).first()


def _announce(run: CheckRun) -> None:
    """Send the Celery message for the run's current attempt to its pool's queue (after commit)."""
    from submissions.tasks import check_run_execute

    hard = settings.CHECK_TIME_LIMITS.get(run.kind, settings.CHECK_HARD_TIME_LIMIT)
    queue = run.pool.queue if run.pool else settings.CELERY_TASK_DEFAULT_QUEUE
    run_id, attempt = run.pk, run.attempt
    transaction.on_commit(
        lambda: check_run_execute.apply_async(
            kwargs={"run_id": run_id, "attempt": attempt},
            queue=queue,
            time_limit=hard,
            soft_time_limit=max(hard - 30, 1),
        )
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


def run_progress(*, run_id: int, attempt: int, done: int, total: int) -> None:
    """Records progress and a heartbeat; stops the check when it was cancelled or taken away."""
    updated = CheckRun.objects.filter(pk=run_id, attempt=attempt, state=State.RUNNING, cancel_requested=False).update(
        progress_done=done, progress_total=total, heartbeat_at=timezone.now()
    )
    if not updated:
        raise CheckCancelled()


def run_heartbeat(*, run_id: int, attempt: int) -> None:
    """Marks a long step of a running check as alive; stops it when it was cancelled or taken away."""
    updated = CheckRun.objects.filter(pk=run_id, attempt=attempt, state=State.RUNNING, cancel_requested=False).update(
        heartbeat_at=timezone.now()
    )
    if not updated:
        raise CheckCancelled()


def run_finish(
    *, run_id: int, attempt: int, state: str, message: str = "", findings: list[dict] | None = None,
    scores: list[dict] | None = None, excerpt_root: Path | None = None, verdicts: dict[str, str] | None = None,
) -> bool:  # fmt: skip
    """running → passed | failed | errored | cancelled, with its findings, in one transaction."""
    now = timezone.now()
    with transaction.atomic():
        done = CheckRun.objects.filter(pk=run_id, attempt=attempt, state=State.RUNNING).update(
            state=state, message=message[:5000], finished_at=now
        )
        if not done:
            return False
        CheckAttempt.objects.filter(run_id=run_id, number=attempt).update(
            finished_at=now, outcome=state, message=message[:5000]
        )
        Finding.objects.bulk_create(
            [
                Finding(
                    run_id=run_id,
                    attempt=attempt,
                    severity=f["severity"],
                    check_id=f["check"][:80],
                    key=(f.get("key") or None),
                    path=(f.get("path") or "")[:500],
                    line=f.get("line"),
                    message=f["message"],
                    excerpt=checks.excerpt(excerpt_root, f.get("path") or "", f.get("line")) if excerpt_root else "",
                )
                for f in findings or []
            ],
            batch_size=1000,
        )
        run = CheckRun.objects.select_related("version").get(pk=run_id)
        if verdicts:  # engine_verdict / official_verdict, settled together with the run
            SubmissionVersion.objects.filter(pk=run.version_id).update(**verdicts)
        if scores is not None:
            Score.objects.filter(version=run.version).delete()
            Score.objects.bulk_create(
                [
                    Score(
                        version=run.version,
                        system=s["system"],
                        benchmark=s["benchmark"],
                        minutes=s["minutes"],
                        scaling=s.get("scaling", Score.Scaling.STRONG),
                        number_of_models=s.get("number_of_models"),
                        instance_scale=s.get("instance_scale"),
                    )
                    for s in scores
                ]
            )
        version_advance(version=run.version)
    return True


def run_requeue_transient(*, run_id: int, attempt: int, error: str) -> bool:
    """A transient failure (database or disk hiccup): back to queued for the same attempt."""
    return bool(
        CheckRun.objects.filter(pk=run_id, attempt=attempt, state=State.RUNNING).update(
            state=State.QUEUED, message=f"Retrying after a transient error: {error}"[:5000]
        )
    )


@transaction.atomic
def run_cancel(*, run: CheckRun, actor: Any, ip_address: str | None = None) -> CheckRun:
    if not can_cancel_checks(actor, run.version.submission):
        raise PermissionDenied("You may not cancel this check.")
    now = timezone.now()
    if CheckRun.objects.filter(pk=run.pk, state=State.QUEUED).update(state=State.CANCELLED, finished_at=now):
        CheckAttempt.objects.filter(run=run, number=run.attempt).update(outcome=State.CANCELLED, finished_at=now)
    elif CheckRun.objects.filter(pk=run.pk, state=State.RUNNING).update(cancel_requested=True):
        pass  # the worker sees it at its next progress report and stops
    else:
        raise ValidationError("This check has already finished.")
    audit_record(actor=actor, action="submissions.check_cancelled", target=run,
                 organisation=run.version.submission.organisation, ip_address=ip_address)  # fmt: skip
    run.refresh_from_db()
    version_advance(version=run.version)
    return run


def _retry(run: CheckRun, *, requested_by: Any | None, message: str) -> None:
    """Next attempt of a run: history (attempts and their findings) is kept."""
    updated = CheckRun.objects.filter(pk=run.pk, attempt=run.attempt).update(
        state=State.QUEUED, attempt=run.attempt + 1, progress_done=0, progress_total=0, worker="",
        started_at=None, finished_at=None, heartbeat_at=None, cancel_requested=False, message=message,
        queued_at=timezone.now(), pool=pool_for(run.kind),
    )  # fmt: skip
    if updated:
        run.refresh_from_db()
        CheckAttempt.objects.get_or_create(run=run, number=run.attempt, defaults={"requested_by": requested_by})
        _announce(run)


@transaction.atomic
def run_rerun(*, run: CheckRun, actor: Any, ip_address: str | None = None) -> CheckRun:
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


def runs_reap(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The reaper (beat): re-queue running checks whose worker stopped sending heartbeats (a new
    attempt, at most CHECK_MAX_ATTEMPTS, then errored), and announce again queued checks whose
    message seems lost."""
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=settings.WORKER_STALE_AFTER)
    live_workers = set(
        Worker.objects.filter(last_heartbeat__gte=stale, stopped_at=None).values_list("hostname", flat=True)
    )
    requeued = gave_up = announced = 0
    for run in CheckRun.objects.filter(state=State.RUNNING).select_related("version"):
        if run.worker in live_workers:
            continue
        # The run's own heartbeat (progress) may still be fresh if the worker row lags: trust the worker.
        with transaction.atomic():
            if run.attempt >= settings.CHECK_MAX_ATTEMPTS:
                message = (
                    f"Gave up after {run.attempt} attempts: worker {run.worker or '?'} stopped responding "
                    "during the check."
                )
                if CheckRun.objects.filter(pk=run.pk, attempt=run.attempt, state=State.RUNNING).update(
                    state=State.ERRORED, message=message, finished_at=now
                ):
                    CheckAttempt.objects.filter(run=run, number=run.attempt).update(
                        outcome="lost", finished_at=now, message=message
                    )
                    gave_up += 1
                    version_advance(version=run.version)
            else:
                CheckAttempt.objects.filter(run=run, number=run.attempt).update(
                    outcome="lost", finished_at=now, message=f"Worker {run.worker} stopped responding."
                )
                _retry(run, requested_by=None, message=f"Worker {run.worker} stopped responding; retrying.")
                requeued += 1
    lost_before = now - dt.timedelta(seconds=settings.CHECK_REQUEUE_AFTER)
    for run in CheckRun.objects.filter(state=State.QUEUED, queued_at__lt=lost_before).select_related("pool"):
        with transaction.atomic():
            CheckRun.objects.filter(pk=run.pk, state=State.QUEUED).update(queued_at=now)
            _announce(run)
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
    User mistakes become findings; transient errors propagate for the task to retry."""
    if not run_claim(run_id=run_id, attempt=attempt, worker=worker):
        return "skipped"
    run = CheckRun.objects.select_related("version__submission__round").get(pk=run_id)
    version = run.version
    usage, ruleset = _round_rules(version)

    def progress(done: int, total: int) -> None:
        run_progress(run_id=run_id, attempt=attempt, done=done, total=total)

    try:
        if run.kind == CheckKind.UNPACK:
            outcome, root = _execute_unpack(version)
        else:
            root = version_package_root(version)
            if root is None:
                outcome = checks.CheckOutcome("errored", message="The unpacked package is missing on this worker.")
            else:
                outcome = _execute_kind(
                    run.kind, root, usage, ruleset, progress, lambda: run_heartbeat(run_id=run_id, attempt=attempt)
                )
    except CheckCancelled:
        now = timezone.now()
        CheckRun.objects.filter(pk=run_id, attempt=attempt, state=State.RUNNING).update(
            state=State.CANCELLED, finished_at=now, message="Cancelled while running."
        )
        CheckAttempt.objects.filter(run_id=run_id, number=attempt).update(outcome=State.CANCELLED, finished_at=now)
        version_advance(version=version)
        return "cancelled"
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


def _folder_warnings(version: SubmissionVersion, root: Path, target: Path) -> list[dict]:
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


def _execute_kind(
    kind: str,
    root: Path,
    usage: str | None,
    ruleset: str | None,
    progress: Callable[[int, int], None],
    tick: Callable[[], None],
) -> checks.CheckOutcome:
    if kind == CheckKind.SYSTEMS:
        return checks.systems_check(root, usage, ruleset)
    if usage is None or ruleset is None:
        return checks.CheckOutcome("errored", message="This round has no ruleset for this check.")
    if kind == CheckKind.RESULTS:
        return checks.results_check(root, usage, ruleset, progress)
    if kind == CheckKind.PACKAGE:
        return checks.package_rules_check(root, usage, ruleset)
    if kind == CheckKind.SCORES:
        return checks.scores_check(root, usage, ruleset)
    if kind == CheckKind.OFFICIAL:
        limit = settings.CHECK_TIME_LIMITS[CheckKind.OFFICIAL] - 60
        return checks.official_check(root, usage, ruleset, timeout=max(limit, 10), tick=tick)
    return checks.CheckOutcome("errored", message=f"Unknown check kind {kind!r}.")


# ---------------------------------------------------------------- the pipeline


def version_advance(*, version: SubmissionVersion) -> None:
    """Queues the checks whose prerequisites are done, and settles the verdict when all are final.
    Idempotent: each kind is created once per version."""
    version = SubmissionVersion.objects.select_related("submission__round").get(pk=version.pk)
    runs = {r.kind: r for r in version.check_runs.all()}
    unpack = runs.get(CheckKind.UNPACK)
    _, ruleset = _round_rules(version)
    if unpack is not None and unpack.state == State.PASSED:
        for kind in RULESET_CHECKS if ruleset else [CheckKind.SYSTEMS]:
            if kind not in runs:
                created = run_create(version=version, kind=kind)
                if created:
                    runs[kind] = created
        results, package = runs.get(CheckKind.RESULTS), runs.get(CheckKind.PACKAGE)
        if ruleset and results and package and results.is_final and package.is_final and CheckKind.SCORES not in runs:
            created = run_create(version=version, kind=CheckKind.SCORES)
            if created:
                runs[CheckKind.SCORES] = created
    if runs and all(r.is_final for r in runs.values()) and not _more_to_come(runs, unpack, ruleset):
        _settle(version, runs, ruleset)


def _more_to_come(runs: dict, unpack: CheckRun | None, ruleset: str | None) -> bool:
    if unpack is None or unpack.state != State.PASSED:
        return False
    expected = {CheckKind.UNPACK, *([*RULESET_CHECKS, CheckKind.SCORES] if ruleset else [CheckKind.SYSTEMS])}
    return not expected <= set(runs)


def _settle(version: SubmissionVersion, runs: dict[str, CheckRun], ruleset: str | None) -> None:
    V = SubmissionVersion.Verdict
    states = {k: r.state for k, r in runs.items()}
    official = runs.get(CheckKind.OFFICIAL)
    if states.get(CheckKind.UNPACK) != State.PASSED:
        verdict = V.ERRORED if states.get(CheckKind.UNPACK) in (State.ERRORED, State.CANCELLED) else V.FAILED
    elif official is not None:
        # The official verifier's verdict is binding; when it could not run, the version could not be checked.
        verdict = {State.PASSED: V.PASSED, State.FAILED: V.FAILED}.get(official.state, V.ERRORED)
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
        transaction.on_commit(lambda: version_notify(version_id=version.pk))


def version_notify(*, version_id: int) -> None:
    """Mail the uploader the verdict, and the chairs when the official verifier failed or disagreed.
    Each notice goes once (Notice's unique constraint)."""
    from workinggroups.selectors import group_chairs

    version = SubmissionVersion.objects.select_related(
        "submission__round__group", "submission__organisation", "uploaded_by"
    ).get(pk=version_id)
    counts = {
        sev: Finding.objects.filter(run__version=version, severity=sev).count()
        for sev in ("error", "warning", "advisory")
    }
    url = site_link("submissions:detail", pk=version.submission_id)
    subject_base = f"{version.submission} v{version.number}"
    if version.uploaded_by:
        _notice_once(
            version, "checks_finished", version.uploaded_by.email,
            f"Checks finished: {subject_base} {version.get_verdict_display().lower()}",
            f"The checks of {subject_base} finished: {version.get_verdict_display()}.\n"
            f"Findings: {counts['error']} errors, {counts['warning']} warnings, "
            f"{counts['advisory']} advisories.\n\n{url}\n",
        )  # fmt: skip
    if version.official_verdict in ("fail", "crash") or version.disagreement:
        why = "disagrees with the compliance engine" if version.disagreement else "failed"
        for chair in group_chairs(version.submission.round.group):
            _notice_once(
                version, "official_verifier", chair.person.user.email,
                f"Official verifier {why}: {subject_base}",
                f"The official MLPerf package checker {why} on {subject_base} "
                f"(official: {version.official_verdict or 'none'}, "
                f"engine: {version.engine_verdict or 'none'}).\n\n{url}\n",
            )  # fmt: skip


def _notice_once(version: SubmissionVersion, kind: str, recipient: str, subject: str, body: str) -> None:
    try:
        with transaction.atomic():
            Notice.objects.create(version=version, kind=kind, recipient=recipient)
    except IntegrityError:
        return
    portal_mail(subject, body, [recipient])


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


def worker_hardware_facts() -> dict:
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
