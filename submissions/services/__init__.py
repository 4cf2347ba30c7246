"""Writes for submissions, uploads, check runs and workers.

Check runs move through a state machine whose every step is a conditional UPDATE on (id, state,
attempt): a duplicate or late Celery message finds nothing to update and does nothing. PostgreSQL (or
SQLite) is the source of truth; the broker only announces work, and the reaper re-announces what a
dead worker or a lost message left behind.
"""

# The package is split by topic; callers import the public names from here.
from submissions.models import CheckRun as _CheckRun
from submissions.services.advance import AFTER_ENGINE_REPORT, version_advance
from submissions.services.cleaning import INFERENCE_SCORE_TEXT, finding_clean, inference_scores_clean, scores_clean
from submissions.services.dispatch import (
    TRANSIENT_DATABASE_ERRORS,
    TRANSIENT_ERRORS,
    TransientCheckError,
    pool_for,
    run_create,
)
from submissions.services.execution import check_run_execute, version_engine_report, version_inference_report
from submissions.services.folders import version_folder, version_package_root
from submissions.services.reaper import IN_FLIGHT_RECHECK_SECONDS, runs_reap
from submissions.services.runs import (
    CheckCancelled,
    RunHeartbeat,
    run_cancel,
    run_claim,
    run_error,
    run_finish,
    run_gave_up_notify,
    run_heartbeat,
    run_progress,
    run_requeue_transient,
    run_rerun,
    run_take_over,
)
from submissions.services.tokens import api_token_authenticate, api_token_create, api_token_revoke
from submissions.services.uploads import (
    fix_window_open,
    submission_upload,
    upload_limit_for,
    upload_window_refusal,
    uploads_today,
)
from submissions.services.workers import (
    ping_record,
    worker_hardware_facts,
    worker_heartbeat,
    worker_register,
    worker_stopped,
)

State = _CheckRun.State

__all__ = [
    "AFTER_ENGINE_REPORT",
    "INFERENCE_SCORE_TEXT",
    "IN_FLIGHT_RECHECK_SECONDS",
    "TRANSIENT_DATABASE_ERRORS",
    "TRANSIENT_ERRORS",
    "CheckCancelled",
    "RunHeartbeat",
    "State",
    "TransientCheckError",
    "api_token_authenticate",
    "api_token_create",
    "api_token_revoke",
    "check_run_execute",
    "finding_clean",
    "fix_window_open",
    "inference_scores_clean",
    "ping_record",
    "pool_for",
    "run_cancel",
    "run_claim",
    "run_create",
    "run_error",
    "run_finish",
    "run_gave_up_notify",
    "run_heartbeat",
    "run_progress",
    "run_requeue_transient",
    "run_rerun",
    "run_take_over",
    "runs_reap",
    "scores_clean",
    "submission_upload",
    "upload_limit_for",
    "upload_window_refusal",
    "uploads_today",
    "version_advance",
    "version_engine_report",
    "version_folder",
    "version_inference_report",
    "version_package_root",
    "worker_hardware_facts",
    "worker_heartbeat",
    "worker_register",
    "worker_stopped",
]
