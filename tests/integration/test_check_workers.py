"""Checks on real Celery worker processes: each kind on its pool's workers, a real package through
the whole pipeline with the official verdict, and a worker killed (SIGKILL) in the middle of a check
whose run then finishes exactly once on another worker."""

import io
import os
import shutil
import signal
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from submissions import services
from submissions.models import CheckAttempt, CheckKind, CheckRun, Finding, SubmissionVersion, Worker, WorkerPool
from tests.factories import MembershipFactory, OrganisationFactory
from tests.submissions.factories import open_round, register, submitter_of, tar_gz_of
from tests.waiting import wait_for
from tests.workers import start_worker, wait_until_registered

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
State = CheckRun.State


@pytest.fixture
def workers():
    started = []

    def start(queues, **kwargs):
        w = start_worker(queues=queues, **kwargs)
        started.append(w)
        wait_until_registered(w)
        return w

    yield start
    for w in started:
        w.stop()


@pytest.fixture
def setup():
    org = MembershipFactory(
        organisation=OrganisationFactory(name="Cisco", slug="cisco", results_folder="Cisco")
    ).organisation
    round_ = open_round()
    register(round_, org)
    return round_, org, submitter_of(org, "sub@cisco.test")


def _pools(*groups: list[str]) -> list[WorkerPool]:
    tag = uuid.uuid4().hex[:8]
    return [
        WorkerPool.objects.create(name=f"pool-{i}-{tag}", queue=f"pool-{i}-{tag}", check_kinds=kinds)
        for i, kinds in enumerate(groups)
    ]


def _upload(round_, org, user, data: bytes) -> SubmissionVersion:
    return services.submission_upload(
        round=round_, organisation=org, division="closed", category="available", archive=io.BytesIO(data),
        original_name="pkg.tar.gz", actor=user, source="api",
    )  # fmt: skip


def _synthetic_package(tmp_path) -> bytes:
    pkg = tmp_path / "Cisco"
    (pkg / "systems").mkdir(parents=True)
    (pkg / "systems" / "s1.json").write_text('{"submitter": "Cisco"}')
    bench = pkg / "results" / "s1" / "retinanet"
    bench.mkdir(parents=True)
    (bench / "result_0.txt").write_text(':::MLLOG {"key": "init_start", "value": null, "time_ms": 1}\n')
    return tar_gz_of(pkg)


def _finished(version: SubmissionVersion, timeout: float = 180) -> SubmissionVersion:
    return wait_for(
        lambda: SubmissionVersion.objects.filter(pk=version.pk, checks_finished_at__isnull=False).first(),
        timeout=timeout, what=f"the checks of version {version.pk}",
    )  # fmt: skip


def test_each_check_kind_runs_on_its_pool(workers, setup, tmp_path):
    round_, org, user = setup
    light, heavy = _pools(
        [CheckKind.UNPACK, CheckKind.SYSTEMS, CheckKind.SCORES],
        [CheckKind.RESULTS, CheckKind.PACKAGE, CheckKind.OFFICIAL],
    )
    w_light, w_heavy = workers([light.queue]), workers([heavy.queue])
    version = _finished(_upload(round_, org, user, _synthetic_package(tmp_path)))
    assert version.verdict == SubmissionVersion.Verdict.FAILED
    hosts = {
        pool.pk: set(Worker.objects.filter(pool=pool).values_list("hostname", flat=True)) for pool in (light, heavy)
    }
    assert all(hosts.values()), "both workers registered with their pools"
    runs = list(version.check_runs.all())
    assert {r.kind for r in runs} == set(CheckKind.values)
    for run in runs:
        pool = light if run.kind in light.check_kinds else heavy
        assert run.pool_id == pool.pk and run.worker in hosts[pool.pk], (run.kind, run.worker)
    assert w_light.process.poll() is None and w_heavy.process.poll() is None


@pytest.mark.realdata
def test_real_package_uploaded_through_the_api_gets_the_official_verdict(workers, setup, mlperf_dir, tmp_path):
    round_, _, user = setup
    (pool,) = _pools(list(CheckKind.values))
    workers([pool.queue])
    copy = tmp_path / "Cisco"
    shutil.copytree(mlperf_dir / "training_results_v5.1" / "Cisco", copy)
    _, token = services.api_token_create(user=user, name="ci")
    archive = io.BytesIO(tar_gz_of(copy))
    archive.name = "Cisco.tar.gz"
    response = Client().post(
        f"/api/v1/rounds/{round_.slug}/submissions",
        {"archive": archive, "division": "closed", "category": "available"},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 201, response.content
    version = _finished(SubmissionVersion.objects.get(pk=response.json()["version"]))
    # The shared data's README: the official package checker passes Cisco.
    assert version.official_verdict == "pass" and version.engine_verdict == "pass"
    assert version.verdict == SubmissionVersion.Verdict.PASSED and not version.disagreement
    results = version.check_runs.get(kind=CheckKind.RESULTS)
    assert results.progress_total == results.progress_done == len(list(copy.glob("results/*/*/result_*.txt")))
    assert Finding.objects.filter(run=results, path__endswith="hpf_n8/dlrm_dcnv2/result_1.txt").exists()
    assert version.scores.count() >= 1


@pytest.mark.realdata
def test_killed_worker_check_finishes_exactly_once_elsewhere(workers, setup, mlperf_dir, tmp_path, settings):
    settings.WORKER_STALE_AFTER = 3
    round_, org, user = setup
    fast, slow = _pools(
        [CheckKind.UNPACK, CheckKind.SYSTEMS, CheckKind.RESULTS, CheckKind.PACKAGE, CheckKind.SCORES],
        [CheckKind.OFFICIAL],
    )
    workers([fast.queue])
    doomed = workers([slow.queue], name="doomed", env={"WORKER_STALE_AFTER": "3"})
    copy = tmp_path / "Cisco"
    shutil.copytree(mlperf_dir / "training_results_v5.1" / "Cisco", copy)
    version = _upload(round_, org, user, tar_gz_of(copy))
    official = wait_for(
        lambda: CheckRun.objects.filter(version=version, kind=CheckKind.OFFICIAL, state=State.RUNNING).first(),
        timeout=120, what="the official verifier to start",
    )  # fmt: skip
    # The machine dies: the worker and everything it started, without a chance to clean up.
    os.killpg(os.getpgid(doomed.process.pid), signal.SIGKILL)
    doomed.process.wait(timeout=10)
    assert CheckRun.objects.get(pk=official.pk).state == State.RUNNING

    rescuer = workers([slow.queue], name="rescuer")
    wait_for(lambda: services.runs_reap()["requeued"] == 1, timeout=30, what="the reaper to re-queue the run")
    finished = _finished(version)
    run = CheckRun.objects.get(pk=official.pk)
    assert run.state == State.PASSED and run.attempt == 2 and run.worker.startswith("rescuer")
    attempts = list(CheckAttempt.objects.filter(run=run).order_by("number").values_list("number", "outcome"))
    assert attempts == [(1, "lost"), (2, State.PASSED)]
    assert not Finding.objects.filter(run=run, attempt=1).exists()
    assert finished.verdict == SubmissionVersion.Verdict.PASSED and finished.official_verdict == "pass"
    assert rescuer.process.poll() is None
    assert timezone.now() >= finished.checks_finished_at
