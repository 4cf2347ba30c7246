"""The visibility query at scale: each submission once, without a DISTINCT over the list (a join
through a round's phases gave one row per phase and a sort of the whole list; issue 15)."""

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser

from submissions.models import Submission
from submissions.selectors import submissions_visible_to
from tests.factories import OrganisationFactory
from tests.submissions.factories import open_round

pytestmark = pytest.mark.django_db


def test_published_rounds_submissions_come_once_each_without_distinct(roles):
    round = open_round(deadline_in=dt.timedelta(days=-40), publication_in=dt.timedelta(days=-1))
    assert round.phases.count() > 1
    made = [
        Submission.objects.create(round=round, organisation=OrganisationFactory(), division="closed") for _ in range(3)
    ]
    for user in (AnonymousUser(), roles.member, roles.chair):
        visible = submissions_visible_to(user)
        assert not visible.query.distinct
        assert sorted(s.pk for s in visible) == sorted(s.pk for s in made)
