"""Start real Celery worker processes against the test database and the test broker."""

import os
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection

from tests.waiting import wait_for

PROJECT_DIR = Path(__file__).resolve().parents[1]


def test_database_url() -> str:
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@dataclass
class WorkerProcess:
    queue: str
    nodename: str
    process: subprocess.Popen
    log_path: Path
    extra_env: dict = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_worker(
    *, queues: list[str] | None = None, concurrency: int = 1, env: dict | None = None, name: str | None = None
) -> WorkerProcess:
    """A real `celery worker` process consuming `queues` (a fresh unique queue by default)."""
    queues = queues or [f"test-{uuid.uuid4().hex[:10]}"]
    nodename = f"{name or 'test'}-{uuid.uuid4().hex[:8]}@%h"
    log_path = Path(settings.VAR_DIR) / f"worker-{uuid.uuid4().hex[:8]}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    child_env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "PORTAL_VAR_DIR": str(settings.VAR_DIR),
        "WORKER_HEARTBEAT_INTERVAL": "1",
        "DJANGO_SETTINGS_MODULE": "consortium.settings",
        **(env or {}),
    }
    if settings.REDIS_URL:
        child_env["REDIS_URL"] = settings.REDIS_URL
    cmd = [
        sys.executable, "-m", "celery", "-A", "consortium", "worker", "-l", "info",
        "-Q", ",".join(queues), "-n", nodename, "--concurrency", str(concurrency), "--without-mingle",
        "--without-gossip",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        # Its own process group, so a test can kill the worker with everything it started.
        process = subprocess.Popen(
            cmd, cwd=PROJECT_DIR, env=child_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    return WorkerProcess(queue=queues[0], nodename=nodename, process=process, log_path=log_path)


def wait_until_registered(worker: WorkerProcess, timeout: float = 60) -> None:
    from submissions.models import Worker

    prefix = worker.nodename.split("@")[0] + "@"

    def registered():
        if worker.process.poll() is not None:
            raise AssertionError(f"worker exited with {worker.process.returncode}:\n{worker.log()[-3000:]}")
        return Worker.objects.filter(hostname__startswith=prefix, stopped_at=None).first()

    wait_for(registered, timeout=timeout, what=f"worker {worker.nodename} to register")
