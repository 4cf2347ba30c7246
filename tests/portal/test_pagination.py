"""Lists that grow come in pages; a page number past the end, or not a number, never errs."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from consortium.common.pagination import PER_PAGE
from consortium.licensing.access import access_decision, access_decisions
from consortium.licensing.models import Dataset
from consortium.portal.scale import ScaleCounts
from submissions.models import Submission

pytestmark = pytest.mark.django_db

COUNTS = ScaleCounts(organisations=4, people=400, rounds=4, versions=60, datasets=4)


def _client(email: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(email=email))
    return client


def test_group_members_come_in_pages_and_a_page_past_the_end_gives_the_last(scale_world):
    scale_world(COUNTS)
    client = _client("chair@example.org")
    first = client.get("/workinggroups/training/manage/members/")
    assert first.status_code == 200
    assert first.content.count(b"data-member=") == PER_PAGE
    assert b'rel="next"' in first.content
    past = client.get("/workinggroups/training/manage/members/?page=999")
    assert past.status_code == 200
    assert b"There is no page 999" in past.content
    assert b'rel="next"' not in past.content and b'rel="prev"' in past.content
    assert client.get("/workinggroups/training/manage/members/?page=abc").status_code == 200


def test_my_submissions_come_in_pages(scale_world):
    scale_world(ScaleCounts(organisations=30, people=60, rounds=3, versions=100, datasets=1))
    client = _client("submitter@example.org")
    assert Submission.objects.count() > PER_PAGE
    first = client.get("/submissions/")
    assert first.status_code == 200 and b'rel="next"' in first.content
    assert first.content.count(b"<tr data-submission=") == PER_PAGE
    past = client.get("/submissions/?page=1000")
    assert past.status_code == 200 and b"There is no page 1000" in past.content


def test_findings_api_comes_in_pages(scale_world):
    scale_world(COUNTS)
    client = _client("submitter@example.org")
    submission = Submission.objects.filter(organisation__slug="nvidia").first()
    url = f"/api/v1/submissions/{submission.pk}/findings"
    whole = client.get(url).json()
    assert whole["page"] == 1 and whole["pages"] == 1
    count = whole["count"]
    assert count >= 2
    one = client.get(url, {"page_size": 1, "page": 2}).json()
    assert (one["page"], one["pages"], one["count"]) == (2, count, count)
    listed = [f for p in one["packages"] for f in p["findings"]] + [
        f for p in one["packages"] for file in p["files"] for f in file["findings"]
    ]
    assert len(listed) == 1
    past = client.get(url, {"page_size": 1, "page": 10_000}).json()
    assert past["page"] == count
    assert client.get(url, {"page_size": 0}).status_code == 400


def test_rounds_api_comes_in_pages_with_the_total_and_the_next_page():
    response = Client().get("/api/v1/rounds", {"page_size": 1})
    assert response.status_code == 200 and response.json() == []
    assert response["X-Total-Count"] == "0"


def test_rounds_api_pages(scale_world):
    scale_world(COUNTS)
    response = Client().get("/api/v1/rounds", {"page_size": 2})
    total = int(response["X-Total-Count"])
    assert total > 2 and len(response.json()) == 2
    assert 'page=2&page_size=2>; rel="next"' in response["Link"]
    last = Client().get("/api/v1/rounds", {"page_size": 2, "page": 999})
    assert len(last.json()) == total - 2 * ((total - 1) // 2)
    assert "Link" not in last


def test_the_access_predicate_for_many_datasets_answers_as_for_each_alone(scale_world):
    """access_decisions (a fixed number of queries) gives the same verdicts as access_decision."""
    scale_world(COUNTS)
    datasets = list(Dataset.objects.select_related("agreement", "licence").order_by("pk"))
    for email in ["member@example.org", "submitter@example.org", "primary@example.org", "chair@example.org",
                  "licensing@example.org", "jo.example@lenovo.example"]:  # fmt: skip
        user = get_user_model().objects.get(email=email)
        batched = access_decisions(user, datasets)
        for dataset, decision in zip(datasets, batched, strict=True):
            alone = access_decision(user, dataset, at=decision.at)
            assert (decision.allowed, decision.codes, decision.notes) == (alone.allowed, alone.codes, alone.notes)
            assert (decision.grant and decision.grant.pk) == (alone.grant and alone.grant.pk)
            assert (decision.acceptance and decision.acceptance.pk) == (alone.acceptance and alone.acceptance.pk)
