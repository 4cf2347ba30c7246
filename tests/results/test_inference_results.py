"""An inference round end to end: packages checked on the workers, scores stored, the record frozen
by the beat at the publication moment, and the results shown by model and scenario with their
units, best first (highest throughput, lowest latency). Before that moment, no channel shows a
score: the round's page, the explorer, its exports and both results APIs."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest
from django.utils import timezone

from submissions import services
from submissions.models import CheckRun, InferenceScore, SubmissionVersion
from submissions.review import services as review_services
from submissions.review.models import PublishedScore
from tests.compliance.inference.builder import Submission
from tests.review.factories import new_org
from tests.submissions.factories import open_round, register, tar_gz_of

pytestmark = pytest.mark.django_db
SLUG = "inference-v5-1"


def _package(tmp_path, submitter: str, *, single_stream_ns: float, offline: float) -> bytes:
    sub = Submission(tmp_path / submitter, submitter=submitter, system_type="edge")
    sub.result("resnet", "SingleStream", score=single_stream_ns)
    sub.result("resnet", "MultiStream", score=2e6)
    sub.result("resnet", "Offline", score=offline)
    return tar_gz_of(sub.root)


def _failing_package(tmp_path, submitter: str) -> bytes:
    sub = Submission(tmp_path / submitter, submitter=submitter)
    sub.result("whisper", "Offline", score=41927.4)  # passes, but its package fails through rgat
    sub.result("rgat", "Offline", perf={"result_validity": "INVALID"})
    return tar_gz_of(sub.root)


def _upload(round_, org, user, data: bytes) -> SubmissionVersion:
    register(round_, org)
    version = services.submission_upload(
        round=round_, organisation=org, division="closed", category="available", archive=io.BytesIO(data),
        original_name=f"{org.slug}.tar.gz", actor=user, source="api",
    )  # fmt: skip
    for _ in range(20):
        queued = list(CheckRun.objects.filter(version=version, state=CheckRun.State.QUEUED))
        if not queued:
            break
        for run in queued:
            services.check_run_execute(run_id=run.pk, attempt=run.attempt, worker="w1@test")
    version.refresh_from_db()
    return version


@pytest.fixture
def checked(roles, tmp_path):
    """Three organisations' packages checked; the deadline and the publication are still ahead."""
    round_ = open_round(group=roles.group, slug=SLUG, suite="inference")
    type(round_).objects.filter(pk=round_.pk).update(name="Inference v5.1", ruleset="5.1")
    round_.refresh_from_db()
    acme, acme_user = new_org("Acme", "acme-inf", submitter_email="s@acme-inf.test")
    initech, initech_user = new_org("Initech", "initech", submitter_email="s@initech.test")
    hooli, hooli_user = new_org("Hooli", "hooli", submitter_email="s@hooli.test")
    versions = {
        "Acme": _upload(round_, acme, acme_user, _package(tmp_path, "Acme", single_stream_ns=1e6, offline=1000.0)),
        "Initech": _upload(
            round_, initech, initech_user, _package(tmp_path, "Initech", single_stream_ns=3e6, offline=2000.0)
        ),
        "Hooli": _upload(round_, hooli, hooli_user, _failing_package(tmp_path, "Hooli")),
    }
    V = SubmissionVersion.Verdict
    assert {k: v.verdict for k, v in versions.items()} == {"Acme": V.PASSED, "Initech": V.PASSED, "Hooli": V.FAILED}
    assert InferenceScore.objects.count() == 3 + 3 + 1  # Hooli's whisper passed and has its score
    return round_, versions, {"Acme": acme_user, "Initech": initech_user, "Hooli": hooli_user}


def _publish_now(round_) -> None:
    """The deadline and the publication moment pass; the beat freezes the record."""
    past = timezone.now() - dt.timedelta(days=1)
    round_.phases.filter(kind="submission").update(starts_at=past - dt.timedelta(days=40), ends_at=past)
    round_.phases.filter(kind="publication").update(starts_at=past, ends_at=past)
    published = review_services.rounds_publish_due()
    assert [p.round.slug for p in published] == [SLUG]


def _body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def test_unpublished_inference_scores_are_on_no_public_channel(checked, client):
    _, versions, users = checked
    secret = "2000"  # Initech's Offline samples/s
    page = _body(client.get(f"/rounds/{SLUG}/results/"))
    assert "under embargo" in page and secret not in page
    assert client.get(f"/api/v1/rounds/{SLUG}/results").status_code == 404
    assert client.get("/api/v1/results?suite=inference").json()["count"] == 0
    explorer = _body(client.get("/results/?suite=inference"))
    assert "No published result matches this view" in explorer and "Initech" not in explorer
    rows = list(csv.DictReader(io.StringIO(_body(client.get("/results/export.csv")))))
    assert rows == []
    exported = json.loads(_body(client.get("/results/export.json")))
    assert exported["results"] == []
    # another organisation's submitter, before the deadline: not Acme's scores, on page or API
    client.force_login(users["Initech"])
    acme = versions["Acme"].submission
    assert client.get(f"/submissions/{acme.pk}/").status_code == 404
    assert client.get(f"/api/v1/submissions/{acme.pk}/findings").status_code == 404
    # Acme itself sees its own scores with their units
    client.force_login(users["Acme"])
    own = _body(client.get(f"/submissions/{acme.pk}/"))
    assert "Latency (ms)" in own and "Samples/s" in own
    doc = client.get(f"/api/v1/submissions/{acme.pk}/findings").json()
    assert doc["rules"].startswith("MLPerf Inference submission checker rules 5.1")
    offline = [s for s in doc["packages"][0]["inference_scores"] if s["scenario"] == "Offline"]
    assert offline == [
        {"system": "sys8", "model": "resnet", "scenario": "Offline", "value": 1000.0, "units": "Samples/s",
         "accuracy": 76.46, "accuracy_metric": "acc", "power": None, "power_units": ""}
    ]  # fmt: skip


def test_review_assignments_count_inference_results(checked):
    round_, versions, _ = checked
    counts = review_services.round_result_counts(round_)
    by_name = {v.submission.organisation.name: counts[v.submission.organisation_id] for v in versions.values()}
    assert by_name == {"Acme": 3, "Initech": 3, "Hooli": 1}


def test_publication_freezes_inference_scores_with_units_and_accuracy(checked):
    round_, _, _ = checked
    _publish_now(round_)
    published = {
        (s.result.result_id, s.result.organisation_name, s.benchmark): (s.score, s.units)
        for s in PublishedScore.objects.filter(result__round=round_).select_related("result")
    }
    assert published == {
        ("inference-5.1-0001", "Acme", "resnet/MultiStream"): (2.0, "Latency (ms)"),
        ("inference-5.1-0001", "Acme", "resnet/Offline"): (1000.0, "Samples/s"),
        ("inference-5.1-0001", "Acme", "resnet/SingleStream"): (1.0, "Latency (ms)"),
        ("inference-5.1-0002", "Initech", "resnet/MultiStream"): (2.0, "Latency (ms)"),
        ("inference-5.1-0002", "Initech", "resnet/Offline"): (2000.0, "Samples/s"),
        ("inference-5.1-0002", "Initech", "resnet/SingleStream"): (3.0, "Latency (ms)"),
    }, "Hooli's package failed: none of its results is published"
    detail = PublishedScore.objects.get(result__result_id="inference-5.1-0002", benchmark="resnet/Offline").detail
    assert (detail.model, detail.scenario, detail.accuracy, detail.accuracy_metric) == (
        "resnet",
        "Offline",
        76.46,
        "acc",
    )
    result = PublishedScore.objects.get(pk=detail.pk).result
    assert (result.system_name, result.accelerator_count, result.division) == ("x", 8, "closed")


def test_power_is_published_where_it_was_measured(checked):
    round_, versions, _ = checked
    InferenceScore.objects.filter(version=versions["Acme"], scenario="Offline").update(power=412.5, power_units="Watts")
    _publish_now(round_)
    detail = PublishedScore.objects.get(result__organisation_name="Acme", benchmark="resnet/Offline").detail
    assert (detail.power, detail.power_units) == (412.5, "Watts")


def test_round_results_group_by_model_and_scenario_best_first(checked, client):
    round_, _, _ = checked
    _publish_now(round_)
    page = _body(client.get(f"/rounds/{SLUG}/results/"))
    sections = dict(re.findall(r'<h2 id="b-\d+">(.*?)</h2>(.*?)</section>', page, re.S))
    assert list(sections) == ["resnet, MultiStream", "resnet, Offline", "resnet, SingleStream"]
    offline, single = sections["resnet, Offline"], sections["resnet, SingleStream"]
    assert "Samples/s, highest first" in offline and '<th scope="col">Samples/s</th>' in offline
    assert offline.index("Initech") < offline.index("Acme"), "2000 samples/s before 1000"
    assert "Latency (ms), lowest first" in single
    assert single.index("Acme") < single.index("Initech"), "1 ms before 3 ms"
    assert "acc 76.46" in offline and "<td>8 × x</td>" in offline  # the builder's system description
    assert "Hooli" not in page and "41927" not in page


def test_explorer_sorts_inference_scores_best_first_and_exports_value_units_and_accuracy(checked, client):
    round_, _, _ = checked
    _publish_now(round_)

    def order(query: str) -> list[tuple[str, str]]:
        rows = client.get(f"/api/v1/results?suite=inference&{query}").json()["results"]
        return [(r["organisation"], r["benchmark"]) for r in rows]

    assert order("scenario=Offline&sort=score") == [("Initech", "resnet/Offline"), ("Acme", "resnet/Offline")]
    assert order("scenario=SingleStream&sort=score") == [
        ("Acme", "resnet/SingleStream"),
        ("Initech", "resnet/SingleStream"),
    ]
    assert order("sort=benchmark")[2:4] == [("Initech", "resnet/Offline"), ("Acme", "resnet/Offline")]
    [row] = client.get("/api/v1/results?organisation=Initech&scenario=Offline").json()["results"]
    assert (row["score"], row["units"], row["accuracy"], row["accuracy_metric"]) == (2000.0, "Samples/s", 76.46, "acc")
    assert (row["result_id"], row["scenario"], row["suite"]) == ("inference-5.1-0002", "Offline", "inference")
    exported = list(csv.DictReader(io.StringIO(_body(client.get("/results/export.csv?suite=inference")))))
    assert {
        (r["benchmark"], r["score"], r["units"], r["accuracy"]) for r in exported if r["organisation"] == "Acme"
    } == {
        ("resnet/MultiStream", "2.0", "Latency (ms)", "76.46"),
        ("resnet/Offline", "1000.0", "Samples/s", "76.46"),
        ("resnet/SingleStream", "1.0", "Latency (ms)", "76.46"),
    }
    as_json = json.loads(_body(client.get("/results/export.json?suite=inference&scenario=Offline")))["results"]
    assert {(r["organisation"], r["score"], r["units"]) for r in as_json} == {
        ("Acme", 1000.0, "Samples/s"),
        ("Initech", 2000.0, "Samples/s"),
    }
    record = client.get(f"/api/v1/rounds/{SLUG}/results").json()["results"]
    assert {(r["benchmark"], r["score"], r["units"]) for r in record if r["organisation"] == "Initech"} == {
        ("resnet/MultiStream", 2.0, "Latency (ms)"),
        ("resnet/Offline", 2000.0, "Samples/s"),
        ("resnet/SingleStream", 3.0, "Latency (ms)"),
    }


def test_charts_use_the_published_inference_data(checked, client):
    round_, _, _ = checked
    _publish_now(round_)
    page = _body(client.get("/results/charts/?suite=inference&benchmark=resnet"))
    accuracy = re.search(r'id="accuracy-data">.*?</table>', page, re.S).group(0)
    assert accuracy.count("<tr>") == 1 + 6 and "inference-5.1-0002" in accuracy and "76.46 acc" in accuracy
    trend = re.search(r'id="trend-data">.*?</table>', page, re.S).group(0)
    best = re.findall(r"<tr><td>(resnet/\w+)</td><td>Inference v5.1</td><td[^>]*>([\d.]+)</td><td>([^<]+)</td>", trend)
    assert best == [
        ("resnet/MultiStream", "2.000", "Latency (ms)"),
        ("resnet/Offline", "2000.000", "Samples/s"),  # the highest throughput
        ("resnet/SingleStream", "1.000", "Latency (ms)"),  # the lowest latency
    ]


def test_result_page_shows_model_scenario_units_and_accuracy(checked, client):
    round_, _, _ = checked
    _publish_now(round_)
    page = _body(client.get("/results/inference-5.1-0001/"))
    assert "<td>resnet</td><td>SingleStream</td>" in page and "Latency (ms)" in page and "acc 76.46" in page
    assert "Run-by-run times" not in page
