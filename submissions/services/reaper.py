"""The reaper: re-announces what a dead worker or a lost message left behind."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import logging
import time
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from submissions.models import (
    CheckAttempt,
    CheckRun,
)
from submissions.services.dispatch import _queue_of
from submissions.services.runs import _retry, _run_give_up, _stale_before

logger = logging.getLogger(__name__)
State = CheckRun.State


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
