"""Inference scores on the workers: the inference checker runs once per version (the result files
check computes its report; the other checks slice it), and each passing result folder's score is
stored as the official checker computes it, with its units, accuracy and (where measured) power."""

from __future__ import annotations

import io
import math
import shutil

import pytest

from submissions import checks, services
from submissions.compliance.inference import check_inference_submitter
from submissions.models import CheckKind, CheckRun, InferenceScore, Score, SubmissionVersion
from tests.compliance.inference.builder import Submission
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.submissions.factories import open_round, register, submitter_of, tar_gz_of

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
    r.save()
    return r


def _upload(round_, org, data: bytes, division: str = "closed") -> SubmissionVersion:
    register(round_, org)
    return services.submission_upload(
        round=round_, organisation=org, division=division, category="available", archive=io.BytesIO(data),
        original_name="acme.tar.gz", actor=submitter_of(org, "sub@acme.test"), source="api",
    )  # fmt: skip


def _drain(version) -> None:
    for _ in range(20):
        queued = list(CheckRun.objects.filter(version=version, state=State.QUEUED))
        if not queued:
            return
        for run in queued:
            services.check_run_execute(run_id=run.pk, attempt=run.attempt, worker="w1@test")


def _edge_package(tmp_path, *, single_stream_ns: float = 1e6, offline: float = 1000.0) -> Submission:
    sub = Submission(tmp_path / "pkg", submitter="Acme", system_type="edge")
    sub.result("resnet", "SingleStream", score=single_stream_ns)
    sub.result("resnet", "MultiStream", score=2e6)
    sub.result("resnet", "Offline", score=offline)
    return sub


def test_passing_results_store_the_checkers_scores_with_units_and_accuracy(round_, org, tmp_path):
    sub = _edge_package(tmp_path)
    official = {(r.scenario, r.score, r.units) for r in check_inference_submitter(sub.root, "5.1", "closed").results}
    version = _upload(round_, org, tar_gz_of(sub.root))
    _drain(version)
    version.refresh_from_db()
    assert version.verdict == SubmissionVersion.Verdict.PASSED
    stored = list(version.inference_scores.order_by("scenario"))
    assert {(s.scenario, s.value, s.units) for s in stored} == official
    assert [(s.scenario, s.value, s.units, s.lower_is_better) for s in stored] == [
        ("MultiStream", 2.0, "Latency (ms)", True),
        ("Offline", 1000.0, "Samples/s", False),
        ("SingleStream", 1.0, "Latency (ms)", True),
    ]
    first = stored[0]
    assert (first.system, first.model, first.mlperf_model, first.division) == ("sys8", "resnet", "resnet", "closed")
    assert (first.accuracy, first.accuracy_metric, first.accuracy_values) == (76.46, "acc", {"acc": "76.460"})
    assert first.power is None and first.power_units == ""
    assert (first.system_name, first.accelerator, first.accelerator_count) == ("x", "x", 8)  # systems/sys8.json
    assert not Score.objects.filter(version=version).exists(), "no time-to-train rows for an inference round"


def test_a_failing_result_has_no_score_and_the_others_keep_theirs(round_, org, tmp_path):
    sub = Submission(tmp_path / "pkg", submitter="Acme")
    sub.result("whisper", "Offline", score=41927.4)
    sub.result("rgat", "Offline", perf={"result_validity": "INVALID"})
    version = _upload(round_, org, tar_gz_of(sub.root))
    _drain(version)
    version.refresh_from_db()
    assert version.verdict == SubmissionVersion.Verdict.FAILED
    assert list(version.inference_scores.values_list("model", "scenario", "value", "units")) == [
        ("whisper", "Offline", 41927.4, "Samples/s")
    ]


def test_the_inference_checker_runs_once_per_version_and_again_on_a_rerun(round_, org, tmp_path, monkeypatch):
    calls: list[str] = []
    real = checks.inference_report

    def counting(root, ruleset, division):
        calls.append(division)
        return real(root, ruleset, division)

    monkeypatch.setattr(checks, "inference_report", counting)
    version = _upload(round_, org, tar_gz_of(_edge_package(tmp_path).root))
    _drain(version)
    assert set(version.check_runs.values_list("kind", flat=True)) == set(CheckKind.values), "every check ran"
    assert calls == ["closed"], "one inference report for the five checks that read it"
    staff = UserFactory(email="staff@test.example", is_staff=True, is_superuser=True)
    services.run_rerun(run=version.check_runs.get(kind=CheckKind.SCORES), actor=staff)
    _drain(version)
    assert calls == ["closed"], "a re-run of a slice reads the kept report"
    services.run_rerun(run=version.check_runs.get(kind=CheckKind.RESULTS), actor=staff)
    _drain(version)
    assert calls == ["closed", "closed"], "a re-run of the result files check checks again"
    version.refresh_from_db()
    assert version.verdict == SubmissionVersion.Verdict.PASSED and version.inference_scores.count() == 3


def test_a_kept_report_of_another_division_is_not_reused(round_, org, tmp_path, monkeypatch):
    version = _upload(round_, org, tar_gz_of(_edge_package(tmp_path).root))
    _drain(version)
    root = services.version_package_root(version)
    calls: list[str] = []
    real = checks.inference_report
    monkeypatch.setattr(checks, "inference_report", lambda r, rs, d: calls.append(d) or real(r, rs, d))
    services.version_inference_report(version, root, "5.1")
    assert calls == []
    type(version.submission).objects.filter(pk=version.submission_id).update(division="open")
    version = SubmissionVersion.objects.select_related("submission").get(pk=version.pk)
    services.version_inference_report(version, root, "5.1")
    assert calls == ["open"]


def test_a_rerun_of_the_scores_check_replaces_the_scores(round_, org, tmp_path):
    version = _upload(round_, org, tar_gz_of(_edge_package(tmp_path).root))
    _drain(version)
    run = version.check_runs.get(kind=CheckKind.SCORES)
    CheckRun.objects.filter(pk=run.pk).update(state=State.RUNNING, attempt=2)
    only_offline = [s for s in checks.inference_scores(_report(version)["results"]) if s["scenario"] == "Offline"]
    assert services.run_finish(run_id=run.pk, attempt=2, state=State.PASSED, scores=only_offline)
    assert list(version.inference_scores.values_list("scenario", flat=True)) == ["Offline"]


def _report(version) -> dict:
    return services.version_inference_report(version, services.version_package_root(version), "5.1")


def test_inference_scores_are_read_from_the_report_with_power_where_measured():
    result = {
        "path": "closed/Acme/results/sys8/resnet/Offline", "division": "closed", "submitter": "Acme",
        "system": "sys8", "model": "resnet50", "mlperf_model": "resnet", "scenario": "Offline", "verdict": "pass",
        "score": 1000.5, "units": "Samples/s", "accuracy": {"acc": "76.1", "extra": "1"},
        "power": {"metric": 412.5, "units": "Watts", "efficiency": 2.4}, "findings": [],
    }  # fmt: skip
    failing = {**result, "scenario": "Server", "verdict": "fail", "score": None, "units": None}
    systems = {"sys8": {"system_name": "Acme 8", "accelerator": "X1", "accelerator_count": 8, "other": "left out"}}
    [score] = checks.inference_scores([result, failing], systems)
    assert score == {
        "system": "sys8", "model": "resnet50", "mlperf_model": "resnet", "scenario": "Offline", "division": "closed",
        "value": 1000.5, "units": "Samples/s", "accuracy": 76.1, "accuracy_metric": "acc",
        "accuracy_values": {"acc": "76.1", "extra": "1"}, "power": 412.5, "power_units": "Watts",
        "system_name": "Acme 8", "accelerator": "X1", "accelerator_count": 8,
    }  # fmt: skip
    assert "system_name" not in checks.inference_scores([result])[0], "no description: no system columns"


def test_system_columns_of_a_missing_or_malformed_description_are_blank(tmp_path):
    blank = {"system_name": "", "accelerator": "", "accelerator_count": None}
    assert checks.inference_system_columns(tmp_path / "none.json") == blank
    (tmp_path / "bad.json").write_bytes(b"\xff{not json")
    assert checks.inference_system_columns(tmp_path / "bad.json") == blank
    (tmp_path / "odd.json").write_text('{"system_name": "S", "accelerators_per_node": "many", "number_of_nodes": 2}')
    assert checks.inference_system_columns(tmp_path / "odd.json") == {**blank, "system_name": "S"}


def test_inference_scores_are_fitted_to_the_table_whatever_they_hold():
    good = {
        "system": "s" * 500, "model": "resnet", "scenario": "Offline", "division": "closed", "value": 3,
        "units": "Samples/s", "accuracy": math.nan, "accuracy_values": {"acc": "1" * 100}, "power": "12",
    }  # fmt: skip
    cleaned = services.inference_scores_clean(
        [good, {**good}, {"scenario": "Offline", "value": math.inf}, {"value": 1.0}, "junk", {**good, "value": True}]
    )
    assert len(cleaned) == 1, "one per result; no infinite, boolean or scenario-less value"
    [c] = cleaned
    assert len(c["system"]) == 200 and c["value"] == 3.0 and c["accuracy"] is None and c["power"] is None
    assert c["accuracy_values"] == {"acc": "1" * 40} and c["mlperf_model"] == ""
    assert services.inference_scores_clean("not a list") == []


@pytest.mark.realdata
def test_real_packages_store_the_official_checkers_scores(round_, org, mlperf_dir, tmp_path):
    """MangoBoost's closed v5.1 folder, uploaded as Acme's: every stored score equals the official
    checker's recorded one (inference_results_v5.1.official.tsv)."""
    official = {}
    for line in (mlperf_dir / "inference_results_v5.1.official.tsv").read_text().splitlines():
        path, verdict, *rest = line.split("\t")
        if path.startswith("closed/MangoBoost/") and verdict == "pass":
            official[path.removeprefix("closed/MangoBoost/")] = (float(rest[0]), rest[1])
    copy = tmp_path / "Acme"
    shutil.copytree(mlperf_dir / "inference_results_v5.1" / "closed" / "MangoBoost", copy)
    for system in (copy / "systems").glob("*.json"):
        system.write_text(system.read_text().replace('"MangoBoost"', '"Acme"'))
    version = _upload(round_, org, tar_gz_of(copy))
    _drain(version)
    stored = {f"results/{s.system}/{s.model}/{s.scenario}": (s.value, s.units) for s in InferenceScore.objects.all()}
    assert official and stored.keys() == official.keys()
    for path, (value, units) in official.items():
        assert stored[path][1] == units and stored[path][0] == pytest.approx(value, rel=1e-5), path
