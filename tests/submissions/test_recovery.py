"""No stuck check: the run heartbeat thread, the reaper (running and queued, both capped at
CHECK_MAX_ATTEMPTS), a redelivered message taking a dead attempt over, which errors are retried, and
engine output fitted to the tables before it is stored."""

import datetime as dt
import io

import pytest
from django.db import DataError, IntegrityError, OperationalError
from django.utils import timezone

from submissions import services
from submissions.models import CheckAttempt, CheckKind, CheckRun, Finding, Score, SubmissionVersion
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.submissions.factories import open_round, register, submitter_of, tar_gz_of
from tests.waiting import wait_for

State = CheckRun.State


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def setup(db, tmp_path):
    org = MembershipFactory(
        organisation=OrganisationFactory(name="Cisco", slug="cisco", results_folder="Cisco")
    ).organisation
    round_ = open_round()
    register(round_, org)
    user = submitter_of(org, "sub@cisco.test")
    pkg = tmp_path / "Cisco"
    (pkg / "systems").mkdir(parents=True)
    (pkg / "systems" / "s1.json").write_text('{"submitter": "Cisco"}')
    (pkg / "results" / "s1" / "retinanet").mkdir(parents=True)
    (pkg / "results" / "s1" / "retinanet" / "result_0.txt").write_text(':::MLLOG {"key": "x", "time_ms": 1}\n')
    version = services.submission_upload(
        round=round_, organisation=org, division="closed", category="available", archive=io.BytesIO(tar_gz_of(pkg)),
        original_name="pkg.tar.gz", actor=user, source="api",
    )  # fmt: skip
    return version, version.check_runs.get(), user


def _age_heartbeat(run, seconds=600):
    CheckRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - dt.timedelta(seconds=seconds))


def test_stale_run_heartbeat_is_requeued_even_when_its_node_is_alive(setup):
    from submissions.models import Worker

    _, run, _ = setup
    now = timezone.now()
    Worker.objects.create(hostname="alive@x", started_at=now, last_heartbeat=now)  # the node still beats
    services.run_claim(run_id=run.pk, attempt=1, worker="alive@x")
    _age_heartbeat(run)
    assert services.runs_reap()["requeued"] == 1
    run.refresh_from_db()
    assert (run.state, run.attempt, run.worker) == (State.QUEUED, 2, "")
    first = CheckAttempt.objects.get(run=run, number=1)
    assert first.outcome == "lost" and "no heartbeat" in first.message


def test_give_up_after_max_attempts_errors_with_a_finding_and_tells_uploader_and_staff(
    setup, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.CHECK_MAX_ATTEMPTS = 1
    version, run, user = setup
    UserFactory(email="ops@test.example", is_staff=True, is_superuser=True)
    UserFactory(email="datasets@test.example", is_staff=True)  # staff, but not a staff admin: not told
    services.run_claim(run_id=run.pk, attempt=1, worker="w@x")
    _age_heartbeat(run)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.runs_reap() == {"requeued": 0, "gave_up": 1, "announced": 0}
    run.refresh_from_db()
    assert run.state == State.ERRORED and "Gave up after 1 attempts" in run.message
    finding = Finding.objects.get(run=run, check_id="portal.gave_up")
    assert finding.severity == "error" and "no heartbeat" in finding.message
    version.refresh_from_db()
    assert version.verdict == SubmissionVersion.Verdict.ERRORED
    told = {m.to[0] for m in mailoutbox if "Check could not be run" in m.subject}
    assert told == {user.email, "ops@test.example"}


def test_queued_run_whose_message_is_lost_is_announced_again_as_a_new_attempt_then_given_up(
    setup, settings, monkeypatch
):
    settings.CHECK_MAX_ATTEMPTS = 2
    settings.CHECK_REQUEUE_AFTER = 60
    _, run, _ = setup
    monkeypatch.setattr(services.reaper, "_messages_waiting", lambda queue: set())  # the broker lost them
    later = timezone.now() + dt.timedelta(seconds=120)
    assert services.runs_reap(now=later)["announced"] == 1
    run.refresh_from_db()
    assert (run.state, run.attempt) == (State.QUEUED, 2)
    # The old message, should it still come, does nothing.
    assert services.check_run_execute(run_id=run.pk, attempt=1, worker="late@x") == "skipped"
    result = services.runs_reap(now=later + dt.timedelta(seconds=120))
    assert result == {"requeued": 0, "gave_up": 1, "announced": 0}
    run.refresh_from_db()
    assert run.state == State.ERRORED and "not picked up" in run.message


def test_queued_runs_whose_message_waits_in_the_queue_are_not_announced_again(setup, settings, monkeypatch):
    settings.CHECK_REQUEUE_AFTER = 60
    _, run, _ = setup
    monkeypatch.setattr(services.reaper, "_messages_waiting", lambda queue: {(run.pk, 1)})  # waiting in the queue
    assert services.runs_reap(now=timezone.now() + dt.timedelta(seconds=120))["announced"] == 0
    run.refresh_from_db()
    assert (run.state, run.attempt) == (State.QUEUED, 1)


def test_redelivered_message_takes_over_an_attempt_whose_heartbeat_is_stale(setup):
    _, run, _ = setup
    services.run_claim(run_id=run.pk, attempt=1, worker="dead@x")
    # Heartbeat fresh and another node: the other process may still be running it.
    assert services.check_run_execute(run_id=run.pk, attempt=1, worker="other@y") == "skipped"
    _age_heartbeat(run)
    assert services.check_run_execute(run_id=run.pk, attempt=1, worker="other@y") == State.PASSED
    run.refresh_from_db()
    assert (run.state, run.attempt, run.worker) == (State.PASSED, 2, "other@y")
    attempts = list(CheckAttempt.objects.filter(run=run).values_list("number", "outcome", "worker"))
    assert attempts == [(1, "lost", "dead@x"), (2, State.PASSED, "other@y")]


def test_message_back_on_the_node_that_ran_it_takes_over_at_once(setup):
    _, run, _ = setup
    services.run_claim(run_id=run.pk, attempt=1, worker="node@x")  # its pool child was killed
    assert services.check_run_execute(run_id=run.pk, attempt=1, worker="node@x") == State.PASSED
    run.refresh_from_db()
    assert (run.state, run.attempt) == (State.PASSED, 2)


def test_take_over_respects_the_attempt_cap(setup, settings):
    settings.CHECK_MAX_ATTEMPTS = 1
    _, run, _ = setup
    services.run_claim(run_id=run.pk, attempt=1, worker="dead@x")
    _age_heartbeat(run)
    assert services.check_run_execute(run_id=run.pk, attempt=1, worker="other@y") == "skipped"
    run.refresh_from_db()
    assert run.state == State.ERRORED and Finding.objects.filter(run=run, check_id="portal.gave_up").exists()


@pytest.mark.parametrize("error", [DataError("value too long"), IntegrityError("duplicate key"), KeyError("x")])
def test_non_connection_errors_end_the_run_errored_with_a_finding(setup, monkeypatch, error):
    _, run, _ = setup

    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(services.execution, "_execute_unpack", broken)
    assert services.check_run_execute(run_id=run.pk, attempt=1, worker="w@x") == State.ERRORED
    run.refresh_from_db()
    assert run.state == State.ERRORED and type(error).__name__ in run.message
    assert Finding.objects.get(run=run).check_id == "portal.check_error"


def test_connection_errors_are_retried_on_the_same_attempt(setup, monkeypatch):
    _, run, _ = setup

    def unreachable(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services.execution, "_execute_unpack", unreachable)
    with pytest.raises(services.TransientCheckError) as caught:
        services.check_run_execute(run_id=run.pk, attempt=1, worker="w@x")
    assert caught.value.attempt == 1
    run.refresh_from_db()
    assert (run.state, run.attempt) == (State.QUEUED, 1) and "transient" in run.message
    assert not Finding.objects.filter(run=run).exists()


def test_only_connection_level_errors_count_as_transient():
    from kombu.exceptions import OperationalError as BrokerError

    assert issubclass(OperationalError, services.TRANSIENT_ERRORS)
    assert issubclass(BrokerError, services.TRANSIENT_ERRORS)
    assert not issubclass(DataError, services.TRANSIENT_ERRORS)
    assert not issubclass(IntegrityError, services.TRANSIENT_ERRORS)


def test_whatever_the_engine_returns_is_fitted_to_the_tables(setup):
    version, run, _ = setup
    services.run_claim(run_id=run.pk, attempt=1, worker="w@x")
    findings = [
        {"severity": "fatal", "check": "c" * 300, "key": "k" * 500, "path": "p" * 900, "line": -4,
         "message": "NUL \x00 inside"},
        {"severity": "warning", "check": "ok", "line": 2**40, "message": 12345},
        "not even a dict",
    ]  # fmt: skip
    long_name = "S" * 300
    scores = [
        {"system": long_name, "benchmark": "b" * 150, "minutes": 1.5},
        {"system": long_name + "other", "benchmark": "b" * 150, "minutes": 2.5},  # the same once shortened
        {"system": "s", "benchmark": "nan", "minutes": float("nan")},
        {"system": "s", "benchmark": "text", "minutes": "fast"},
        {"system": "s", "benchmark": "weak", "minutes": 3.0, "scaling": "weak", "number_of_models": -1,
         "instance_scale": "many"},
    ]  # fmt: skip
    assert services.run_finish(run_id=run.pk, attempt=1, state="bogus", message="m\x00" * 4000, findings=findings,
                               scores=scores, verdicts={"engine_verdict": "x" * 50})  # fmt: skip
    run.refresh_from_db()
    assert run.state == State.ERRORED and len(run.message) <= 5000 and "\x00" not in run.message
    stored = list(Finding.objects.filter(run=run).order_by("id"))
    assert [f.severity for f in stored] == ["error", "warning", "error"]
    first = stored[0]
    assert len(first.check_id) <= 80 and len(first.key) <= 120 and len(first.path) <= 500
    assert first.line is None and "\x00" not in first.message
    assert stored[1].line is None and stored[1].message == "12345"
    got = {(s.system, s.benchmark, s.scaling): s for s in Score.objects.filter(version=version)}
    assert len(got) == 2 and all(len(system) <= 200 and len(bench) <= 100 for system, bench, _ in got)
    weak = got[("s", "weak", "weak")]
    assert weak.number_of_models is None and weak.instance_scale is None
    version.refresh_from_db()
    assert len(version.engine_verdict) <= 10


@pytest.mark.django_db(transaction=True)
def test_heartbeat_thread_beats_while_any_check_kind_works(setup, settings, monkeypatch):
    """The unpack check reports no progress: the thread alone keeps its heartbeat fresh."""
    settings.WORKER_HEARTBEAT_INTERVAL = 0.05
    _, run, _ = setup
    real_unpack = services.execution._execute_unpack
    seen: list[dt.datetime] = []

    def slow_unpack(version):
        start = CheckRun.objects.get(pk=run.pk).heartbeat_at

        def advanced():
            beat = CheckRun.objects.get(pk=run.pk).heartbeat_at
            return beat if beat > start else None

        seen.append(wait_for(advanced, timeout=10, interval=0.02, what="the run heartbeat to advance"))
        return real_unpack(version)

    monkeypatch.setattr(services.execution, "_execute_unpack", slow_unpack)
    assert services.check_run_execute(run_id=run.pk, attempt=1, worker="w@x") == State.PASSED
    assert seen and CheckRun.objects.get(pk=run.pk).kind == CheckKind.UNPACK


@pytest.mark.django_db(transaction=True)
def test_heartbeat_thread_notices_when_the_attempt_was_taken_over(setup):
    _, run, _ = setup
    services.run_claim(run_id=run.pk, attempt=1, worker="w@x")
    with services.RunHeartbeat(run_id=run.pk, attempt=1, interval=0.05) as beat:
        beat.check()  # still ours
        CheckRun.objects.filter(pk=run.pk).update(attempt=2)  # the reaper gave the run to someone else
        wait_for(beat.gone.is_set, timeout=10, what="the heartbeat thread to notice")
        with pytest.raises(services.CheckCancelled):
            beat.check()


@pytest.mark.django_db(transaction=True)
def test_the_reaper_reads_waiting_messages_from_the_broker(setup, settings):
    """The message of a queued run, published for real, is found in its queue (embedded broker or Redis)."""
    _, run, _ = setup  # its message went out when the upload committed
    queue = services.dispatch._queue_of(run)
    waiting = services.reaper._messages_waiting(queue)
    assert waiting is not None and (run.pk, 1) in waiting


def test_a_connection_error_while_claiming_retries_the_message(setup, monkeypatch):
    _, run, _ = setup

    def unreachable(**kwargs):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(services.execution, "run_claim", unreachable)
    with pytest.raises(services.TransientCheckError) as caught:
        services.check_run_execute(run_id=run.pk, attempt=1, worker="w@x")
    assert caught.value.attempt == 1
    monkeypatch.undo()
    assert services.check_run_execute(run_id=run.pk, attempt=1, worker="w@x") == State.PASSED


def test_a_delivered_retry_waiting_for_its_countdown_counts_as_in_flight(settings):
    """A retry's message sits, delivered, in a worker until its ETA: the reaper must not take it for
    lost; a delivery whose worker died long ago (old delivery, no ETA) is not in flight."""
    import json
    import time
    import uuid

    import redis
    from kombu.transport.redis import Channel

    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("needs the Redis broker (REDIS_URL)")
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    queue = f"test-{uuid.uuid4().hex[:8]}"
    future = (timezone.now() + dt.timedelta(seconds=30)).isoformat()

    def message(run_id: int, eta: str | None) -> str:
        body = json.dumps([[], {"run_id": run_id, "attempt": 1}, {}])
        envelope = {"body": body, "headers": {"task": "submissions.check_run_execute", "eta": eta}, "properties": {}}
        return json.dumps([envelope, "", queue])

    tags = {f"{queue}-retry": message(91, future), f"{queue}-dead": message(92, None)}
    long_ago = time.time() - settings.WORKER_STALE_AFTER - 60
    try:
        for tag, value in tags.items():
            client.hset(Channel.unacked_key, tag, value)
            client.zadd(Channel.unacked_index_key, {tag: long_ago})
        waiting = services.reaper._messages_waiting(queue)
        assert (91, 1) in waiting and (92, 1) not in waiting
    finally:
        for tag in tags:
            client.hdel(Channel.unacked_key, tag)
            client.zrem(Channel.unacked_index_key, tag)


# ---------------------------------------------------------------- the task: transient errors retried in place


def _task_without_waiting(monkeypatch) -> list[float]:
    """The task's backoff waits, recorded instead of waited; no retry may go back through the broker."""
    from submissions import tasks

    waits: list[float] = []
    monkeypatch.setattr(tasks.time, "sleep", waits.append)

    def no_broker_retry(*args, **kwargs):
        raise AssertionError("a transient error must not be retried through the broker (an ETA message)")

    monkeypatch.setattr(tasks.check_run_execute, "retry", no_broker_retry)
    monkeypatch.setattr(tasks.check_run_execute, "apply_async", no_broker_retry)
    return waits


def test_the_task_retries_a_connection_error_in_place_on_the_same_attempt(setup, monkeypatch):
    from submissions import tasks

    _, run, _ = setup
    waits = _task_without_waiting(monkeypatch)
    real_unpack, failures = services.execution._execute_unpack, []

    def drops_once(version):
        if not failures:
            failures.append(1)
            raise OperationalError("terminating connection due to administrator command")
        return real_unpack(version)

    monkeypatch.setattr(services.execution, "_execute_unpack", drops_once)
    assert tasks.check_run_execute(run_id=run.pk, attempt=1) == State.PASSED
    run.refresh_from_db()
    assert (run.state, run.attempt) == (State.PASSED, 1)
    assert list(CheckAttempt.objects.filter(run=run).values_list("number", "outcome")) == [(1, State.PASSED)]
    assert waits == [tasks.TRANSIENT_BACKOFF[0]]


def test_the_task_gives_a_run_that_keeps_failing_to_the_reaper_after_its_retries(setup, settings, monkeypatch):
    from submissions import tasks

    settings.CHECK_REQUEUE_AFTER = 60
    _, run, _ = setup
    waits = _task_without_waiting(monkeypatch)

    def unreachable(version):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(services.execution, "_execute_unpack", unreachable)
    before = timezone.now()
    assert tasks.check_run_execute(run_id=run.pk, attempt=1) == "retries exhausted"
    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0]  # doubling, capped
    run.refresh_from_db()
    assert (run.state, run.attempt) == (State.QUEUED, 1) and "transient" in run.message
    # Queued again as of the last failure: the reaper announces it once CHECK_REQUEUE_AFTER has passed
    # with no message in its queue, not before.
    assert run.queued_at >= before
    monkeypatch.setattr(services.reaper, "_messages_waiting", lambda queue: set())
    assert services.runs_reap(now=run.queued_at + dt.timedelta(seconds=30))["announced"] == 0
    assert services.runs_reap(now=run.queued_at + dt.timedelta(seconds=61))["announced"] == 1


def test_the_task_does_not_retry_what_is_not_transient(setup, monkeypatch):
    from submissions import tasks

    _, run, _ = setup
    waits = _task_without_waiting(monkeypatch)

    def bug(version):
        raise DataError("value too long for type character varying(200)")

    monkeypatch.setattr(services.execution, "_execute_unpack", bug)
    assert tasks.check_run_execute(run_id=run.pk, attempt=1) == State.ERRORED
    assert waits == []


def test_a_message_on_its_way_to_a_worker_is_not_taken_for_lost(setup, settings, monkeypatch):
    """Popped from its queue but not yet recorded as delivered, a message is in neither for a moment:
    the reaper looks again before it announces the run."""
    settings.CHECK_REQUEUE_AFTER = 60
    _, run, _ = setup
    reads = iter([set(), {(run.pk, 1)}])  # missing at the first look, delivered at the second
    monkeypatch.setattr(services.reaper, "_messages_waiting", lambda queue: next(reads))
    monkeypatch.setattr(services.reaper.time, "sleep", lambda seconds: None)
    assert services.runs_reap(now=timezone.now() + dt.timedelta(seconds=120))["announced"] == 0
    run.refresh_from_db()
    assert (run.state, run.attempt) == (State.QUEUED, 1)
    # Missing at both looks: announced again as the next attempt.
    monkeypatch.setattr(services.reaper, "_messages_waiting", lambda queue: set())
    assert services.runs_reap(now=timezone.now() + dt.timedelta(seconds=120))["announced"] == 1
