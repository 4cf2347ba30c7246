"""Fault injection under load, against PostgreSQL, a Redis server of the test's own and real Celery
worker and beat processes: 20 uploads of real packages each, and in the middle of their checks

- SIGKILL of the pool children of a worker (as the OOM killer does);
- SIGKILL of a worker's main process;
- the Redis server killed and started again (no persistence: every message is lost);
- every PostgreSQL connection of the workers killed with pg_terminate_backend;
- uploads cut off mid-stream through a real gunicorn server.

For each: every check finishes exactly once, no version stays pending, nothing is lost, every version
gets the official verdict (all these packages pass), the uploader hears once, and the lost attempts are
taken up within WORKER_STALE_AFTER plus one reaper tick. The figures go to var/faults-figures.jsonl
(docs/reliability.md). Every wait is a condition with a deadline.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from submissions import services, storage
from submissions.models import CheckKind, CheckRun, SubmissionVersion, WorkerPool
from tests.factories import MembershipFactory, OrganisationFactory
from tests.integration import faults
from tests.submissions.factories import open_round, register, submitter_of, tar_gz_of
from tests.waiting import wait_for
from tests.workers import PROJECT_DIR, start_worker, wait_until_registered
from tests.workers import test_database_url as database_url

pytestmark = [pytest.mark.faults, pytest.mark.worker, pytest.mark.realdata, pytest.mark.django_db(transaction=True)]
State = CheckRun.State
LOAD = 20
# Small on purpose: recovery is bounded by these (the suite's settings, in every process).
STALE, TICK, REQUEUE = 4, 1, 4
FAULT_ENV = {
    "WORKER_HEARTBEAT_INTERVAL": "1",
    "WORKER_STALE_AFTER": str(STALE),
    "CHECK_REAPER_INTERVAL": str(TICK),
    "CHECK_REQUEUE_AFTER": str(REQUEUE),
    "CHECK_MAX_ATTEMPTS": "5",
    "CONN_MAX_AGE": "60",
    "DEBUG": "true",
}
SETTLE_TIMEOUT = 240


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    from tests.conftest import MLPERF_DIR

    source = MLPERF_DIR / "training_results_v5.1"
    if not source.is_dir():
        pytest.skip(f"real MLPerf data not present at {MLPERF_DIR}")
    out = {}
    for name in faults.PACKAGES:
        out[name] = tar_gz_of(source / name)
    return out


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory, django_db_setup, django_db_blocker):
    """A Redis server of the suite's own (its own port), and every process pointed at it, with the
    suite's small recovery settings. Module-wide: the workers outlive a test."""
    from django.test import override_settings

    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.skip("the fault-injection suite runs against PostgreSQL (set DATABASE_URL)")
    server = faults.RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    original = faults.settings.CELERY_BROKER_URL
    # A store of the suite's own: no other test run on the machine unpacks into its version folders.
    media = tmp_path_factory.mktemp("media")
    FAULT_ENV["MEDIA_ROOT"] = str(media)
    override = override_settings(
        MEDIA_ROOT=media,
        REDIS_URL=server.url, CELERY_BROKER_URL=server.url, WORKER_STALE_AFTER=STALE, CHECK_REAPER_INTERVAL=TICK,
        CHECK_REQUEUE_AFTER=REQUEUE, CHECK_MAX_ATTEMPTS=5, SUBMISSION_UPLOADS_PER_DAY=1000,
    )  # fmt: skip
    override.enable()
    faults.point_celery_at(server.url)
    yield server
    override.disable()
    faults.point_celery_at(original)
    server.stop()


class Cluster:
    """Two check workers (one process each, as on two small machines) on the suite's pool queue, a
    worker on the default queue (the reaper's task) and a beat sending the reaper every TICK s."""

    def __init__(self, queue: str, redis_url: str):
        self.queue, self.started = queue, []
        # Started together and then waited for: their start-ups (imports, mostly) overlap.
        self.checkers = [self.worker("check-a", [queue]), self.worker("check-b", [queue])]
        self.reaper = self.worker("reaper", ["default"])
        self.beat = faults.start_beat({**FAULT_ENV, "REDIS_URL": redis_url})
        for w in [*self.checkers, self.reaper]:
            wait_until_registered(w, timeout=90)

    def worker(self, name: str, queues: list[str]):
        w = start_worker(queues=queues, concurrency=1, name=name, env=FAULT_ENV)
        self.started.append(w)
        return w

    def revive(self) -> None:
        """A test that killed a worker leaves it dead: the next one gets a fresh one."""
        for i, w in enumerate(self.checkers):
            if w.process.poll() is not None:
                faults.Process(w.process, w.log_path).kill_group()
                self.checkers[i] = self.worker(f"check-{'ab'[i]}", [self.queue])
                wait_until_registered(self.checkers[i], timeout=90)

    def stop(self) -> None:
        """Warm shutdown of every worker at once (their database connections must be gone before the
        test database is dropped), then their process groups with whatever they left behind."""
        self.beat.kill_group()
        for w in self.started:
            if w.process.poll() is None:
                w.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for w in self.started:
            with contextlib.suppress(subprocess.TimeoutExpired):
                w.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            faults.Process(w.process, w.log_path).kill_group()


@pytest.fixture(scope="module")
def workers(redis_server, django_db_blocker):
    c = None
    with django_db_blocker.unblock():
        c = Cluster(f"faults-{uuid.uuid4().hex[:8]}", redis_server.url)
    yield c
    c.stop()


@pytest.fixture
def cluster(workers):
    """Per test: the pool row (the database is emptied after each test) and two live check workers."""
    WorkerPool.objects.create(name=workers.queue, queue=workers.queue, check_kinds=list(CheckKind.values))
    workers.revive()
    return workers


@pytest.fixture
def uploaders():
    round_ = open_round(slug=f"faults-{uuid.uuid4().hex[:6]}")
    people = []
    for i in range(2):
        org = MembershipFactory(organisation=OrganisationFactory(name=f"Faults {i}", slug=f"faults-{i}")).organisation
        register(round_, org)
        people.append((org, submitter_of(org, f"sub{i}@faults.test")))
    return round_, people


def _load(uploaders, packages, n: int = LOAD) -> list[int]:
    round_, people = uploaders
    names = list(packages)
    ids = []
    for i in range(n):
        org, user = people[i % len(people)]
        name = names[i % len(names)]
        version = services.submission_upload(
            round=round_, organisation=org, division="closed" if i % 4 < 2 else "open", category="available",
            archive=io.BytesIO(packages[name]), original_name=f"{name}.tar.gz", actor=user, source="api",
        )  # fmt: skip
        ids.append(version.pk)
    return ids


def _running(min_count: int = 1, kinds: tuple[str, ...] | None = None):
    def found():
        runs = CheckRun.objects.filter(state=State.RUNNING)
        if kinds:
            runs = runs.filter(kind__in=kinds)
        return list(runs) if runs.count() >= min_count else None

    return wait_for(found, timeout=120, interval=0.05, what="checks to be running")


def _official_running_on(worker) -> None:
    """Waits until the worker runs an official verifier (the longest check: seconds, not milliseconds),
    so that the fault hits a check in the middle of its work."""
    prefix = worker.nodename.split("@")[0]
    running = CheckRun.objects.filter(state=State.RUNNING, kind=CheckKind.OFFICIAL, worker__startswith=prefix)
    wait_for(
        running.exists,
        timeout=120, interval=0.05, what=f"an official verifier running on {prefix}",
    )  # fmt: skip


def _verify(
    fault: str, ids: list[int], fault_at, started: float, *, expect_lost_attempts: bool, recovery_slack: float = 3
) -> faults.Figures:
    faults.wait_until_settled(ids, timeout=SETTLE_TIMEOUT)
    figures = faults.account(fault, ids, fault_at, started)
    assert figures.lost == 0 and figures.stuck == 0 and figures.duplicated == 0, figures
    assert figures.finished_once == figures.checks_expected, figures
    wrong = [
        (
            v.pk,
            v.verdict,
            v.official_verdict,
            [(r.kind, r.state, r.attempt, r.message[:200]) for r in v.check_runs.all()],
        )
        for v in SubmissionVersion.objects.filter(pk__in=ids).exclude(verdict="passed", official_verdict="pass")
    ]
    assert not wrong, wrong
    told_twice, not_told = faults.notices_missing(ids)
    assert told_twice == 0, "an uploader was told twice"
    assert not_told == 0, "the verdict mail is queued in the outbox with the verdict: never without it"
    figures.write()
    if expect_lost_attempts:
        assert figures.lost_attempts >= 1, "the fault should have cost at least one attempt"
    # The slack covers the reaper task reaching its worker through the broker.
    assert figures.recovery_seconds <= figures.recovery_bound_seconds + recovery_slack, figures
    return figures


def test_sigkill_of_pool_children_mid_check(cluster, uploaders, packages):
    started = time.monotonic()
    ids = _load(uploaders, packages)
    victim = cluster.checkers[0]
    _official_running_on(victim)
    fault_at = timezone.now()
    children = faults.pool_children(victim.process.pid)
    assert children, "the worker has pool children"
    for pid in children:
        os.kill(pid, signal.SIGKILL)
    _verify("SIGKILL of a worker's pool child mid-check", ids, fault_at, started, expect_lost_attempts=True)
    assert victim.process.poll() is None, "the worker's main process survives and forks a new child"


def test_redis_restarted_mid_load(cluster, uploaders, packages, redis_server):
    started = time.monotonic()
    ids = _load(uploaders, packages)
    _running(1)
    fault_at = timezone.now()
    down = redis_server.restart()
    figures_note = f"Redis was down {down:.1f} s"
    figures = _verify(f"Redis server restarted mid-load (no persistence; {figures_note})", ids, fault_at, started,
                      expect_lost_attempts=False)  # fmt: skip
    alive = [w.process.poll() is None for w in [*cluster.checkers, cluster.reaper]]
    assert all(alive), "the workers survive the broker's restart"
    assert figures.lost == 0


def test_postgresql_connections_killed_mid_check(cluster, uploaders, packages):
    started = time.monotonic()
    ids = _load(uploaders, packages)
    killed = 0
    fault_at = []
    for _ in range(3):  # three times, a few checks apart
        _running(1)
        fault_at.append(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            killed += cursor.fetchone()[0]
        before = SubmissionVersion.objects.filter(pk__in=ids, checks_finished_at__isnull=False).count()
        wait_for(
            lambda before=before: SubmissionVersion.objects.filter(pk__in=ids, checks_finished_at__isnull=False).count()
            > before or before == len(ids),
            timeout=120, interval=0.2, what="more versions to finish after the connections were killed",
        )  # fmt: skip
    assert killed >= 3, "the workers' connections were there to kill"
    # The checks hit retry in place on a fresh connection (no ETA message that would let a busy worker
    # hold the next check's message out of the reaper's sight), so the bound holds like the others'.
    _verify("PostgreSQL connections killed (pg_terminate_backend) mid-check, three times", ids, fault_at, started,
            expect_lost_attempts=False)  # fmt: skip
    assert all(w.process.poll() is None for w in [*cluster.checkers, cluster.reaper])


# ---------------------------------------------------------------- uploads cut off mid-stream


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _multipart(boundary: str, name: str, data: bytes) -> tuple[bytes, bytes]:
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in (("division", "closed"), ("category", "available"))
    ).encode()
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="archive"; filename="{name}"\r\n'
        "Content-Type: application/gzip\r\n\r\n"
    ).encode()
    return head + data, f"\r\n--{boundary}--\r\n".encode()


def _post(port: int, token: str, slug: str, name: str, data: bytes, *, cut: bool) -> int | None:
    boundary = "faults" + uuid.uuid4().hex
    body, tail = _multipart(boundary, name, data)
    length = len(body) + len(tail)
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(
            (f"POST /api/v1/rounds/{slug}/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             f"Authorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
             f"Content-Length: {length}\r\nConnection: close\r\n\r\n").encode()
        )  # fmt: skip
        if cut:
            sock.sendall(body[: len(body) * 2 // 3])  # two thirds of the archive, then the line drops
            sock.shutdown(socket.SHUT_RDWR)
            return None
        sock.sendall(body + tail)
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
    return int(response.split(b" ", 2)[1])


def test_uploads_cut_off_mid_stream_leave_nothing_and_the_rest_finish(cluster, uploaders, packages, redis_server):
    round_, people = uploaders
    port = _free_port()
    env = faults.child_env({**FAULT_ENV, "REDIS_URL": redis_server.url, "DATABASE_URL": database_url()})
    log_path = faults.Path(faults.settings.VAR_DIR) / f"gunicorn-{uuid.uuid4().hex[:6]}.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "consortium.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2",
             "--timeout", "120"],
            cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    web = faults.Process(server, log_path)
    try:

        def listening():
            if server.poll() is not None:
                raise AssertionError(web.log()[-3000:])
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", port)) == 0

        wait_for(listening, timeout=60, what="gunicorn to listen")
        tokens = [services.api_token_create(user=user, name="faults")[1] for _, user in people]
        names = list(packages)
        incoming_before = set(storage.incoming_dir().iterdir())
        started = time.monotonic()
        fault_at = timezone.now()
        statuses = []
        cuts = 0
        cut_shas = set()
        for i in range(LOAD + 5):
            cut = i % 5 == 2  # every fifth upload is cut off: five of 25
            name = names[i % len(names)]
            data = packages[name] + (os.urandom(4096) if cut else b"")  # bytes of its own, never complete
            cut_shas |= {hashlib.sha256(data).hexdigest()} if cut else set()
            status = _post(port, tokens[i % 2], round_.slug, f"{name}.tar.gz", data, cut=cut)
            cuts += cut
            if not cut:
                statuses.append(status)
        assert statuses == [201] * LOAD, statuses
        ids = list(SubmissionVersion.objects.filter(submission__round=round_).values_list("pk", flat=True))
        assert len(ids) == LOAD, "exactly the complete uploads became versions"
        # The server noticed each cut-off upload and removed what it had received of it.
        wait_for(
            lambda: set(storage.incoming_dir().iterdir()) <= incoming_before, timeout=60,
            what="the cut-off uploads' partial files to be removed",
        )  # fmt: skip
        assert not any(storage.archive_path(sha).exists() for sha in cut_shas)
        figures = _verify(f"Upload cut off mid-stream ({cuts} of {LOAD + cuts}, gunicorn)", ids, fault_at, started,
                          expect_lost_attempts=False)  # fmt: skip
        assert figures.lost == 0
    finally:
        web.kill_group()


# Last, as it leaves a worker dead (in another order the next test's revive() replaces it).
def test_sigkill_of_a_worker_main_process_mid_check(cluster, uploaders, packages):
    started = time.monotonic()
    ids = _load(uploaders, packages)
    victim = cluster.checkers[0]
    _official_running_on(victim)
    fault_at = timezone.now()
    children = faults.pool_children(victim.process.pid)
    os.kill(victim.process.pid, signal.SIGKILL)
    victim.process.wait(timeout=10)
    # A machine that loses its worker loses what the worker started with it.
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _verify("SIGKILL of a worker's main process (and its children)", ids, fault_at, started,
            expect_lost_attempts=True)  # fmt: skip
