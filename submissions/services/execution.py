"""Running one attempt of a check, in the worker."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from consortium.members.models import Organisation
from submissions import checks
from submissions.models import (
    CheckAttempt,
    CheckKind,
    CheckRun,
    SubmissionVersion,
)
from submissions.services.advance import _round_rules, version_advance
from submissions.services.cleaning import _text
from submissions.services.dispatch import TRANSIENT_ERRORS, TransientCheckError
from submissions.services.folders import version_folder, version_package_root
from submissions.services.runs import (
    CheckCancelled,
    RunHeartbeat,
    _portal_finding,
    run_claim,
    run_error,
    run_finish,
    run_heartbeat,
    run_progress,
    run_requeue_transient,
    run_take_over,
)
from submissions.storage import (
    archive_path,
)
from submissions.unpacking import package_root, unpack_archive

logger = logging.getLogger(__name__)
State = CheckRun.State


# ---------------------------------------------------------------- running a check (in the worker)


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
