"""The review in a real browser: the chair runs the dashboard, reads an objection's evidence at its
line, decides it and runs a vote; a submitter finds the objection in the inbox, answers it, files
one through the form, casts the organisation's ballot and withdraws a submission; anyone reads the
published record and copies a citation."""

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from submissions.review import services
from submissions.review.models import Ballot, Objection, Vote, Withdrawal
from tests.browser.conftest import log_in
from tests.factories import PASSWORD
from tests.review.conftest import make_review

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
EVIDENCE = [{"path": "results/box/retinanet/result_0.txt", "line": 3}]


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_chair_reads_evidence_decides_and_runs_a_vote(roles, new_page):
    review = make_review(roles)
    objection = services.objection_file(
        actor=review.initech_submitter,
        submission=review.acme,
        summary="Seed not logged",
        rule="Training rules §5",
        evidence=[{"path": "results/sys1/retinanet/result_0.txt", "line": 2}],
    )
    page = new_page()
    log_in(page, roles.chair.email, PASSWORD)
    page.goto(f"/rounds/{review.round.slug}/review/")
    expect(page.get_by_role("heading", name=f"Review of {review.round.name}")).to_be_visible()
    expect(page.get_by_text("Current phase: Objection filing")).to_be_visible()
    page.get_by_role("button", name="Assign reviews by result count").click()
    expect(page.get_by_text("2 review assignments added.")).to_be_visible()
    page.get_by_role("link", name=str(objection.pk), exact=True).click()
    offending = page.locator("pre span.offending")
    expect(offending).to_contain_text("init_start")
    expect(offending).to_contain_text("    2  ")
    # A vote on it: two options, simple majority.
    page.goto(f"/rounds/{review.round.slug}/review/")
    page.get_by_text("Open a vote").click()
    page.get_by_label("Question").fill("Support Initech's objection?")
    page.get_by_label("Options (one a line: label | outcome)").fill("Support | fix_required\nReject | rejected")
    page.get_by_label("Closes at (UTC)").fill("2099-01-01T10:00")
    page.get_by_label("About objection (number, optional)").fill(str(objection.pk))
    page.get_by_role("button", name="Open the vote").click()
    page.wait_for_url(re.compile(r".*/votes/\d+/$"))
    vote = Vote.objects.get()
    services.ballot_cast(actor=review.initech_submitter, vote=vote, ranking=[vote.options.get(label="Support").key])
    page.reload()
    expect(page.get_by_role("cell", name="Initech", exact=True)).to_be_visible()
    page.get_by_role("button", name="Close the vote and count").click()
    expect(page.get_by_text("Vote closed: Support.")).to_be_visible()
    objection.refresh_from_db()
    assert objection.state == "decided" and objection.outcome == "fix_required"
    assert review.acme.fix_windows.exists()


def test_submitter_answers_files_votes_and_withdraws(roles, new_page):
    review = make_review(roles)
    against = services.objection_file(
        actor=review.initech_submitter,
        submission=review.acme,
        summary="Seed not logged",
        rule="Training rules §5",
        evidence=[{"path": "results/sys1/retinanet/result_0.txt", "line": 2}],
    )
    vote = services.vote_open(
        actor=roles.chair,
        round=review.round,
        question="Extend the revision?",
        options=[("Yes", ""), ("No", "")],
        closes_at=review.round.phases.get(kind="revision").ends_at,
    )
    page = new_page()
    log_in(page, roles.submitter.email, PASSWORD)
    page.goto("/objections/")
    expect(page.get_by_role("heading", name="Objections against Acme AI")).to_be_visible()
    page.get_by_role("link", name=str(against.pk), exact=True).click()
    page.get_by_label("Your answer").fill("The seed is on line 2 of every log.")
    page.get_by_role("button", name="Send the answer").click()
    expect(page.get_by_text("Answer recorded.")).to_be_visible()
    expect(page.get_by_text("The seed is on line 2 of every log.")).to_be_visible()
    against.refresh_from_db()
    assert against.state == "answered"

    # File an objection with a bad line first: a clear message, the input kept.
    page.goto(f"/rounds/{review.round.slug}/objections/new/")
    page.get_by_label("Against the submission").select_option(label="Initech · Closed")
    page.get_by_label("What is wrong (one line)").fill("Batch size not allowed")
    page.get_by_label("The rule it breaks").fill("Training rules §9.2")
    page.get_by_label("Evidence (path:line, one a line)").fill("results/box/retinanet/result_0.txt:40")
    page.get_by_role("button", name="File the objection").click()
    expect(page.get_by_text("has 5 lines in version 1; there is no line 40")).to_be_visible()
    expect(page.get_by_label("What is wrong (one line)")).to_have_value("Batch size not allowed")
    page.get_by_label("Evidence (path:line, one a line)").fill("results/box/retinanet/result_0.txt:3")
    page.get_by_role("button", name="File the objection").click()
    page.wait_for_url(re.compile(r".*/objections/\d+/$"))
    expect(page.locator("pre span.offending")).to_contain_text("global_batch_size")
    assert Objection.objects.filter(filed_by_organisation=roles.org, state="filed").count() == 1

    # One ballot for the organisation; the form is gone afterwards.
    page.goto(f"/votes/{vote.pk}/")
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Cast the ballot").click()
    expect(page.get_by_text("Your organisation's ballot is recorded.")).to_be_visible()
    expect(page.get_by_role("button", name="Cast the ballot")).to_have_count(0)
    assert Ballot.objects.filter(vote=vote, organisation=roles.org).count() == 1

    page.goto(f"/submissions/{review.acme.pk}/withdraw/")
    page.get_by_label("Reason").fill("The system will not be available in time.")
    page.get_by_role("button", name="Withdraw the submission").click()
    expect(page.get_by_text("is withdrawn; it will not be published.")).to_be_visible()
    assert Withdrawal.objects.get().submission == review.acme


def test_anyone_reads_the_published_record_and_copies_a_citation(roles, new_page):
    review = make_review(roles, phase="published")
    services.round_publish(round=review.round)
    page = new_page()
    page.goto(f"/rounds/{review.round.slug}/published/")
    expect(page.get_by_role("heading", name=f"Published results of {review.round.name}")).to_be_visible()
    expect(page.get_by_role("cell", name="Acme AI SYS1")).to_be_visible()
    page.get_by_role("link", name="5.1-0003").click()
    citation = page.get_by_label("Citation (ready to copy)")
    expect(citation).to_have_value(re.compile(r"result 5\.1-0003: Initech, Initech BOX"))
    assert Client().get("/api/v1/rounds/training-v5-1/results").json()["results"][2]["result_id"] == "5.1-0003"
