"""The review API: every endpoint for every role, bad input in the one error shape, nothing changed."""

import pytest
from django.test import Client

from submissions import services as submission_services
from submissions.review import services
from submissions.review.models import Objection, Withdrawal
from tests.conftest import ROLE_NAMES
from tests.review.conftest import make_review

pytestmark = pytest.mark.django_db
EVIDENCE = [{"path": "results/box/retinanet/result_0.txt", "line": 3}]


def _headers(user):
    if user is None:
        return {}
    _, raw = submission_services.api_token_create(user=user, name="tests")
    return {"Authorization": f"Bearer {raw}"}


def _call(user, method, url, body=None):
    client = Client()
    if method == "get":
        return client.get(url, headers=_headers(user))
    return client.post(url, body or {}, content_type="application/json", headers=_headers(user))


def _objection_body(review, **overrides):
    body = {
        "against": review.initech.pk,
        "summary": "Batch size",
        "details": "x",
        "rule": "Training rules 5.1",
        "fix_required": True,
        "evidence": EVIDENCE,
    }
    body.update(overrides)
    return body


SEERS = {"member", "submitter", "primary", "chair", "staff"}


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_round_submissions_for_every_role(roles, review, role):
    response = _call(roles.user(role), "get", f"/api/v1/rounds/{review.round.slug}/submissions")
    assert response.status_code == (401 if role == "anonymous" else 200)
    if role == "anonymous":
        assert response.json()["detail"].startswith("Authentication required")
        return
    got = {(s["organisation"], s["division"], s["category"], s["verdict"]) for s in response.json()}
    expected = {("acme", "closed", "available", "passed"), ("initech", "closed", "available", "passed")}
    assert got == (expected if role in SEERS else set())


def test_unknown_round_is_a_404_in_the_error_shape(roles):
    response = _call(roles.submitter, "get", "/api/v1/rounds/nope/submissions")
    assert response.status_code == 404 and response.json() == {
        "detail": "No round 'nope' (or it is not published).",
        "errors": {},
    }


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_filing_objections_for_every_role(roles, review, role):
    response = _call(
        roles.user(role), "post", f"/api/v1/rounds/{review.round.slug}/objections", _objection_body(review)
    )
    expected = {"anonymous": 401, "submitter": 201, "primary": 201, "dataset_admin": 404}.get(role, 403)
    assert response.status_code == expected, response.content
    if expected == 201:
        body = response.json()
        assert body["state"] == "filed" and body["against"] == review.initech.pk
        assert body["evidence"][0]["line"] == 3 and "global_batch_size" in body["evidence"][0]["excerpt"]
    else:
        assert "detail" in response.json()
        assert not Objection.objects.exists()


@pytest.mark.parametrize(
    "case, status, message",
    [
        ("own", 403, "against your own organisation"),
        ("bad_line", 400, "there is no line 42"),
        ("bad_file", 400, "has no file 'results/nope.txt'"),
        ("not_int", 400, "evidence.0.line"),
        ("missing_rule", 400, "rule"),
        ("unknown_submission", 404, "No submission 999999"),
    ],
)
def test_bad_objections_refused_with_a_clear_message(roles, review, case, status, message):
    body = _objection_body(review)
    if case == "own":
        body = _objection_body(
            review, against=review.acme.pk, evidence=[{"path": "results/sys1/retinanet/result_0.txt", "line": 1}]
        )
    elif case == "bad_line":
        body["evidence"] = [{"path": EVIDENCE[0]["path"], "line": 42}]
    elif case == "bad_file":
        body["evidence"] = [{"path": "results/nope.txt", "line": 1}]
    elif case == "not_int":
        body["evidence"] = [{"path": EVIDENCE[0]["path"], "line": "three"}]
    elif case == "missing_rule":
        body.pop("rule")
    elif case == "unknown_submission":
        body["against"] = 999999
    response = _call(roles.submitter, "post", f"/api/v1/rounds/{review.round.slug}/objections", body)
    assert response.status_code == status
    payload = response.json()
    assert set(payload) == {"detail", "errors"}
    assert message in payload["detail"] + " ".join(payload["errors"]) + " ".join(payload["errors"].values())
    assert not Objection.objects.exists()


def test_objection_from_an_outsider_and_outside_filing(roles):
    review = make_review(roles, phase="objection_review")
    response = _call(review.outsider, "post", f"/api/v1/rounds/{review.round.slug}/objections", _objection_body(review))
    assert response.status_code == 404  # Umbrella did not submit: it may not see the submission
    response = _call(roles.submitter, "post", f"/api/v1/rounds/{review.round.slug}/objections", _objection_body(review))
    assert response.status_code == 403 and "only during objection filing" in response.json()["detail"]
    assert not Objection.objects.exists()


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_listing_objections_for_every_role(roles, review, role):
    services.objection_file(
        actor=roles.submitter, submission=review.initech, summary="Batch size", rule="r", evidence=EVIDENCE
    )
    response = _call(roles.user(role), "get", f"/api/v1/rounds/{review.round.slug}/objections")
    if role == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    assert [o["summary"] for o in response.json()] == (["Batch size"] if role in SEERS else [])


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_withdraw_for_every_role(roles, review, role):
    response = _call(roles.user(role), "post", f"/api/v1/submissions/{review.acme.pk}/withdraw", {"reason": "Late."})
    expected = {
        "anonymous": 401,
        "submitter": 201,
        "primary": 201,
        "chair": 201,
        "staff": 201,
        "dataset_admin": 404,
    }.get(role, 403)
    assert response.status_code == expected, response.content
    assert Withdrawal.objects.exists() == (expected == 201)


def test_second_withdrawal_and_after_the_deadline_are_refused(roles):
    review = make_review(roles, phase="after_revision")
    response = _call(roles.submitter, "post", f"/api/v1/submissions/{review.acme.pk}/withdraw", {"reason": "x"})
    assert response.status_code == 403 and "can no longer be withdrawn" in response.json()["detail"]
    assert not Withdrawal.objects.exists()


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_results_before_publication_404_for_those_who_may_not_see(roles, review, role):
    response = _call(roles.user(role), "get", f"/api/v1/rounds/{review.round.slug}/results")
    if role in SEERS:
        assert response.status_code == 200 and response.json()["results"] == []
        assert response.json()["published_at"] is None
    else:
        assert response.status_code == 404 and "under embargo" in response.json()["detail"]


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_results_after_publication_for_everyone(roles, role):
    review = make_review(roles, phase="published")
    services.round_publish(round=review.round)
    response = _call(roles.user(role), "get", f"/api/v1/rounds/{review.round.slug}/results")
    assert response.status_code == 200
    body = response.json()
    assert body["round"] == review.round.slug and body["published_at"]
    first = body["results"][0]
    assert first == {
        "result_id": "5.1-0001",
        "organisation": "Acme AI",
        "submitter_folder": "Acme AI",
        "system": "sys1",
        "system_name": "Acme AI SYS1",
        "division": "closed",
        "availability": "Available on-premise",
        "benchmark": "retinanet",
        "score": 42.5,
        "units": "minutes",
        "accelerator": "Example GPU X1",
        "accelerator_count": 16,
        "nodes": 2,
        "framework": "PyTorch 2.5",
        "version_sha256": review.acme.versions.get().sha256,
    }
    assert [r["result_id"] for r in body["results"]] == ["5.1-0001", "5.1-0002", "5.1-0003"]


def test_openapi_describes_the_review_endpoints(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert set(paths["/api/v1/rounds/{slug}/objections"]) == {"get", "post"}
    assert set(paths["/api/v1/submissions/{submission_id}/withdraw"]) == {"post"}
    assert set(paths["/api/v1/rounds/{slug}/results"]) == {"get"}
    assert paths["/api/v1/rounds/{slug}/objections"]["post"]["security"] == [{"BearerToken": []}]
