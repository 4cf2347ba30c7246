"""Celery tasks: thin, take ids, safe to run twice."""

from celery import shared_task


@shared_task(name="portal.ping", bind=True, ignore_result=True)
def ping(self, *, marker: str = "", **_: object) -> None:
    """Proves a worker runs tasks end to end: records that it saw `marker`."""
    from submissions.services import ping_record

    ping_record(marker=marker, hostname=self.request.hostname or "")
