"""Celery tasks: thin, take ids, safe to run twice. Unknown keyword arguments are ignored so that
messages from an older deploy still run."""

import contextlib
import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError, InterfaceError

logger = logging.getLogger(__name__)

# Errors worth another try: the database or the disk hiccuped. Everything else the user caused is
# a finding, and a bug in a check becomes an errored run, never a dead worker.
TRANSIENT = (DatabaseError, InterfaceError, ConnectionError, TimeoutError)


@shared_task(name="portal.ping", bind=True, ignore_result=True)
def ping(self, *, marker: str = "", **_: object) -> None:
    """Proves a worker runs tasks end to end: records that it saw `marker`."""
    from submissions.services import ping_record

    ping_record(marker=marker, hostname=self.request.hostname or "")


@shared_task(
    name="submissions.check_run_execute",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    max_retries=5,
)
def check_run_execute(self, *, run_id: int, attempt: int = 1, **_: object) -> str:
    from submissions import services

    worker = self.request.hostname or "unknown"
    try:
        return services.check_run_execute(run_id=run_id, attempt=attempt, worker=worker)
    except SoftTimeLimitExceeded:
        services.run_finish(
            run_id=run_id, attempt=attempt, state="errored",
            message="The check ran past its time limit and was stopped.",
        )  # fmt: skip
        return "errored"
    except TRANSIENT as exc:
        logger.warning("check run %s attempt %s: transient error, retrying: %s", run_id, attempt, exc)
        # If the database is still away, the reaper finds the run later.
        with contextlib.suppress(*TRANSIENT):
            services.run_requeue_transient(run_id=run_id, attempt=attempt, error=str(exc))
        raise self.retry(exc=exc, countdown=min(2 ** (self.request.retries + 1), 60)) from exc
    except Exception as exc:
        logger.exception("check run %s attempt %s failed unexpectedly", run_id, attempt)
        services.run_finish(
            run_id=run_id, attempt=attempt, state="errored",
            message=f"The check itself failed ({type(exc).__name__}: {exc}); staff have been told by the log.",
        )  # fmt: skip
        return "errored"


@shared_task(name="submissions.runs_reap", ignore_result=True)
def runs_reap(**_: object) -> dict:
    from submissions import services

    return services.runs_reap()
