"""The review demo: a round in objection filing today with real packages of at least four
organisations (NVIDIA among them), objections in several states, an open vote and a withdrawal."""

import pytest
from django.utils import timezone

from consortium.members.demo import seed_members
from submissions.models import Submission
from submissions.review.demo import REVIEW_ROUND, seed_review
from submissions.review.models import Ballot, Objection, Vote, Withdrawal
from workinggroups import selectors
from workinggroups.demo import seed_workinggroups
from workinggroups.models import Round

pytestmark = [pytest.mark.django_db, pytest.mark.realdata, pytest.mark.slow]


@pytest.fixture(autouse=True)
def media(tmp_path, settings, mlperf_dir):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SHARED_DIR = mlperf_dir.parent


def test_review_demo_is_in_objection_filing_with_real_packages_and_idempotent():
    today = timezone.localdate()
    for _ in range(2):  # idempotent
        seed_members(today=today, log=lambda *_: None)
        seed_workinggroups(today=today, log=lambda *_: None)
        seed_review(today=today, log=lambda *_: None)
    round = Round.objects.prefetch_related("phases").get(slug=REVIEW_ROUND)
    assert selectors.round_current_phase(round).kind == "objection_filing"
    subs = Submission.objects.filter(round=round).select_related("organisation")
    assert {s.organisation.slug for s in subs} >= {"nvidia", "amd", "dell", "lenovo"}
    for s in subs:  # real packages, unpacked: the NVIDIA folder holds NVIDIA's systems
        version = s.versions.get()
        assert version.state == "unpacked" and version.original_name == f"{s.organisation.results_folder}.tar.gz"
    assert set(Objection.objects.filter(round=round).values_list("state", flat=True)) == {
        "filed",
        "answered",
        "withdrawn",
        "decided",
    }
    assert Objection.objects.filter(round=round).count() == 4
    vote = Vote.objects.get(round=round)
    assert vote.state == "open" and Ballot.objects.filter(vote=vote).count() == 1
    assert Withdrawal.objects.filter(submission__round=round).count() == 1
    objection = Objection.objects.get(round=round, state="filed")
    evidence = objection.evidence.get()
    assert objection.submission.organisation.slug == "nvidia" and "eval_samples" in evidence.excerpt
