"""Inference rounds: ruleset 5.1 names the inference checker; an upload of one submitter folder,
with its division chosen on the form, is checked on the workers with findings by result folder."""

from __future__ import annotations

import io
import shutil

import pytest
from django.core.exceptions import ValidationError

from submissions import compliance as rulesets
from submissions import services
from submissions.models import CheckKind, CheckRun, Finding, SubmissionVersion
from tests.compliance.inference.builder import Submission
from tests.factories import MembershipFactory, OrganisationFactory
from tests.submissions.factories import open_round, register, submitter_of, tar_gz_of
from tests.workinggroups.factories import RoundFactory, WorkingGroupFactory

pytestmark = pytest.mark.django_db
State = CheckRun.State


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def org():
    return MembershipFactory(
        organisation=OrganisationFactory(name="Acme", slug="acme", results_folder="Acme")
    ).organisation


@pytest.fixture
def round_():
    r = open_round(slug="inference-v5-1", suite="inference")
    r.ruleset = "5.1"
    r.full_clean()
    r.save()
    return r


def _upload(round_, org, data: bytes, division: str = "closed"):
    register(round_, org)
    user = submitter_of(org, "sub@acme.test")
    version = services.submission_upload(
        round=round_, organisation=org, division=division, category="available",
        archive=io.BytesIO(data), original_name="acme.tar.gz", actor=user, source="api",
    )  # fmt: skip
    for _ in range(20):
        queued = list(CheckRun.objects.filter(version=version, state=State.QUEUED))
        if not queued:
            break
        for run in queued:
            services.check_run_execute(run_id=run.pk, attempt=run.attempt, worker="w1@test")
    version.refresh_from_db()
    return version


def test_inference_rulesets_are_the_checkers_and_name_the_models():
    assert rulesets.available_rulesets("inference") == ["5.1"]
    models = rulesets.allowed_benchmarks("inference", "5.1")
    assert {"llama2-70b-99", "retinanet", "dlrm-v2-99", "deepseek-r1", "whisper"} <= set(models)


def test_inference_round_takes_ruleset_5_1_or_none():
    group = WorkingGroupFactory()
    checked = RoundFactory.build(group=group, suite="inference", ruleset="5.1", benchmarks=[])
    checked.full_clean()
    assert "whisper" in checked.benchmarks
    RoundFactory.build(group=group, suite="inference", ruleset="", slug="x2", name="x2").full_clean()
    with pytest.raises(ValidationError, match=r"inference checker has no inference ruleset '6\.1\.0'"):
        RoundFactory.build(group=group, suite="inference", ruleset="6.1.0", slug="x3", name="x3").full_clean()


def test_passing_inference_package_passes_every_check(round_, org, tmp_path):
    sub = Submission(tmp_path, submitter="Acme")
    sub.result("whisper", "Offline", score=41927.4)
    version = _upload(round_, org, tar_gz_of(sub.root))
    runs = {r.kind: r for r in version.check_runs.all()}
    assert {k: r.state for k, r in runs.items()} == {
        CheckKind.UNPACK: State.PASSED,
        CheckKind.SYSTEMS: State.PASSED,
        CheckKind.RESULTS: State.PASSED,
        CheckKind.PACKAGE: State.PASSED,
        CheckKind.OFFICIAL: State.PASSED,
        CheckKind.SCORES: State.PASSED,
    }
    assert version.verdict == SubmissionVersion.Verdict.PASSED and version.engine_verdict == "pass"
    assert "results/sys8/whisper/Offline: 41927.4 Samples/s" in runs[CheckKind.SCORES].message


def test_failing_result_is_a_finding_by_result_folder_with_its_line(round_, org, tmp_path):
    sub = Submission(tmp_path, submitter="Acme")
    sub.result("whisper", "Offline")
    sub.result("rgat", "Offline", perf={"result_validity": "INVALID"})
    version = _upload(round_, org, tar_gz_of(sub.root))
    assert version.verdict == SubmissionVersion.Verdict.FAILED
    f = Finding.objects.get(run__version=version, check_id="inference.performance.validity")
    assert f.key == "results/sys8/rgat/Offline"
    assert f.path == "results/sys8/rgat/Offline/performance/run_1/mlperf_log_detail.txt"
    assert f.line and '"result_validity"' in f.excerpt


def test_the_division_chosen_on_the_form_decides_the_rules(round_, org, tmp_path):
    sub = Submission(tmp_path, submitter="Acme", division="open")
    sub.result("whisper", "Offline", accuracy_txt="Word Error Rate: 4.0%, accuracy=96.0%\n")
    assert _upload(round_, org, tar_gz_of(sub.root), division="open").verdict == SubmissionVersion.Verdict.PASSED
    shutil.rmtree(tmp_path / "media")


@pytest.mark.realdata
def test_real_inference_packages(round_, org, mlperf_dir, tmp_path):
    src = mlperf_dir / "inference_results_v5.1" / "closed" / "MangoBoost"
    copy = tmp_path / "Acme"
    shutil.copytree(src, copy)
    for system in (copy / "systems").glob("*.json"):  # the package is uploaded as Acme's
        system.write_text(system.read_text().replace('"MangoBoost"', '"Acme"'))
    version = _upload(round_, org, tar_gz_of(copy))
    assert version.verdict == SubmissionVersion.Verdict.PASSED, list(
        Finding.objects.filter(run__version=version, severity="error").values_list("message", flat=True)
    )


@pytest.mark.realdata
def test_demo_uploads_the_real_inference_submitters(mlperf_dir, settings):
    from submissions import demo

    settings.SHARED_DIR = mlperf_dir.parent
    round_ = open_round(slug=demo.INFERENCE_ROUND, suite="inference")
    round_.ruleset = "5.1"
    round_.save()
    lenovo = OrganisationFactory(name="Lenovo", slug="lenovo", results_folder="Lenovo")
    oracle = OrganisationFactory(name="Oracle", slug="oracle", results_folder="Oracle")
    lines: list[str] = []
    demo._seed_inference(lines.append)
    assert lines == ["  2 real MLPerf Inference v5.1 submitter folders queued for checking"]
    for version in SubmissionVersion.objects.all():
        for _ in range(20):
            queued = list(CheckRun.objects.filter(version=version, state=State.QUEUED))
            if not queued:
                break
            for run in queued:
                services.check_run_execute(run_id=run.pk, attempt=run.attempt, worker="w1@test")
    verdicts = {
        (v.submission.organisation, v.submission.division): v.verdict
        for v in SubmissionVersion.objects.select_related("submission__organisation")
    }
    assert verdicts == {
        (lenovo, "open"): SubmissionVersion.Verdict.PASSED,
        (oracle, "closed"): SubmissionVersion.Verdict.FAILED,  # rgat's detail logs are not in the copy
    }
    demo._seed_inference(lines.append)  # idempotent
    assert SubmissionVersion.objects.count() == 2
