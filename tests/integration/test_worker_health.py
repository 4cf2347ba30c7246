"""A real Celery worker process (embedded broker, or Redis when REDIS_URL is set) runs a task and its
heartbeat shows in /healthz."""

import uuid

import pytest
from django.test import Client

from submissions.models import Worker, WorkerPing
from submissions.tasks import ping
from tests.waiting import wait_for
from tests.workers import start_worker, wait_until_registered

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker():
    w = start_worker()
    yield w
    w.stop()


def test_real_worker_runs_a_task_and_reports_its_heartbeat_in_healthz(worker):
    wait_until_registered(worker)
    marker = uuid.uuid4().hex
    ping.apply_async(kwargs={"marker": marker}, queue=worker.queue)

    seen = wait_for(lambda: WorkerPing.objects.filter(marker=marker).first(), timeout=60, what="the ping task")
    assert seen.hostname.startswith(worker.nodename.split("@")[0])

    registered = Worker.objects.get(hostname=seen.hostname)
    first_beat = registered.last_heartbeat
    # Heartbeats keep coming (interval 1 s in this test): the row's time moves on.
    wait_for(
        lambda: Worker.objects.get(pk=registered.pk).last_heartbeat > first_beat,
        timeout=30,
        what="a heartbeat",
    )
    assert registered.facts["cpu_cores"] >= 1 and registered.facts["python"].startswith("3.11")

    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"]["ok"] and body["broker"]["ok"]
    assert seen.hostname in [w["hostname"] for w in body["workers"]["list"]]


def test_stopped_worker_leaves_healthz(worker):
    wait_until_registered(worker)
    hostname = Worker.objects.get(hostname__startswith=worker.nodename.split("@")[0] + "@").hostname
    worker.stop()
    assert Worker.objects.get(hostname=hostname).stopped_at is not None
    body = Client().get("/healthz").json()
    assert hostname not in [w["hostname"] for w in body["workers"]["list"]]
