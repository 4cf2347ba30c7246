"""The demo publishes Inference v5.1 from the shared subset of the real round: the submitter folders
of the demo's organisations are uploaded, checked as a worker checks them, and published by the beat
(the round's publication moment is past), so that the explorer shows them by model and scenario.
Where the folder is absent, the demo says so and goes on."""

import shutil

import pytest
from django.utils import timezone

from consortium.members.demo import seed_members
from submissions import services
from submissions.demo import seed_submissions
from submissions.models import CheckRun, Submission
from submissions.review import services as review_services
from submissions.review.models import PublishedScore
from tests.conftest import MLPERF_DIR
from workinggroups.demo import seed_workinggroups
from workinggroups.models import Round

pytestmark = pytest.mark.django_db
SHARED_DEMO = MLPERF_DIR.parent / "demo"
# two small submitters of the shared subset that pass: Lenovo (open) and Red Hat (closed, folder RedHat)
SUBSET = [("open", "Lenovo"), ("closed", "RedHat")]


def _seed(log) -> None:
    today = timezone.localdate()
    seed_members(today=today, log=lambda *_: None)
    seed_workinggroups(today=today, log=lambda *_: None)
    seed_submissions(today=today, log=log)


def _drain() -> None:
    for _ in range(30):
        queued = list(CheckRun.objects.filter(state=CheckRun.State.QUEUED))
        if not queued:
            return
        for run in queued:
            services.check_run_execute(run_id=run.pk, attempt=run.attempt, worker="demo@test")
    raise AssertionError("checks still queued")


def test_demo_says_so_when_the_inference_subset_is_absent(settings, tmp_path):
    settings.SHARED_DIR = tmp_path / "nothing-here"
    lines: list[str] = []
    _seed(lines.append)
    assert "  no real inference submissions: round Inference v5.1 or ../shared/mlperf is missing" in lines
    assert Round.objects.get(slug="inference-v5-1").ruleset == "5.1"
    assert not Submission.objects.exists()


@pytest.mark.realdata
def test_demo_publishes_inference_v5_1_from_the_shared_subset(settings, tmp_path, client):
    for division, submitter in SUBSET:
        if not (MLPERF_DIR / "inference_results_v5.1" / division / submitter).is_dir():
            pytest.skip(f"{MLPERF_DIR / 'inference_results_v5.1'} is absent")
        shutil.copytree(
            MLPERF_DIR / "inference_results_v5.1" / division / submitter,
            tmp_path / "shared" / "mlperf" / "inference_results_v5.1" / division / submitter,
        )
    if SHARED_DEMO.is_dir():  # the shared rounds.csv, whose Inference v5.1 row names no ruleset
        shutil.copytree(SHARED_DEMO, tmp_path / "shared" / "demo")
    settings.SHARED_DIR = tmp_path / "shared"
    lines: list[str] = []
    _seed(lines.append)
    assert "  2 real MLPerf Inference v5.1 submitter folders queued for checking" in lines
    assert Round.objects.get(slug="inference-v5-1").ruleset == "5.1"
    _seed(lines.append)  # idempotent
    assert Submission.objects.filter(round__slug="inference-v5-1").count() == 2
    _drain()
    published = {p.round.slug: p for p in review_services.rounds_publish_due()}
    assert published["inference-v5-1"].result_count == 3  # Red Hat's two systems, Lenovo's one
    scores = PublishedScore.objects.filter(result__round__slug="inference-v5-1").select_related("result", "detail")
    by_result = {(s.result.organisation_name, s.result.division, s.benchmark): (s.score, s.units) for s in scores}
    assert by_result[("Lenovo", "open", "resnet50/SingleStream")] == (1.341022, "Latency (ms)")
    assert by_result[("Lenovo", "open", "resnet50/Offline")] == (757.865, "Samples/s")
    assert {units for _, units in by_result.values()} == {"Latency (ms)", "Samples/s", "Tokens/s"}
    assert all(s.result.result_id.startswith("inference-5.1-") and s.detail.accuracy for s in scores)
    page = client.get("/results/?suite=inference&benchmark=resnet50&scenario=Offline").content.decode()
    assert "757.865 Samples/s" in page
    _seed(lines.append)  # again after publication: nothing new
    assert Submission.objects.filter(round__slug="inference-v5-1").count() == 2
