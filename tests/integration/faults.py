"""Helpers of the fault-injection suite: a Redis server of the test's own, a Celery beat process, a
load of real package uploads, and the accounting of what happened to every check."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from consortium.common.models import OutgoingMail
from submissions.models import CheckAttempt, CheckKind, CheckRun, SubmissionVersion
from tests.waiting import wait_for
from tests.workers import PROJECT_DIR, test_database_url

State = CheckRun.State
FINAL = {str(s) for s in CheckRun.FINAL_STATES}
# Small packages of the shared real data (all pass the official checker), so that 20 uploads of
# each fault fit the suite's time budget on a small machine.
PACKAGES = ("Krai", "Quanta_Cloud_Technology")
FIGURES = Path(settings.VAR_DIR) / "faults-figures.jsonl"


def free_port(start: int = 6390) -> int:
    for port in range(start, start + 200):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


class RedisServer:
    """A redis-server of the test's own on its own port, with no persistence (a restart loses every
    message, as a crashed broker without an AOF does)."""

    def __init__(self, folder: Path):
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        wait_for(self.ping, timeout=20, what=f"redis-server on port {self.port}")

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> float:
        """Kills the server and starts it again on the same port; returns the seconds it was down."""
        started = time.monotonic()
        self.stop()
        wait_for(lambda: not self.ping(), timeout=10, what="redis to go down")
        self.start()
        return time.monotonic() - started


def point_celery_at(url: str) -> None:
    """The test process's Celery app publishes to `url` from now on."""
    import kombu.pools

    from consortium.celery import app

    app.conf.broker_url = url
    kombu.pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@dataclass
class Process:
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


def child_env(extra: dict[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "PORTAL_VAR_DIR": str(settings.VAR_DIR),
        "DJANGO_SETTINGS_MODULE": "consortium.settings",
        **extra,
    }


def start_beat(env: dict[str, str]) -> Process:
    tag = uuid.uuid4().hex[:8]
    log_path = Path(settings.VAR_DIR) / f"beat-{tag}.log"
    schedule = Path(settings.VAR_DIR) / f"beat-{tag}-schedule"
    cmd = [sys.executable, "-m", "celery", "-A", "consortium", "beat", "-l", "info", "-s", str(schedule),
           "--pidfile="]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(cmd, cwd=PROJECT_DIR, env=child_env(env), stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
    return Process(process, log_path)


def pool_children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


@dataclass
class Figures:
    fault: str
    load: int
    checks_expected: int
    finished_once: int = 0
    duplicated: int = 0
    lost: int = 0
    stuck: int = 0
    recovery_seconds: float = 0.0
    recovery_bound_seconds: float = 0.0
    lost_attempts: int = 0
    wall_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def write(self) -> None:
        FIGURES.parent.mkdir(parents=True, exist_ok=True)
        with FIGURES.open("a") as fh:
            fh.write(json.dumps({**asdict(self), "at": timezone.now().isoformat()}) + "\n")
        print("\nFAULT FIGURES", json.dumps(asdict(self)))


def expected_kinds() -> set[str]:
    return set(CheckKind.values)


def wait_until_settled(version_ids: list[int], timeout: float) -> None:
    def settled():
        return SubmissionVersion.objects.filter(pk__in=version_ids, checks_finished_at__isnull=False).count() == len(
            version_ids
        )

    wait_for(settled, timeout=timeout, interval=0.5, what=f"the checks of {len(version_ids)} versions to finish")


def account(fault: str, version_ids: list[int], fault_at: dt.datetime | list[dt.datetime], started: float) -> Figures:
    """What happened to every expected check: finished exactly once, more than once, never (lost) or
    not yet (stuck); and how long after the (latest) fault the lost attempts were taken up again."""
    faults_at = sorted(fault_at if isinstance(fault_at, list) else [fault_at])
    expected = expected_kinds()
    figures = Figures(fault=fault, load=len(version_ids), checks_expected=len(version_ids) * len(expected))
    recovery = 0.0
    for version in SubmissionVersion.objects.filter(pk__in=version_ids).prefetch_related("check_runs__attempts"):
        runs = {r.kind: r for r in version.check_runs.all()}
        figures.lost += len(expected - set(runs))
        for run in runs.values():
            attempts = list(run.attempts.all())
            finished = [a for a in attempts if a.outcome in FINAL]
            if run.state not in FINAL:
                figures.stuck += 1
            elif len(finished) == 1:
                figures.finished_once += 1
            elif len(finished) > 1:
                figures.duplicated += 1
            else:
                figures.lost += 1
            for a in attempts:
                if a.outcome == "lost":
                    figures.lost_attempts += 1
                    before = [f for f in faults_at if a.finished_at and f <= a.finished_at]
                    if before:
                        after = (a.finished_at - before[-1]).total_seconds()
                        recovery = max(recovery, after)
                        figures.notes.append(f"{run.kind} #{a.number} +{after:.1f}s: {a.message[:100]}")
    figures.recovery_seconds = round(recovery, 2)
    figures.recovery_bound_seconds = settings.WORKER_STALE_AFTER + settings.CHECK_REAPER_INTERVAL
    figures.wall_seconds = round(time.monotonic() - started, 1)
    return figures


def notices_missing(version_ids: list[int]) -> tuple[int, int]:
    """(versions whose uploader was told more than once, versions whose uploader was not told)."""
    counts = [
        OutgoingMail.objects.filter(key__startswith=f"submissions.version:{pk}:checks_finished").count()
        for pk in version_ids
    ]
    return sum(1 for c in counts if c > 1), sum(1 for c in counts if c == 0)


def lost_attempts_after(fault_at: dt.datetime) -> int:
    return CheckAttempt.objects.filter(outcome="lost", finished_at__gte=fault_at).count()
