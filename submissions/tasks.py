"""Celery tasks: thin, take ids, safe to run twice. Unknown keyword arguments are ignored so that
messages from an older deploy still run."""

import logging
import time

from celery import shared_task
from django.db import connection

from submissions import services, storage

logger = logging.getLogger(__name__)


@shared_task(name="portal.ping", bind=True, ignore_result=True)
def ping(self, *, marker: str = "", **_: object) -> None:
    """Proves a worker runs tasks end to end: records that it saw `marker`."""
    services.ping_record(marker=marker, hostname=self.request.hostname or "")


# Connection-level errors are retried in place this many times, after a doubling backoff.
TRANSIENT_RETRIES = 5
TRANSIENT_BACKOFF = (0.5, 8.0)  # first wait and longest wait, in seconds


@shared_task(
    name="submissions.check_run_execute",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def check_run_execute(self, *, run_id: int, attempt: int = 1, **_: object) -> str:
    """One attempt of one check. Only connection-level errors (database, broker) are retried: here,
    on a fresh connection, after a backoff; the service turns everything else into an `errored` run
    with a finding. When the retries run out the run is left to the reaper (at most CHECK_MAX_ATTEMPTS).

    Not `self.retry(countdown=...)`: a message with an ETA raises the worker's prefetch while it
    waits, and the extra BRPOP can pull the next check's message into a busy worker, where it sits
    unread (in neither the queue nor the unacknowledged set) until the running check ends; the
    reaper, reading the broker, takes it for lost and announces it again."""
    worker = self.request.hostname or "unknown"
    first, longest = TRANSIENT_BACKOFF
    for retry in range(TRANSIENT_RETRIES + 1):
        try:
            return services.check_run_execute(run_id=run_id, attempt=attempt, worker=worker)
        except services.TransientCheckError as exc:
            attempt = exc.attempt
            if retry == TRANSIENT_RETRIES:
                logger.error("check run %s attempt %s: giving the retries up to the reaper: %s", run_id, attempt, exc)
                break
            delay = min(first * 2**retry, longest)
            logger.warning(
                "check run %s attempt %s: transient error, retrying in %s s: %s", run_id, attempt, delay, exc
            )
            _fresh_connection()
            time.sleep(delay)
    return "retries exhausted"


def _fresh_connection() -> None:
    """The next query opens a new database connection (never inside a transaction)."""
    if not connection.in_atomic_block:
        connection.close()


@shared_task(name="submissions.runs_reap", ignore_result=True)
def runs_reap(**_: object) -> dict:
    return services.runs_reap()


@shared_task(name="submissions.archives_sweep", ignore_result=True)
def archives_sweep(**_: object) -> dict:
    return storage.archives_sweep()
