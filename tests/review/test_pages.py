"""Every review and publication page for every role; bad input through the pages; query-count pins."""

import datetime as dt

import pytest
from django.utils import timezone

from submissions.review import services
from submissions.review.models import Objection, ReviewAssignment, Withdrawal
from tests.conftest import ROLE_NAMES
from tests.review.conftest import make_review
from tests.review.factories import frozen_submission, new_org

pytestmark = pytest.mark.django_db
LOGIN = "login"
EVIDENCE = [{"path": "results/box/retinanet/result_0.txt", "line": 3}]


def _expect(response, expected):
    if expected == LOGIN:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], response.status_code
    else:
        assert response.status_code == expected, (response.status_code, response.content[:300])


def _objection(roles, review):
    return services.objection_file(
        actor=roles.submitter,
        submission=review.initech,
        summary="Batch size",
        rule="Training rules 5.1",
        evidence=EVIDENCE,
    )


def _vote(roles, review, objection=None):
    return services.vote_open(
        actor=roles.chair,
        round=review.round,
        question="Support objection?",
        options=[("Support", "fix_required"), ("Reject", "rejected")],
        closes_at=timezone.now() + dt.timedelta(days=2),
        objection=objection,
    )


# Acme (member, submitter, primary) submitted; Globex's chair chairs the group; staff sees all.
REVIEW_SEERS = {"member", "submitter", "primary", "chair", "staff"}

EXPECTED = {
    "dashboard": {"anonymous": LOGIN, "chair": 200, "staff": 200, "default": 403},
    "objection_new": {"anonymous": LOGIN, "submitter": 200, "primary": 200, "dataset_admin": 404, "default": 403},
    "objection": {"anonymous": LOGIN, **{r: 200 for r in REVIEW_SEERS}, "default": 404},
    "inbox": {"anonymous": LOGIN, "member": 200, "submitter": 200, "primary": 200, "chair": 200, "default": 403},
    "ballot": {"anonymous": LOGIN, **{r: 200 for r in REVIEW_SEERS}, "default": 404},
    "withdraw": {
        "anonymous": LOGIN,
        "submitter": 200,
        "primary": 200,
        "chair": 200,
        "staff": 200,
        "dataset_admin": 404,
        "default": 403,
    },
    "published": {"default": 200},
}


@pytest.mark.parametrize("page", list(EXPECTED))
@pytest.mark.parametrize("role", ROLE_NAMES)
def test_review_pages_for_every_role(roles, review, role, page):
    objection = _objection(roles, review)
    vote = _vote(roles, review, objection)
    urls = {
        "dashboard": f"/rounds/{review.round.slug}/review/",
        "objection_new": f"/rounds/{review.round.slug}/objections/new/",
        "objection": f"/objections/{objection.pk}/",
        "inbox": "/objections/",
        "ballot": f"/votes/{vote.pk}/",
        "withdraw": f"/submissions/{review.acme.pk}/withdraw/",
        "published": f"/rounds/{review.round.slug}/published/",
    }
    expected = EXPECTED[page].get(role, EXPECTED[page]["default"])
    response = roles.client(role).get(urls[page])
    _expect(response, expected)
    if page == "published":
        assert "Not published yet" in response.content.decode()


def test_objection_page_shows_the_evidence_at_the_offending_line(roles, review):
    objection = _objection(roles, review)
    text = roles.client("chair").get(f"/objections/{objection.pk}/").content.decode()
    assert 'class="offending"' in text
    offending = text.split('class="offending"', 1)[1].split("</span>", 1)[0]
    assert "    3  " in offending and "global_batch_size" in offending
    assert "run_start" in text  # the lines around it


def test_inbox_lists_objections_against_the_organisation(roles, review):
    _objection(roles, review)
    assert "Batch size" in roles.client("submitter").get("/objections/").content.decode()  # filed by Acme
    initech = review.initech_submitter
    from django.test import Client

    client = Client()
    client.force_login(initech)
    page = client.get("/objections/").content.decode()
    assert "Objections against Initech" in page and "Batch size" in page


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_only_chairs_and_staff_assign_reviews(roles, review, role):
    response = roles.client(role).post(f"/rounds/{review.round.slug}/review/assign/")
    if role == "anonymous":
        _expect(response, LOGIN)
    assert ReviewAssignment.objects.exists() == (role in ("chair", "staff"))


def test_filing_through_the_page_with_a_bad_line_keeps_the_input_and_says_why(roles, review):
    response = roles.client("submitter").post(
        f"/rounds/{review.round.slug}/objections/new/",
        {
            "against": review.initech.pk,
            "summary": "Bad batch",
            "rule": "§9",
            "evidence": "results/box/retinanet/result_0.txt:77",
        },
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "has 5 lines in version 1; there is no line 77" in text and "Bad batch" in text
    assert not Objection.objects.exists()
    ok = roles.client("submitter").post(
        f"/rounds/{review.round.slug}/objections/new/",
        {
            "against": review.initech.pk,
            "summary": "Bad batch",
            "rule": "§9",
            "evidence": "results/box/retinanet/result_0.txt:3",
        },
    )
    assert ok.status_code == 302 and Objection.objects.count() == 1


def test_own_submission_is_not_offered_for_objection(roles, review):
    page = roles.client("submitter").get(f"/rounds/{review.round.slug}/objections/new/").content.decode()
    assert "Initech" in page and f'value="{review.acme.pk}"' not in page


def test_ballot_page_casts_once_and_shows_open_ballots(roles, review):
    vote = _vote(roles, review)
    support = vote.options.get(label="Support").key
    first = roles.client("submitter").post(f"/votes/{vote.pk}/", {"choice": support})
    assert first.status_code == 302
    again = roles.client("primary").post(f"/votes/{vote.pk}/", {"choice": support})
    assert again.status_code == 400 and "Acme AI already voted" in again.content.decode()
    page = roles.client("chair").get(f"/votes/{vote.pk}/").content.decode()
    assert "Acme AI" in page and "submitter@acme.test" in page  # open ballots


def test_withdraw_page_refuses_after_the_revision_deadline(roles):
    review = make_review(roles, phase="after_revision")
    response = roles.client("submitter").post(f"/submissions/{review.acme.pk}/withdraw/", {"reason": "late"})
    assert response.status_code == 400 and "has passed; results can no longer be withdrawn" in response.content.decode()
    assert not Withdrawal.objects.exists()


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_published_record_and_result_pages_are_public_after_publication(roles, role):
    review = make_review(roles, phase="published")
    services.round_publish(round=review.round)
    page = roles.client(role).get(f"/rounds/{review.round.slug}/published/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "5.1-0001" in text and "Acme AI SYS1" in text and "Example GPU X1" in text and "42.500" in text
    result = roles.client(role).get("/results/5.1-0003/")
    assert result.status_code == 200
    body = result.content.decode()
    assert "result 5.1-0003" in body and "Initech" in body and review.initech.versions.get().sha256 in body
    assert roles.client(role).get("/results/5.1-9999/").status_code == 404


def _busy_round(roles):
    review = make_review(roles)
    for n in range(4):
        org, user = new_org(f"Org{n}", f"org{n}", submitter_email=f"s@org{n}.test")
        frozen_submission(review.round, org, systems=("a", "b"))
        services.objection_file(
            actor=user, submission=review.initech, summary=f"Issue {n}", rule="§1", evidence=EVIDENCE
        )
    services.review_assignments_make(actor=roles.chair, round=review.round)
    for _ in range(3):
        _vote(roles, review)
    return review


def test_dashboard_query_count_is_pinned(roles, django_assert_max_num_queries):
    review = _busy_round(roles)
    client = roles.client("chair")
    with django_assert_max_num_queries(30):
        page = client.get(f"/rounds/{review.round.slug}/review/")
    assert page.status_code == 200 and page.content.decode().count("Issue ") == 4


def test_inbox_query_count_is_pinned(roles, django_assert_max_num_queries):
    review = _busy_round(roles)
    from django.test import Client

    client = Client()
    client.force_login(review.initech_submitter)
    with django_assert_max_num_queries(20):
        page = client.get("/objections/")
    assert page.content.decode().count("Issue ") == 4


def test_published_page_query_count_is_pinned(roles, django_assert_max_num_queries):
    review = make_review(roles, phase="published")
    for n in range(5):
        org, _ = new_org(f"Org{n}", f"org{n}", submitter_email=f"s@org{n}.test")
        frozen_submission(review.round, org, systems=("a", "b", "c"))
    services.round_publish(round=review.round)
    with django_assert_max_num_queries(12):
        page = roles.client("anonymous").get(f"/rounds/{review.round.slug}/published/")
    assert page.content.decode().count(">5.1-00") == 18  # 5 × 3 systems, Acme 2, Initech 1


def test_ballot_page_query_count_is_pinned(roles, django_assert_max_num_queries):
    review = _busy_round(roles)
    vote = _vote(roles, review)
    from consortium.members.models import Person

    for n in range(4):
        user = Person.objects.get(user__email=f"s@org{n}.test").user
        services.ballot_cast(actor=user, vote=vote, ranking=[vote.options.first().key])
    with django_assert_max_num_queries(30):
        page = roles.client("chair").get(f"/votes/{vote.pk}/")
    assert page.content.decode().count("s@org") == 4


def test_dashboard_asks_for_answers_votes_and_the_chairs_review(roles, review):
    services.objection_file(
        actor=roles.submitter, submission=review.initech, summary="Batch size", rule="r", evidence=EVIDENCE
    )
    vote = _vote(roles, review)
    from django.test import Client

    client = Client()
    client.force_login(review.initech_submitter)
    page = client.get("/dashboard/").content.decode()
    assert "against Initech waits for your answer" in page and f"/votes/{vote.pk}/" in page
    chair = roles.client("chair").get("/dashboard/").content.decode()
    assert f"Review of {review.round.name}: objection filing" in chair
    member = roles.client("member").get("/dashboard/").content.decode()
    assert "waits for your answer" not in member and "Vote open" not in member
