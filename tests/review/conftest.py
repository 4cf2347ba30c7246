from dataclasses import dataclass

import pytest

from tests.review.factories import frozen_submission, new_org, review_round
from tests.submissions.factories import make_chair


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@dataclass
class Review:
    round: object
    acme: object  # roles.org's submission
    initech: object  # another submitting organisation's submission
    initech_submitter: object
    outsider: object  # submitter of an organisation that did not submit


def make_review(roles, phase: str = "objection_filing") -> Review:
    round = review_round(roles.group, phase=phase)
    make_chair(round.group, roles.chair.person)
    initech_org, initech_submitter = new_org("Initech", "initech", submitter_email="sub@initech.test")
    _, outsider = new_org("Umbrella", "umbrella", submitter_email="sub@umbrella.test")
    acme = frozen_submission(round, roles.org, systems=("sys1", "sys2"))
    initech = frozen_submission(round, initech_org, systems=("box",), minutes=30.0)
    return Review(round=round, acme=acme, initech=initech, initech_submitter=initech_submitter, outsider=outsider)


@pytest.fixture
def review(roles) -> Review:
    return make_review(roles)
