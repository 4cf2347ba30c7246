"""The results explorer (/results/), its exports and GET /api/v1/results over the published record."""

import csv
import io
import json

import pytest
from django.test import Client

from submissions.review import services
from tests.conftest import ROLE_NAMES
from tests.review.conftest import make_review
from tests.review.factories import frozen_submission, new_org, review_round

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(roles):
    """Training v5.1 (Acme: sys1, sys2; Initech: box) and Training v5.0 (Acme: old), both published;
    a round in review whose submissions have no record."""
    review = make_review(roles, phase="published")
    older = review_round(roles.group, phase="published", slug="training-v5-0", name="Training v5.0")
    frozen_submission(older, roles.org, systems=("old",), minutes=80.0, nodes=4)
    services.round_publish(round=review.round)
    services.round_publish(round=older)
    pending = review_round(roles.group, phase="objection_filing", slug="training-v6-0", name="Training v6.0")
    frozen_submission(pending, roles.org, systems=("secret",))
    return review


def _ids(response) -> list[str]:
    text = response.content.decode()
    return [part.split("<", 1)[0] for part in text.split('/">')[1:] if part[:1].isdigit()]


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_explorer_is_public_and_shows_only_published_results(roles, record, role):
    response = roles.client(role).get("/results/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "4 results" in text and "5.0-0001" in text and "5.1-0003" in text
    assert "SECRET" not in text and "secret" not in text


@pytest.mark.parametrize(
    "query, expected",
    [
        ("round=training-v5-0", ["5.0-0001"]),
        ("organisation=Initech", ["5.1-0003"]),
        ("accelerator_count=16&round=training-v5-1", ["5.1-0001", "5.1-0002", "5.1-0003"]),
        ("nodes=4", ["5.0-0001"]),
        ("q=sys2", ["5.1-0002"]),
        ("benchmark=retinanet&division=closed&sort=-score", ["5.0-0001", "5.1-0002", "5.1-0001", "5.1-0003"]),
        ("sort=score", ["5.1-0003", "5.1-0001", "5.1-0002", "5.0-0001"]),
        ("organisation=Nobody", []),
    ],
)
def test_filters_and_sorting_live_in_the_url(roles, record, query, expected):
    response = Client().get(f"/results/?{query}")
    assert response.status_code == 200
    assert _ids(response) == expected
    if not expected:
        assert "No published results match this view." in response.content.decode()


def test_bad_parameters_get_a_message_not_an_error(roles, record):
    response = Client().get("/results/?nodes=many&sort=colour&page=99")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Nodes must be a whole number; &#x27;many&#x27; was ignored." in text
    assert "Unknown sort &#x27;colour&#x27;; sorted by result ID." in text
    assert "4 results" in text  # page 99 of 1: the last page


def test_htmx_gets_only_the_table(roles, record):
    response = Client().get("/results/?round=training-v5-0", headers={"HX-Request": "true"})
    text = response.content.decode()
    assert "<html" not in text and "5.0-0001" in text and "1 result." in text


def test_sort_links_toggle_and_keep_the_filters(roles, record):
    text = Client().get("/results/?round=training-v5-1&sort=score").content.decode()
    assert 'href="?round=training-v5-1&amp;sort=-score"' in text and 'aria-sort="ascending"' in text


def test_csv_and_json_exports_equal_the_view_across_pages(roles, record, settings):
    from submissions.review import explorer

    settings_page = explorer.PAGE_SIZE
    explorer.PAGE_SIZE = 2  # the view spans two pages; the exports hold all of it
    try:
        table = Client().get("/results/?sort=-score")
        assert "page 1 of 2" in table.content.decode()
    finally:
        explorer.PAGE_SIZE = settings_page
    rows = list(
        csv.DictReader(
            io.StringIO(b"".join(Client().get("/results/export.csv?sort=-score").streaming_content).decode())
        )
    )
    assert [r["result_id"] for r in rows] == ["5.0-0001", "5.1-0002", "5.1-0001", "5.1-0003"]
    assert rows[0]["round"] == "training-v5-0" and rows[0]["score"] == "80.0" and rows[0]["units"] == "minutes"
    body = json.loads(b"".join(Client().get("/results/export.json?sort=-score").streaming_content))
    assert [r["result_id"] for r in body["results"]] == [r["result_id"] for r in rows]
    assert body["results"][0]["version_sha256"] == rows[0]["version_sha256"]


def test_csv_export_is_formula_safe(roles):
    review = make_review(roles, phase="published")
    evil, _ = new_org("=HYPERLINK(1)", "evil", submitter_email="e@evil.test")
    frozen_submission(review.round, evil, systems=("x",))
    services.round_publish(round=review.round)
    rows = list(csv.reader(io.StringIO(b"".join(Client().get("/results/export.csv?q=x").streaming_content).decode())))
    assert rows[1][2] == "'=HYPERLINK(1)"


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_results_api_paginates_the_same_view(roles, record, role):
    client = roles.client(role)
    first = client.get("/api/v1/results?suite=training&benchmark=retinanet&page_size=3").json()
    assert (first["count"], first["page"], first["pages"]) == (4, 1, 2)
    assert [r["result_id"] for r in first["results"]] == ["5.0-0001", "5.1-0001", "5.1-0002"]
    last = client.get("/api/v1/results?suite=training&page_size=3&page=9").json()
    assert last["page"] == 2 and [r["result_id"] for r in last["results"]] == ["5.1-0003"]
    row = first["results"][1]
    assert row["round"] == "training-v5-1" and row["system_name"] == "Acme AI SYS1" and row["host_processor"] == ""
    assert client.get("/api/v1/results?round=nope").json()["results"] == []
    assert client.get("/api/v1/results?nodes=x").json()["messages"] == [
        "Nodes must be a whole number; 'x' was ignored."
    ]


def test_explorer_query_count_does_not_grow_with_the_record(roles, django_assert_max_num_queries):
    review = make_review(roles, phase="published")
    for n in range(6):
        org, _ = new_org(f"Org{n}", f"org{n}", submitter_email=f"s@org{n}.test")
        frozen_submission(review.round, org, systems=("a", "b", "c"))
    services.round_publish(round=review.round)
    with django_assert_max_num_queries(12):
        response = Client().get("/results/")
    assert "21 results" in response.content.decode()
