"""The demo: Training v5.0 and v5.1 from the real packages, checked and published as in `make run`
(the checks run here in process, as a worker runs them; then the beat's publication), so that the
explorer shows both rounds and a trend across them. Where the folder is absent, the demo says so."""

import shutil

import pytest
from django.utils import timezone

from consortium.members.demo import seed_members
from submissions import services
from submissions.demo import seed_submissions
from submissions.models import CheckRun, Submission
from submissions.results import selectors
from submissions.review import services as review_services
from tests.conftest import MLPERF_DIR
from workinggroups.demo import seed_workinggroups

pytestmark = pytest.mark.django_db

# the smallest submitters of each round with a benchmark in common (llama2_70b_lora)
SUBSET = [("training_results_v5.0", "AMD"), ("training_results_v5.1", "Krai")]
SUBSET_BY_ROUND = [("training-v5-0", SUBSET[0]), ("training-v5-1", SUBSET[1])]


def _seed(log):
    today = timezone.localdate()
    seed_members(today=today, log=lambda *_: None)
    seed_workinggroups(today=today, log=lambda *_: None)
    seed_submissions(today=today, log=log)


def test_demo_says_so_when_the_real_packages_are_absent(settings, tmp_path):
    settings.SHARED_DIR = tmp_path / "nothing-here"
    lines = []
    _seed(lines.append)
    assert any("no real Training v5.0 submissions" in line and "absent" in line for line in lines)
    assert any("no real Training v5.1 submissions" in line and "absent" in line for line in lines)
    assert not Submission.objects.exists()


def _drain() -> None:
    for _ in range(30):
        queued = list(CheckRun.objects.filter(state=CheckRun.State.QUEUED))
        if not queued:
            return
        for run in queued:
            services.check_run_execute(run_id=run.pk, attempt=run.attempt, worker="demo@test")
    raise AssertionError("checks still queued")


@pytest.mark.realdata
@pytest.mark.slow
def test_demo_publishes_both_real_rounds_and_the_explorer_shows_the_trend(settings, tmp_path, client):
    for folder, submitter in SUBSET:
        if not (MLPERF_DIR / folder / submitter).is_dir():
            pytest.skip(f"{MLPERF_DIR / folder} is absent")
        shutil.copytree(MLPERF_DIR / folder / submitter, tmp_path / "shared" / "mlperf" / folder / submitter)
    settings.SHARED_DIR = tmp_path / "shared"
    lines = []
    _seed(lines.append)
    assert "  1 real MLPerf Training v5.0 packages queued for checking (2 example worker pools)" in lines
    assert "  1 real MLPerf Training v5.1 packages queued for checking (2 example worker pools)" in lines
    _seed(lines.append)  # idempotent
    assert Submission.objects.count() == 2
    _drain()
    published = review_services.rounds_publish_due()
    counts = {p.round.slug: p.result_count for p in published}  # every past round is published, most empty
    assert counts["training-v5-0"] == 1 and counts["training-v5-1"] == 1
    assert sum(counts.values()) == 2
    view = selectors.view_from({"benchmark": "llama2_70b_lora"}, selectors.facets())
    rows = list(selectors.filtered(view))
    assert {(s.result.round.slug, s.result.organisation_name) for s in rows} == {
        ("training-v5-0", "AMD"),
        ("training-v5-1", "Krai"),
    }
    for s in rows:
        counted = [r["minutes"] for r in s.detail.runs if r["counted"]]
        assert len(s.detail.runs) == 10 and sum(counted) / len(counted) == pytest.approx(s.score)
        assert s.result.detail.host_processor and s.result.detail.description["submitter"]
    # the published values are the official result summarizer's (run on the same real packages)
    from submissions.compliance.oracle import official_scores

    for s in rows:
        folder = dict(SUBSET_BY_ROUND)[s.result.round.slug]
        ruleset = s.result.round.ruleset
        official = official_scores(str(tmp_path / "shared" / "mlperf" / folder[0] / folder[1]), "training", ruleset)
        assert s.score == pytest.approx(official[(s.result.system, s.benchmark)], rel=1e-9)
    best = selectors.best_by_round(selectors.filtered(view))
    assert [b["round"] for b in best] == ["Training v5.0", "Training v5.1"]
    body = client.get("/results/charts/?benchmark=llama2_70b_lora").content.decode()
    assert "Training v5.0" in body and "Training v5.1" in body and 'id="chart-trend"' in body
