"""Health of the database, the broker and the workers, for /healthz and `make run`."""

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone


def database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, connection.vendor
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"


def broker_ok() -> tuple[bool, str]:
    from consortium.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            conn.default_channel  # opens a channel: proves the transport really answers  # noqa: B018
        return True, conn.transport_cls if isinstance(conn.transport_cls, str) else str(conn.transport_cls)
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"


def live_workers() -> list[dict[str, Any]]:
    from submissions.models import Worker

    cutoff = timezone.now() - dt.timedelta(seconds=settings.WORKER_STALE_AFTER)
    workers = Worker.objects.filter(last_heartbeat__gte=cutoff, stopped_at=None).select_related("pool")
    return [
        {
            "hostname": w.hostname,
            "pool": w.pool.name if w.pool else None,
            "queues": w.queues,
            "last_heartbeat": w.last_heartbeat.isoformat(),
        }
        for w in workers
    ]


def health_report() -> tuple[bool, dict[str, Any]]:
    db_ok, db_detail = database_ok()
    br_ok, br_detail = broker_ok()
    try:
        workers = live_workers() if db_ok else []
    except Exception:
        workers = []
    healthy = db_ok and br_ok
    return healthy, {
        "status": "ok" if healthy else "unavailable",
        "database": {"ok": db_ok, "detail": db_detail},
        "broker": {"ok": br_ok, "detail": br_detail},
        "workers": {
            "live": len(workers),
            "stale_after_seconds": settings.WORKER_STALE_AFTER,
            "list": workers,
        },
    }
