"""The explorer's pages, exports and API through the client: every role (published results are
public; unpublished never appear), filters in the URL, htmx, exports equal to the table, bad input."""

import csv
import io
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import ROLE_NAMES
from tests.results.factories import published_round, system
from tests.review.factories import new_org

pytestmark = pytest.mark.django_db

PAGES = [
    "/results/",
    "/results/?round=training-v5-1&benchmark=retinanet&sort=-score",
    "/results/charts/",
    "/results/charts/?derived=per_accelerator",
    "/results/compare/?ids=5.1-0001,5.0-0001",
    "/results/systems/Acme%20AI/dgx8/",
    "/results/5.1-0001/",
    "/results/export.csv",
    "/results/export.json",
    "/api/v1/results",
]


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_every_role_sees_the_published_results_and_never_the_unpublished(roles, rounds, role):
    client = roles.client(role)
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        body = _body(response)
        assert "Secret Prototype" not in body and "training-v6-0" not in body and "6.0-0001" not in body, url
    assert "Acme DGX 64" in _body(client.get("/results/"))


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_unpublished_round_cannot_be_reached_by_any_filter_or_id(roles, rounds, role):
    from submissions.review import services as review_services

    _, _, hidden = rounds
    review_services.round_publish(round=hidden)  # frozen early: its publication moment is still ahead
    client = roles.client(role)
    assert client.get("/results/6.0-0001/").status_code == 404
    body = _body(client.get("/results/?round=training-v6-0"))
    assert "No published result has round" in body and "Secret" not in body
    assert "Secret" not in _body(client.get("/results/export.csv?q=Secret"))
    assert json.loads(_body(client.get("/api/v1/results?q=Secret")))["results"] == []
    assert client.get("/results/systems/Acme%20AI/secret/").status_code == 404


def test_table_has_the_published_columns_and_links(client, rounds):
    body = _body(client.get("/results/?round=training-v5-1&system=x"))
    for heading in ("Result ID", "Organisation", "System", "Nodes", "Host processor", "Host processors",
                    "Accelerator", "Accelerators", "Framework", "Division", "Availability", "Score"):  # fmt: skip
        assert f">{heading}" in body
    assert 'href="/results/5.1-0001/"' in body
    assert re.search(r'href="/submissions/\d+/\?version=1" hx-boost="false" title="SHA-256 [0-9a-f]{64}"', body)
    assert "Example CPU 9000" in body and "minutes" in body
    assert "Per accelerator" not in body


def test_filters_live_in_the_url_and_the_form_keeps_them(client, rounds):
    body = _body(client.get("/results/?benchmark=retinanet&organisation=Initech"))
    assert '<option value="retinanet" selected>' in body and '<option value="Initech" selected>' in body
    assert "5.0-0002" in body and "5.1-0001" not in body
    assert "1 result in this view" in body
    assert 'href="/results/export.csv?benchmark=retinanet&amp;organisation=Initech"' in body


def test_htmx_request_gets_the_table_alone(client, rounds):
    response = client.get("/results/?benchmark=flux1", HTTP_HX_REQUEST="true")
    body = _body(response)
    assert "<html" not in body and '<form method="get" action="/results/" id="results-filters"' not in body
    assert "5.1-0003" in body and 'name="sort" value="result_id" form="results-filters"' in body


def test_sort_links_flip_direction(client, rounds):
    body = _body(client.get("/results/?sort=score"))
    assert 'aria-sort="ascending"' in body and 'href="?sort=-score"' in body
    ids = re.findall(r'<th scope="row"><a href="/results/([\d.]+-\d+)/"', body)
    body = _body(client.get("/results/?sort=-score"))
    assert re.findall(r'<th scope="row"><a href="/results/([\d.]+-\d+)/"', body) == ids[::-1] or len(set(ids)) < len(
        ids
    )


def test_pagination_and_a_page_past_the_end(client, rounds, monkeypatch):
    from submissions.results import selectors

    monkeypatch.setattr(selectors, "PER_PAGE", 3)
    first = _body(client.get("/results/"))
    assert "Page 1 of 3 (7 in all)" in first
    past = _body(client.get("/results/?page=99"))
    assert "There is no page 99; this is page 3 of 3." in past
    assert "Page 3 of 3" in past
    assert _body(client.get("/results/?page=abc")).count("Page 1 of 3") == 1


def test_bad_filters_give_messages_not_errors(client, rounds):
    response = client.get("/results/?nodes=lots&sort=';drop&accelerator=%00nope&q=" + "x" * 500)
    assert response.status_code == 200
    body = _body(response)
    assert "Nodes must be a whole number" in body and "cannot be sorted" in body
    assert "No published result has accelerator" in body
    assert "No published result matches this view." in body


def test_unknown_result_id_says_so(client, rounds):
    response = client.get("/results/9.9-9999/")
    assert response.status_code == 404
    assert "No published result 9.9-9999" in _body(response)


def _table_rows(body):
    return re.findall(r'<th scope="row"><a href="/results/([\d.]+-\d+)/"[^>]*>', body)


@pytest.mark.parametrize("query", ["", "round=training-v5-1", "benchmark=retinanet&sort=-accelerator_count",
                                   "q=DGX&derived=per_accelerator&sort=derived"])  # fmt: skip
def test_exports_hold_exactly_the_rows_of_the_table(client, rounds, query):
    table = _body(client.get(f"/results/?{query}"))
    ids = _table_rows(table)
    benchmarks = re.findall(r"</td>\s*<td>(\w+)(?: \(\w+\))?</td>\s*<td class=\"number\">", table)
    rows = list(csv.DictReader(io.StringIO(_body(client.get(f"/results/export.csv?{query}")))))
    assert [(r["result_id"], r["benchmark"]) for r in rows] == list(zip(ids, benchmarks, strict=True))
    document = json.loads(_body(client.get(f"/results/export.json?{query}")))
    assert [(r["result_id"], r["benchmark"]) for r in document["results"]] == list(zip(ids, benchmarks, strict=True))
    api = json.loads(_body(client.get(f"/api/v1/results?{query}")))
    assert [(r["result_id"], r["benchmark"]) for r in api["results"]] == list(zip(ids, benchmarks, strict=True))
    if "derived" in query:
        assert all(r["per_accelerator_note"] == "derived, not an official MLPerf result" for r in rows)
        assert document["note"] == "per_accelerator is derived, not an official MLPerf result"
        assert "derived, not an official MLPerf result" in table
    else:
        assert "per_accelerator" not in rows[0]


def test_csv_export_is_formula_safe_and_streamed(client, rounds):
    response = client.get("/results/export.csv?organisation=Hooli")
    assert response.streaming
    rows = list(csv.DictReader(io.StringIO(_body(response))))
    assert rows and all(r["framework"] == '\'=HYPERLINK("http://x")' for r in rows)
    assert response["Content-Type"].startswith("text/csv")


def test_a_huge_export_is_refused_with_a_message(client, rounds, settings):
    settings.RESULTS_EXPORT_MAX_ROWS = 3
    response = client.get("/results/export.csv")
    assert response.status_code == 413
    assert "exports hold at most 3" in response.content.decode()
    assert client.get("/results/export.json?organisation=Initech").status_code == 200


def test_api_pages_and_fields(client, rounds):
    data = client.get("/api/v1/results?page_size=2&page=2&suite=training").json()
    assert (data["page"], data["pages"], data["count"]) == (2, 4, 7)
    fields = {"result_id", "organisation", "submitter_folder", "system", "system_name", "division", "availability",
              "benchmark", "score", "units", "accelerator", "accelerator_count", "nodes", "framework",
              "version_sha256", "round"}  # fmt: skip
    assert fields <= set(data["results"][0])
    assert client.get("/api/v1/results?page=99&page_size=5").json()["page"] == 2
    unknown = client.get("/api/v1/results?benchmark=nope").json()
    assert unknown["results"] == [] and "nope" in unknown["problems"][0]
    same = client.get("/api/v1/results?round=training-v5-1&benchmark=retinanet").json()["results"]
    record = client.get("/api/v1/rounds/training-v5-1/results").json()["results"]
    by_id = {(r["result_id"], r["benchmark"]): r for r in record}
    for r in same:
        assert r["round"] == "training-v5-1"
        assert {k: v for k, v in r.items() if k in by_id[(r["result_id"], r["benchmark"])]} == by_id[
            (r["result_id"], r["benchmark"])
        ]


def test_result_page_shows_everything_the_record_holds(client, rounds):
    from submissions.review import services as review_services
    from submissions.review.models import PublishedResult

    result = PublishedResult.objects.get(result_id="5.1-0001")
    review_services.result_correct(actor=_staff(), result=result, field="nodes", new_value="9", reason="typo in JSON")
    body = _body(client.get("/results/5.1-0001/"))
    assert "Acme DGX 64" in body and "Example CPU 9000 × 16" in body
    assert result.version_sha256 in body
    assert body.count("<code>result_") == 5  # the five runs of retinanet
    assert body.count("<td>dropped</td>") == 5  # these minimal logs are not compliant (test_runs.py: real ones)
    assert "Check verdicts of the frozen version" in body and "Passed" in body
    assert "host_processors_per_node" in body  # the system description
    assert "typo in JSON" in body
    assert "MLPerf Training v5.1 result 5.1-0001" in body and "http://testserver/results/5.1-0001/" in body


def _staff():
    from tests.factories import UserFactory

    return UserFactory(email="fix@staff.test", is_staff=True, is_superuser=True)


def test_compare_page(client, rounds):
    body = _body(client.get("/results/compare/?ids=5.1-0001&ids=5.0-0002"))
    assert "Acme DGX 64" in body and "Initech Box 64" in body and "Host processor" in body
    body = _body(client.get("/results/compare/?system=Acme%20AI/dgx8&system=Initech/box64"))
    assert 'href="/results/5.1-0002/"' in body and 'href="/results/5.0-0002/"' in body
    few = _body(client.get("/results/compare/?ids=5.1-0001,nope"))
    assert "No published result nope" in few and "Choose two to four" in few
    many = _body(client.get("/results/compare/?ids=5.1-0001,5.1-0002,5.1-0003,5.0-0001,5.0-0002"))
    assert "At most 4 results are compared" in many and "5.0-0002" not in re.sub(r'value="[^"]*"', "", many)


def test_system_page_lists_its_results_across_rounds(client, rounds):
    body = _body(client.get("/results/systems/Acme%20AI/dgx8/"))
    assert "5.1-0002" in body and "5.0-0001" in body and "bert" in body
    missing = client.get("/results/systems/Nobody/none/")
    assert missing.status_code == 404 and "No published results for this system" in _body(missing)


def test_charts_page_has_svg_and_data_tables(client, rounds):
    body = _body(client.get("/results/charts/?benchmark=retinanet"))
    assert body.count("<svg") == 2 and 'role="img"' in body
    trend = re.search(r'<table class="chart-data" id="trend-data">.*?</table>', body, re.S).group(0)
    assert re.findall(r"<td>retinanet</td><td>(Training v5\.\d)</td><td class=\"number\">([\d.]+)</td>", trend) == [
        ("Training v5.0", "10.000"),
        ("Training v5.1", "7.000"),
    ]
    scaling = re.search(r'id="scaling-data">.*?</table>', body, re.S).group(0)
    assert scaling.count("<tr>") == 1 + 5  # header + five retinanet results
    assert "accuracy-against-performance chart appears" in body
    derived = _body(client.get("/results/charts/?benchmark=retinanet&derived=per_accelerator"))
    svg = re.search(r'<svg.*?id="chart-scaling".*?</svg>', derived, re.S).group(0)
    assert "derived, not an official MLPerf result" in svg


def test_inference_results_get_model_scenario_filters_and_the_accuracy_chart(roles, client, rounds):
    """An inference round's record: benchmark "<model>/<scenario>"; accuracy, where published, is
    charted against performance (set here as the record of an inference publication holds it)."""
    from submissions.results.models import PublishedScoreDetail
    from submissions.review.models import PublishedScore

    # "Inference v4.1": an "Inference v5.1" would take the IDs 5.1-NNNN that Training v5.1 holds
    round = published_round(roles.group, name="Inference v4.1", slug="inference-v4-1", suite="inference", packages=[
        (roles.org, [system("srv", "Acme Server", **{"resnet50/Offline": [1, 1, 1], "resnet50/Server": [2, 2, 2]})]),
    ])  # fmt: skip
    details = PublishedScoreDetail.objects.filter(score__result__round=round).order_by("score__benchmark")
    assert [(d.model, d.scenario, d.runs) for d in details] == [("resnet50", "Offline", []), ("resnet50", "Server", [])]
    for n, detail in enumerate(details):
        PublishedScoreDetail.objects.filter(pk=detail.pk).update(accuracy=76.0 + n, accuracy_metric="acc")
    assert PublishedScore.objects.filter(result__round=round).count() == 2
    body = _body(client.get("/results/?benchmark=resnet50&scenario=Server"))
    assert "resnet50/Server (Server)" in body and "resnet50/Offline" not in body
    charts_body = _body(client.get("/results/charts/?benchmark=resnet50"))
    assert 'id="chart-accuracy"' in charts_body
    data = re.search(r'id="accuracy-data">.*?</table>', charts_body, re.S).group(0)
    assert data.count("<tr>") == 1 + 2 and "76.0 acc" in data and "77.0 acc" in data


# the first request after a change of the published record (facets not cached yet)
PINNED = {"/results/": 14, "/results/charts/": 16, "/results/5.1-0001/": 8, "/api/v1/results": 14}


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        _body(response)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def test_query_counts_are_pinned_and_do_not_grow_with_the_rows(roles, rounds, client, django_assert_max_num_queries):
    urls = [
        *PINNED,
        "/results/export.csv",
        "/results/compare/?ids=5.1-0001,5.0-0001",
        "/results/systems/Acme%20AI/dgx8/",
    ]
    for url, limit in PINNED.items():
        with django_assert_max_num_queries(limit, info=url):
            _body(client.get(url))
    from django.core.cache import cache

    cache.clear()  # both sets start cold: the first page computes the facets, the others reuse them
    before = {url: _count(client, url) for url in urls}
    # double the rows: another round as large as both, with new organisations and systems
    more = [new_org(f"Org{n}", f"org{n}", submitter_email=f"s@org{n}.test")[0] for n in range(4)]
    published_round(roles.group, name="Training v5.2", slug="training-v5-2", packages=[
        (o, [system(f"s{n}", f"System {n}", per_node=4 * (n + 1), retinanet=[9, 10, 11, 12, 13], bert=[3, 4, 5, 6, 7])])
        for n, o in enumerate(more)
    ])  # fmt: skip
    cache.clear()
    after = {url: _count(client, url) for url in urls}
    assert after == before


def test_a_large_view_charts_the_best_per_accelerator_count(client, rounds, monkeypatch):
    from submissions.results import selectors

    monkeypatch.setattr(selectors, "CHART_POINTS", 3)
    body = _body(client.get("/results/charts/?benchmark=retinanet"))
    assert "more than 3: each point is the best score of a benchmark at one accelerator count" in body
    data = re.search(r'id="scaling-data">.*?</table>', body, re.S).group(0)
    # retinanet: 8 accelerators (32 and 27 minutes: best 27), 16 (17), 64 (10 and 7: best 7)
    found = re.findall(
        r'<td>best of (\d)</td><td>retinanet</td><td class="number">(\d+)</td><td class="number">([\d.]+)', data
    )
    assert found == [("2", "8", "27.000"), ("1", "16", "17.000"), ("2", "64", "7.000")]
