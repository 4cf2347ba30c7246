"""The submission pipeline driven through its services: upload, unpack, each check kind, verdicts,
duplicate and out-of-order task delivery, cancellation, re-runs, the reaper."""

import datetime as dt
import io
import shutil

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from submissions import notices, services, storage
from submissions.models import CheckAttempt, CheckKind, CheckRun, Finding, Submission, SubmissionVersion
from tests.factories import MembershipFactory, OrganisationFactory
from tests.submissions.factories import open_round, register, submitter_of, tar_gz_of

pytestmark = pytest.mark.django_db
State = CheckRun.State


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def org():
    return MembershipFactory(
        organisation=OrganisationFactory(name="Cisco", slug="cisco", results_folder="Cisco")
    ).organisation


@pytest.fixture
def round_():
    return open_round()


@pytest.fixture
def submitter(org, round_):
    register(round_, org)
    return submitter_of(org, "sub@cisco.test")


def _upload(round_, org, user, data: bytes, name="pkg.tar.gz", **kw):
    return services.submission_upload(
        round=round_, organisation=org, division=kw.pop("division", "closed"), category="available",
        archive=io.BytesIO(data), original_name=name, actor=user, source="api", **kw,
    )  # fmt: skip


def _drain(version, worker="w1@test") -> None:
    """Runs every queued check of the version, in order, as a worker would."""
    for _ in range(20):
        queued = list(CheckRun.objects.filter(version=version, state=State.QUEUED))
        if not queued:
            return
        for run in queued:
            services.check_run_execute(run_id=run.pk, attempt=run.attempt, worker=worker)


def _bad_package(tmp_path) -> bytes:
    pkg = tmp_path / "Cisco"
    (pkg / "systems").mkdir(parents=True, exist_ok=True)
    (pkg / "systems" / "s1.json").write_text('{"submitter": "Cisco"}')
    bench = pkg / "results" / "s1" / "retinanet"
    bench.mkdir(parents=True, exist_ok=True)
    (bench / "result_0.txt").write_text(':::MLLOG {"key": "init_start", "value": null, "time_ms": 1}\nnot json\n')
    return tar_gz_of(pkg)


def test_upload_creates_immutable_version_and_queues_unpack(round_, org, submitter, tmp_path):
    version = _upload(round_, org, submitter, _bad_package(tmp_path))
    assert version.number == 1 and version.in_time and len(version.sha256) == 64
    assert storage.archive_path(version.sha256).is_file()
    assert list(version.check_runs.values_list("kind", "state")) == [(CheckKind.UNPACK, State.QUEUED)]
    again = _upload(round_, org, submitter, _bad_package(tmp_path))
    assert again.number == 2 and again.submission_id == version.submission_id


def test_bad_package_fails_with_findings_on_real_lines(round_, org, submitter, tmp_path):
    version = _upload(round_, org, submitter, _bad_package(tmp_path))
    _drain(version)
    version.refresh_from_db()
    kinds = dict(version.check_runs.values_list("kind", "state"))
    assert kinds[CheckKind.UNPACK] == State.PASSED
    assert {CheckKind.SYSTEMS, CheckKind.RESULTS, CheckKind.PACKAGE, CheckKind.OFFICIAL, CheckKind.SCORES} <= set(kinds)
    assert all(s in CheckRun.FINAL_STATES for s in kinds.values())
    assert version.verdict == SubmissionVersion.Verdict.FAILED and version.checks_finished_at
    line_findings = Finding.objects.filter(
        run__version=version, path__endswith="result_0.txt", line=1, check_id="log.malformed_record"
    )
    assert line_findings.exists(), list(
        Finding.objects.filter(run__version=version).values_list("run__kind", "check_id", "path", "line", "message")
    )
    assert line_findings.first().excerpt == ':::MLLOG {"key": "init_start", "value": null, "time_ms": 1}'


def test_malicious_archive_is_rejected_and_bytes_kept(round_, org, submitter, tmp_path):
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        info = tarfile.TarInfo("../../escape.txt")
        info.size = 3
        tf.addfile(info, io.BytesIO(b"bad"))
    version = _upload(round_, org, submitter, buf.getvalue())
    _drain(version)
    version.refresh_from_db()
    assert version.state == SubmissionVersion.State.REJECTED and version.verdict == SubmissionVersion.Verdict.FAILED
    finding = Finding.objects.get(run__version=version)
    assert finding.check_id == "unpack.path_traversal" and "points outside the archive" in finding.message
    assert storage.archive_path(version.sha256).read_bytes() == buf.getvalue()
    assert list(version.check_runs.values_list("kind", flat=True)) == [CheckKind.UNPACK]


def test_duplicate_and_late_messages_do_nothing(round_, org, submitter, tmp_path):
    version = _upload(round_, org, submitter, _bad_package(tmp_path))
    run = version.check_runs.get()
    assert services.check_run_execute(run_id=run.pk, attempt=1, worker="w1") == "passed"
    assert services.check_run_execute(run_id=run.pk, attempt=1, worker="w2") == "skipped"  # duplicate
    assert services.check_run_execute(run_id=run.pk, attempt=0, worker="w3") == "skipped"  # stale attempt
    run.refresh_from_db()
    assert run.state == State.PASSED and run.worker == "w1"
    # A late "finish" for an attempt that is no longer running cannot move the state backwards.
    assert not services.run_finish(run_id=run.pk, attempt=1, state=State.ERRORED, message="late")
    run.refresh_from_db()
    assert run.state == State.PASSED


def test_out_of_order_delivery_of_an_older_attempt_is_ignored(round_, org, submitter, tmp_path):
    version = _upload(round_, org, submitter, _bad_package(tmp_path))
    run = version.check_runs.get()
    services.check_run_execute(run_id=run.pk, attempt=1, worker="w1")
    staff = submitter.__class__.objects.create_superuser(email="boss@test.example", password="x" * 12)
    services.run_rerun(run=run, actor=staff)
    run.refresh_from_db()
    assert (run.state, run.attempt) == (State.QUEUED, 2)
    assert services.check_run_execute(run_id=run.pk, attempt=1, worker="late") == "skipped"
    assert services.check_run_execute(run_id=run.pk, attempt=2, worker="w2") == "passed"
    assert list(CheckAttempt.objects.filter(run=run).values_list("number", "worker")) == [(1, "w1"), (2, "w2")]


def test_cancel_queued_and_running(round_, org, submitter, tmp_path):
    version = _upload(round_, org, submitter, _bad_package(tmp_path))
    run = version.check_runs.get()
    services.run_cancel(run=run, actor=submitter)
    run.refresh_from_db()
    assert run.state == State.CANCELLED
    assert services.check_run_execute(run_id=run.pk, attempt=1, worker="w") == "skipped"
    version.refresh_from_db()
    assert version.verdict == SubmissionVersion.Verdict.ERRORED

    other = _upload(round_, org, submitter, _bad_package(tmp_path))
    run2 = other.check_runs.get()
    assert services.run_claim(run_id=run2.pk, attempt=1, worker="w")
    services.run_cancel(run=run2, actor=submitter)
    with pytest.raises(services.CheckCancelled):
        services.run_progress(run_id=run2.pk, attempt=1, done=1, total=2)


def test_reaper_requeues_runs_whose_heartbeat_stopped_then_gives_up(round_, org, submitter, tmp_path, settings):
    settings.CHECK_MAX_ATTEMPTS = 2
    version = _upload(round_, org, submitter, _bad_package(tmp_path))
    run = version.check_runs.get()
    long_ago = timezone.now() - dt.timedelta(minutes=10)
    services.run_claim(run_id=run.pk, attempt=1, worker="dead@x")
    CheckRun.objects.filter(pk=run.pk).update(heartbeat_at=long_ago)
    assert services.runs_reap()["requeued"] == 1
    run.refresh_from_db()
    assert (run.state, run.attempt) == (State.QUEUED, 2)
    services.run_claim(run_id=run.pk, attempt=2, worker="dead@x")
    CheckRun.objects.filter(pk=run.pk).update(heartbeat_at=long_ago)
    assert services.runs_reap()["gave_up"] == 1
    run.refresh_from_db()
    assert run.state == State.ERRORED and "Gave up after 2 attempts" in run.message


def test_reaper_leaves_runs_whose_heartbeat_is_fresh(round_, org, submitter, tmp_path):
    version = _upload(round_, org, submitter, _bad_package(tmp_path))
    run = version.check_runs.get()
    services.run_claim(run_id=run.pk, attempt=1, worker="alive@x")
    assert services.runs_reap()["requeued"] == 0


def test_upload_refused_for_non_submitter_and_unregistered(round_, org, submitter, tmp_path):
    from tests.factories import member_of

    plain = member_of(org, email="plain@cisco.test").user
    with pytest.raises(PermissionDenied, match="Only people with the submitter role"):
        _upload(round_, org, plain, _bad_package(tmp_path))
    other = MembershipFactory().organisation
    with pytest.raises(PermissionDenied, match="is not registered for"):
        _upload(round_, other, submitter_of(other, "s@other.test"), _bad_package(tmp_path))
    assert not SubmissionVersion.objects.exists()


def test_upload_after_deadline_needs_a_fix_window(round_, org, submitter, tmp_path):
    late = timezone.now() + dt.timedelta(days=8)
    with pytest.raises(ValidationError, match="closed at"):
        _upload(round_, org, submitter, _bad_package(tmp_path), now=late)
    first = _upload(round_, org, submitter, _bad_package(tmp_path))
    from tests.submissions.factories import make_chair

    chair = submitter_of(OrganisationFactory(), "chair@x.test")
    make_chair(round_.group, chair.person)
    with pytest.raises(PermissionDenied):
        services.fix_window_open(submission=first.submission, actor=submitter, closes_at=late, reason="x")
    services.fix_window_open(
        submission=first.submission, actor=chair, closes_at=late + dt.timedelta(days=1), reason="fix seeds"
    )
    fixed = _upload(round_, org, submitter, _bad_package(tmp_path), now=late)
    assert fixed.in_time and fixed.number == 2


def test_daily_upload_limit_and_portal_failures_do_not_count(round_, org, submitter, tmp_path, settings):
    settings.SUBMISSION_UPLOADS_PER_DAY = 2
    first = _upload(round_, org, submitter, _bad_package(tmp_path))
    _upload(round_, org, submitter, _bad_package(tmp_path))
    with pytest.raises(ValidationError, match="has used its 2 uploads for today"):
        _upload(round_, org, submitter, _bad_package(tmp_path))
    # The portal failed to unpack the first one (errored, not the user's fault): it does not count.
    run = first.check_runs.get()
    services.run_claim(run_id=run.pk, attempt=1, worker="w")
    services.run_finish(run_id=run.pk, attempt=1, state=State.ERRORED, message="disk full")
    assert _upload(round_, org, submitter, _bad_package(tmp_path)).number == 3


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("division", "secret", "Choose a division"), ("name", "pkg.rar", "Upload a .tar.gz")],
)
def test_bad_upload_fields(round_, org, submitter, tmp_path, field, value, message):
    kwargs = {"division": value} if field == "division" else {"name": value}
    with pytest.raises(ValidationError, match=message):
        _upload(round_, org, submitter, _bad_package(tmp_path), **kwargs)
    assert not Submission.objects.exists()


def test_round_without_ruleset_runs_generic_checks_only(org, tmp_path):
    round_ = open_round(slug="inference-v6-1", suite="inference")
    register(round_, org)
    user = submitter_of(org, "s2@cisco.test")
    version = _upload(round_, org, user, _bad_package(tmp_path))
    _drain(version)
    kinds = set(version.check_runs.values_list("kind", flat=True))
    assert kinds == {CheckKind.UNPACK, CheckKind.SYSTEMS}
    assert Finding.objects.filter(run__version=version, check_id="generic.no_ruleset").exists()
    version.refresh_from_db()
    assert version.verdict == SubmissionVersion.Verdict.PASSED


@pytest.mark.realdata
def test_real_package_passes_with_scores_and_agrees_with_official(mlperf_dir, round_, org, submitter, tmp_path):
    src = mlperf_dir / "training_results_v5.1" / "Cisco"
    copy = tmp_path / "Cisco"
    shutil.copytree(src, copy)
    version = _upload(round_, org, submitter, tar_gz_of(copy))
    _drain(version)
    version.refresh_from_db()
    assert version.verdict == SubmissionVersion.Verdict.PASSED, list(
        version.check_runs.values_list("kind", "state", "message")
    )
    assert version.official_verdict == "pass" and version.engine_verdict == "pass" and not version.disagreement
    assert version.scores.count() >= 1
    results = version.check_runs.get(kind=CheckKind.RESULTS)
    assert results.progress_total == results.progress_done > 0


def test_uploader_is_told_once_and_chairs_not_before_the_deadline(
    round_, org, submitter, tmp_path, mailoutbox, django_capture_on_commit_callbacks
):
    from tests.submissions.factories import make_chair

    chair = submitter_of(OrganisationFactory(), "chair@x.test")
    make_chair(round_.group, chair.person)
    version = _upload(round_, org, submitter, _bad_package(tmp_path))
    with django_capture_on_commit_callbacks(execute=True):
        _drain(version)
    version.refresh_from_db()
    subjects = {m.to[0]: m.subject for m in mailoutbox}
    assert "Checks finished" in subjects["sub@cisco.test"] and "failed" in subjects["sub@cisco.test"]
    # The official verifier failed this package, but the window is open: the chair of another
    # organisation may not know of it yet (they get the digest after the deadline, tests/submissions/
    # test_confidentiality_matrix.py).
    assert version.official_verdict in ("fail", "crash") and "chair@x.test" not in subjects
    count = len(mailoutbox)
    with django_capture_on_commit_callbacks(execute=True):
        assert notices.version_notify(version_id=version.pk) == 0  # a second run of the notice sends nothing
    assert len(mailoutbox) == count


@pytest.mark.realdata
def test_cancelling_a_running_official_verifier_stops_it(mlperf_dir, round_, org, submitter, tmp_path):
    copy = tmp_path / "Cisco"
    shutil.copytree(mlperf_dir / "training_results_v5.1" / "Cisco", copy)
    version = _upload(round_, org, submitter, tar_gz_of(copy))
    unpack = version.check_runs.get()
    services.check_run_execute(run_id=unpack.pk, attempt=1, worker="w")
    results = version.check_runs.get(kind=CheckKind.RESULTS)  # the engine first, the official verifier after
    services.check_run_execute(run_id=results.pk, attempt=1, worker="w")
    official = version.check_runs.get(kind=CheckKind.OFFICIAL)
    assert services.run_claim(run_id=official.pk, attempt=1, worker="w")
    services.run_cancel(run=official, actor=submitter)  # running: the worker is asked to stop
    root = services.version_package_root(version)
    with pytest.raises(services.CheckCancelled):
        services.execution._execute_kind(
            CheckKind.OFFICIAL, version, root, "training", "5.1.0", lambda d, t: None,
            lambda: services.run_heartbeat(run_id=official.pk, attempt=1),
        )  # fmt: skip


def test_engine_report_is_computed_once_and_sliced_and_the_official_verifier_follows(
    round_, org, submitter, tmp_path, monkeypatch
):
    from submissions import checks

    version = _upload(round_, org, submitter, _bad_package(tmp_path))
    services.check_run_execute(run_id=version.check_runs.get().pk, attempt=1, worker="w")
    assert set(version.check_runs.values_list("kind", flat=True)) == {CheckKind.UNPACK, CheckKind.RESULTS}
    computed = []
    real_report = checks.engine_report

    def counting(*args, **kwargs):
        computed.append(args[0])
        return real_report(*args, **kwargs)

    monkeypatch.setattr(checks, "engine_report", counting)
    services.check_run_execute(run_id=version.check_runs.get(kind=CheckKind.RESULTS).pk, attempt=1, worker="w")
    kinds = set(version.check_runs.values_list("kind", flat=True))
    assert kinds == set(CheckKind.values), "the slices and the official verifier follow the engine report"
    for kind in (CheckKind.SYSTEMS, CheckKind.PACKAGE, CheckKind.SCORES):
        run = version.check_runs.get(kind=kind)
        services.check_run_execute(run_id=run.pk, attempt=1, worker="w")
    assert len(computed) == 1, "one engine report per version"
    version.refresh_from_db()
    assert version.engine_verdict == "fail" and version.verdict == SubmissionVersion.Verdict.PENDING
    assert Finding.objects.filter(
        run__version=version, run__kind=CheckKind.RESULTS, path__endswith="result_0.txt"
    ).exists()


def test_strong_and_weak_scaling_scores_of_one_benchmark_are_both_kept(round_, org, submitter, tmp_path):
    version = _upload(round_, org, submitter, _bad_package(tmp_path))
    run = version.check_runs.get()
    services.run_claim(run_id=run.pk, attempt=1, worker="w")
    scores = [
        {"system": "s1", "benchmark": "cosmoflow", "minutes": 12.5},
        {"system": "s1", "benchmark": "cosmoflow", "minutes": 80.0, "scaling": "weak", "number_of_models": 8,
         "instance_scale": 64},
    ]  # fmt: skip
    assert services.run_finish(run_id=run.pk, attempt=1, state=State.PASSED, scores=scores)
    stored = sorted((s.to_dict() for s in version.scores.all()), key=lambda d: d["minutes"])
    assert stored == scores
