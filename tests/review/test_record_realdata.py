"""The published record of real MLPerf Training rounds against the pinned official result summarizer
(`python -m mlperf_logging.result_summarizer <package> training <ruleset> --csv`), run here on a tmp
copy of each package (it writes files into what it reads).

System names, accelerators and their counts, nodes, framework, division and availability (frozen by
submissions/review/systems.py) and the scores (the compliance engine's, as the scores check stores
them) must equal the summarizer's, and the result IDs follow division, organisation, system."""

import csv
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.utils import timezone

from submissions import checks
from submissions import services as submission_services
from submissions.models import Score, Submission, SubmissionVersion
from submissions.review import services
from submissions.review.models import PublishedResult
from tests.conftest import MLPERF_DIR
from tests.factories import MembershipFactory, OrganisationFactory
from workinggroups.models import Round, RoundPhase, WorkingGroup

pytestmark = [pytest.mark.realdata, pytest.mark.slow]
ROUNDS = {"training_results_v5.1": ("5.1.0", "Training v5.1"), "training_results_v5.0": ("5.0.0", "Training v5.0")}
SPEC_COLUMNS = {
    "division",
    "availability",
    "submitter",
    "system",
    "number_of_nodes",
    "host_processor_model_name",
    "host_processors_count",
    "accelerator_model_name",
    "accelerators_count",
    "framework",
    "notes",
    "private_id",
    "details_url",
    "code_url",
}
FACTS = ["system_name", "accelerator", "accelerator_count", "nodes", "framework", "division", "availability"]


def _summarize(package: Path, ruleset: str) -> list[dict]:
    out = package.parent / f"{package.name}.csv"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "mlperf_logging.result_summarizer",
            str(package),
            "training",
            ruleset,
            "--csv",
            str(out),
        ],
        cwd=package.parent,
        capture_output=True,
        timeout=600,
        check=False,
    )
    if not out.exists():
        return []
    with out.open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module", params=list(ROUNDS))
def summarized(request, tmp_path_factory):
    """(folder name, ruleset, name, {(submitter folder, system): summarizer row})."""
    source = MLPERF_DIR / request.param
    if not source.is_dir():
        pytest.skip(f"real MLPerf data not present at {source}")
    ruleset, name = ROUNDS[request.param]
    copy = tmp_path_factory.mktemp("summarizer") / request.param
    shutil.copytree(source, copy)
    packages = sorted(p for p in copy.iterdir() if p.is_dir())
    with ThreadPoolExecutor(max_workers=2) as pool:
        outputs = list(pool.map(lambda p: (p.name, _summarize(p, ruleset)), packages))
    rows = {}
    for folder, items in outputs:
        for row in items:
            system = row["details_url"].rsplit("/systems/", 1)[-1].removesuffix(".json")
            rows[(folder, system)] = row
    assert rows, "the summarizer printed nothing"
    return request.param, ruleset, name, rows


def _publish(folder_name: str, ruleset: str, name: str) -> list[PublishedResult]:
    """The real packages as the portal holds them (frozen versions, engine scores), then published."""
    group = WorkingGroup.objects.get_or_create(
        slug="training", defaults={"name": "Training", "area": "benchmarks", "purpose": "MLPerf Training"}
    )[0]
    now = timezone.now()
    round = Round.objects.create(
        group=group,
        name=name,
        slug=folder_name.replace("_", "-").replace(".", "-"),
        suite="training",
        ruleset=ruleset,
        published=True,
    )
    RoundPhase.objects.create(
        round=round,
        kind="submission",
        starts_at=now - timezone.timedelta(days=60),
        ends_at=now - timezone.timedelta(days=30),
    )
    RoundPhase.objects.create(
        round=round,
        kind="publication",
        starts_at=now - timezone.timedelta(days=1),
        ends_at=now - timezone.timedelta(days=1),
    )
    for package in sorted(p for p in (MLPERF_DIR / folder_name).iterdir() if p.is_dir()):
        org = MembershipFactory(
            organisation=OrganisationFactory(name=package.name, slug=package.name.lower(), results_folder=package.name)
        ).organisation
        submission = Submission.objects.create(round=round, organisation=org, division="closed", category="available")
        version = SubmissionVersion.objects.create(
            submission=submission,
            number=1,
            sha256=f"{package.name:0<64}"[:64],
            size=1,
            original_name="p.tar.gz",
            uploaded_at=now,
            source="seed",
            in_time=True,
            state="unpacked",
            verdict="passed",
        )
        root = submission_services.version_folder(version) / "package" / package.name
        shutil.copytree(package, root)
        outcome = checks.scores_check(root, "training", ruleset)
        # As the scores check stores them (submissions.services.run_finish).
        Score.objects.bulk_create(Score(version=version, **s) for s in submission_services.scores_clean(outcome.scores))
    services.round_publish(round=round)
    return list(PublishedResult.objects.filter(round=round).prefetch_related("scores").order_by("position"))


def _expected_facts(row: dict) -> dict:
    return {
        "system_name": row["system"],
        "accelerator": row["accelerator_model_name"],
        "accelerator_count": int(row["accelerators_count"]),
        "nodes": int(row["number_of_nodes"]),
        "framework": row["framework"],
        "division": row["division"],
        "availability": row["availability"],
    }


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.django_db
def test_published_record_equals_the_summarizer(summarized):
    folder_name, ruleset, name, rows = summarized
    results = _publish(folder_name, ruleset, name)
    published = {(r.submitter_folder, r.system): r for r in results}
    assert set(published) == set(rows)
    for key, row in rows.items():
        result = published[key]
        assert {f: getattr(result, f) for f in FACTS} == _expected_facts(row), key
    # Result IDs: <round version>-NNNN in the order division, organisation, system.
    prefix = name.split("v")[-1]
    assert [r.result_id for r in results] == [f"{prefix}-{n:04d}" for n in range(1, len(results) + 1)]
    order = [(r.division, r.organisation_name.casefold(), r.system) for r in results]
    assert order == sorted(order)
    # Every score the summarizer prints, and no other.
    scores = {(r.submitter_folder, r.system, s.benchmark): s.score for r in results for s in r.scores.all()}
    benchmarks = [c for c in next(iter(rows.values())) if c not in SPEC_COLUMNS]
    expected = {
        (folder, system, benchmark): float(row[benchmark])
        for (folder, system), row in rows.items()
        for benchmark in benchmarks
        if row.get(benchmark)
    }
    assert set(scores) == set(expected)
    differing = {k: (scores[k], v) for k, v in expected.items() if scores[k] != pytest.approx(v, rel=1e-9)}
    assert not differing, f"{len(differing)} of {len(expected)} scores differ: {sorted(differing.items())[:5]}"
