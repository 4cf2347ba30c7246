"""Celery tasks: thin, take ids, safe to run twice. Unknown keyword arguments are ignored so that
messages from an older deploy still run."""

import logging

from celery import shared_task

from submissions import services, storage

logger = logging.getLogger(__name__)


@shared_task(name="portal.ping", bind=True, ignore_result=True)
def ping(self, *, marker: str = "", **_: object) -> None:
    """Proves a worker runs tasks end to end: records that it saw `marker`."""
    services.ping_record(marker=marker, hostname=self.request.hostname or "")


@shared_task(
    name="submissions.check_run_execute",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    max_retries=5,
)
def check_run_execute(self, *, run_id: int, attempt: int = 1, **_: object) -> str:
    """One attempt of one check. Only connection-level errors (database, broker) are retried, with
    backoff; the service turns everything else into an `errored` run with a finding. When the retries
    run out, the run stays queued and the reaper announces it again (at most CHECK_MAX_ATTEMPTS)."""
    worker = self.request.hostname or "unknown"
    try:
        return services.check_run_execute(run_id=run_id, attempt=attempt, worker=worker)
    except services.TransientCheckError as exc:
        if self.request.retries >= self.max_retries:
            logger.error("check run %s attempt %s: giving the retries up to the reaper: %s", run_id, exc.attempt, exc)
            return "retries exhausted"
        logger.warning("check run %s attempt %s: transient error, retrying: %s", run_id, exc.attempt, exc)
        raise self.retry(
            kwargs={"run_id": run_id, "attempt": exc.attempt},
            countdown=min(2 ** (self.request.retries + 1), 60),
            exc=exc.error,
        ) from exc


@shared_task(name="submissions.runs_reap", ignore_result=True)
def runs_reap(**_: object) -> dict:
    return services.runs_reap()


@shared_task(name="submissions.archives_sweep", ignore_result=True)
def archives_sweep(**_: object) -> dict:
    return storage.archives_sweep()
