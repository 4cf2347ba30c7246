"""Workers: registration, heartbeats and the hardware they report."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from typing import Any

from django.db import transaction
from django.utils import timezone

from submissions.models import (
    Worker,
    WorkerPing,
    WorkerPool,
)

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


def worker_hardware_facts() -> dict[str, Any]:
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
