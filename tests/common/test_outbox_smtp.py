"""Fault: the mail server is down for a while, under a load of 20 uploads of a real package.

A real Celery worker runs the checks and the outbox; a real SMTP server process (aiosmtpd) is not
listening while the checks finish (connection refused), then comes up refusing the first messages
with 451, then accepts. Every message arrives exactly once, none is lost, nothing is left unsent.
"""

import collections
import io
import json
import shutil
import socket
import subprocess
import sys
import time
import uuid

import pytest
from django.utils import timezone

from consortium.common.models import OutgoingMail
from submissions import services
from submissions.models import CheckKind, SubmissionVersion, WorkerPool
from tests.factories import MembershipFactory, OrganisationFactory
from tests.submissions.factories import open_round, register, submitter_of, tar_gz_of
from tests.waiting import wait_for
from tests.workers import PROJECT_DIR, start_worker, wait_until_registered

pytestmark = [
    pytest.mark.faults,
    pytest.mark.worker,
    pytest.mark.realdata,
    pytest.mark.real_outbox,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]
UPLOADS = 20
REFUSED = 5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_smtp(port: int, spool, refuse: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.common.smtp_server", "--port", str(port), "--spool", str(spool),
         "--refuse", str(refuse)],
        cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert process.stdout.readline().strip() == "READY", "the SMTP server did not start"
    return process


def _received(spool) -> list[dict]:
    return [json.loads(line) for line in spool.read_text().splitlines()] if spool.exists() else []


def test_mail_server_down_then_refusing_then_accepting_every_message_arrives_once(mlperf_dir, tmp_path, settings):
    port, spool, queue = _free_port(), tmp_path / "received.jsonl", f"outbox-{uuid.uuid4().hex[:8]}"
    settings.OUTBOX_QUEUE = queue
    settings.SUBMISSION_UPLOADS_PER_DAY = UPLOADS * 2
    org = MembershipFactory(
        organisation=OrganisationFactory(name="Krai", slug="krai", results_folder="Krai")
    ).organisation
    round_ = open_round()
    register(round_, org)
    user = submitter_of(org, "sub@krai.test")
    pool = WorkerPool.objects.create(name=f"all-{queue}", queue=f"checks-{queue}", check_kinds=list(CheckKind.values))
    worker = start_worker(
        queues=[pool.queue, queue],
        concurrency=2,
        env={
            "EMAIL_URL": f"smtp://127.0.0.1:{port}",
            "OUTBOX_QUEUE": queue,
            "OUTBOX_BACKOFF_BASE": "1",
            "OUTBOX_BACKOFF_MAX": "2",
            "OUTBOX_MAX_ATTEMPTS": "100000",
            "EMAIL_TIMEOUT": "5",
        },
    )
    smtp = None
    try:
        wait_until_registered(worker)
        copy = tmp_path / "Krai"
        shutil.copytree(mlperf_dir / "training_results_v5.1" / "Krai", copy)
        data = tar_gz_of(copy)
        versions = [
            services.submission_upload(
                round=round_, organisation=org, division="closed", category="available", archive=io.BytesIO(data),
                original_name="Krai.tar.gz", actor=user, source="api",
            ).pk
            for _ in range(UPLOADS)
        ]  # fmt: skip
        wait_for(
            lambda: SubmissionVersion.objects.filter(pk__in=versions, checks_finished_at__isnull=False).count()
            == UPLOADS,
            timeout=900, interval=1, what="the checks of every upload",
        )  # fmt: skip
        # The mail server is down: every message was tried (the task's retries) and none is sent.
        wait_for(
            lambda: OutgoingMail.objects.filter(attempts__gte=2).count() == UPLOADS,
            timeout=120, what="every message to be tried while the server is down",
        )  # fmt: skip
        assert not OutgoingMail.objects.filter(state=OutgoingMail.State.SENT).exists()
        assert _received(spool) == []

        smtp = _start_smtp(port, spool, refuse=REFUSED)
        up = time.monotonic()
        wait_for(
            lambda: OutgoingMail.objects.filter(state=OutgoingMail.State.SENT).count() == UPLOADS,
            timeout=120, what="every message to be sent once the server accepts",
        )  # fmt: skip
        recovery = time.monotonic() - up
        rows = list(OutgoingMail.objects.all())
        received = _received(spool)
        counts = collections.Counter(line["key"] for line in received)
        assert len(rows) == UPLOADS  # one "checks finished" per upload, to the uploader
        assert set(counts) == {row.key for row in rows}  # nothing lost
        assert max(counts.values()) == 1  # nothing twice
        assert all(line["to"] == ["sub@krai.test"] for line in received)
        assert any("451" in row.last_error for row in rows) or sum(r.attempts for r in rows) > 2 * UPLOADS
        assert all(row.sent_at <= timezone.now() for row in rows)
        print(f"\nmail server down: {UPLOADS} uploads, {len(received)} received once, recovery {recovery:.1f} s")
        assert worker.process.poll() is None
    finally:
        if smtp is not None:
            smtp.terminate()
            smtp.wait(timeout=10)
        worker.stop()
