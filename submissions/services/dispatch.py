"""Creating check runs and announcing them to the broker, and the errors worth another try."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.utils import timezone

from consortium.common.dispatch import task_send
from submissions.models import (
    CheckAttempt,
    CheckRun,
    SubmissionVersion,
    WorkerPool,
)

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
