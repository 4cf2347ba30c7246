"""Pages whose cost does not grow with the data (issue 15): every page a person uses, for the role
that uses it, keeps its number of queries when the rows double, and stays under a pinned maximum.

The data is the demo's (members, working groups, licensing, worker pools) with `seed_scale` on top
at a small size (several rows in every list), then doubled; the pages are those of
`consortium.portal.pagecosts.demo_pages`, the same list that `make bench-pages` times.
"""

import pytest
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext

from consortium.portal.pagecosts import clients_for, demo_pages
from consortium.portal.scale import ScaleCounts

pytestmark = pytest.mark.django_db

SMALL = ScaleCounts(organisations=3, people=40, rounds=3, versions=36, datasets=3)
DOUBLED = ScaleCounts(organisations=6, people=80, rounds=6, versions=150, datasets=6)

# The queries each page makes on SMALL, each admin changelist included. A page may make HEADROOM
# more, for small changes elsewhere: never enough for a query per row, and the doubling
# test catches those anyway).
HEADROOM = 2
PINNED = {
    "home (anonymous)": 0,
    "working groups (anonymous)": 2,
    "rounds (anonymous)": 3,
    "API rounds (anonymous)": 3,
    "home (member)": 4,
    "dashboard (member)": 26,  # + the getting-started tour (its done marks: profile, groups, calendar)
    "directory": 9,
    "organisation": 8,
    "working groups": 7,
    "working group": 21,
    "rounds": 7,
    "round": 11,
    "my calendar": 8,
    "datasets": 11,
    "my grants": 8,
    "dashboard (submitter)": 42,
    "my submissions": 20,
    "round submissions (submitter)": 12,
    "results": 8,
    "API rounds (submitter)": 6,
    "datasets (submitter)": 11,
    "my grants (submitter)": 12,
    "dashboard (primary contact)": 35,
    "organisation (primary contact)": 12,
    "roster": 12,
    "dashboard (chair)": 30,
    "working group (chair)": 21,
    "group members (chair)": 10,
    "join requests (chair)": 10,
    "group rounds (chair)": 10,
    "schedule (chair)": 15,
    "round submissions (chair)": 12,
    "dashboard (dataset admin)": 20,
    "dashboard (staff)": 18,
    "workers": 9,
    "disagreements": 5,
    "round submissions (staff)": 9,
    "dataset": 10,
    "dataset (submitter)": 11,
    "submission": 15,
    "API submission": 8,
    "API findings": 9,
    "submission (staff)": 11,
    "licensing pending work": 17,
    "admin account.emailaddress": 7,
    "admin audit.auditevent": 12,
    "admin auth.group": 7,
    "admin common.outgoingmail": 9,
    "admin licensing.acceptance": 14,
    "admin licensing.accessrequest": 14,
    "admin licensing.agreement": 12,
    "admin licensing.agreementversion": 11,
    "admin licensing.dataset": 13,
    "admin licensing.datasetsubset": 11,
    "admin licensing.grant": 11,
    "admin licensing.licence": 10,
    "admin members.emaildomain": 7,
    "admin members.invitation": 8,
    "admin members.membership": 10,
    "admin members.membershiptier": 7,
    "admin members.organisation": 11,
    "admin members.organisationrole": 7,
    "admin members.person": 7,
    "admin members.user": 8,
    "admin mfa.authenticator": 7,
    "admin submissions.apitoken": 7,
    "admin submissions.ballot": 7,
    "admin submissions.checkattempt": 7,
    "admin submissions.checkrun": 7,
    "admin submissions.correction": 7,
    "admin submissions.finding": 6,
    "admin submissions.inferencescore": 9,
    "admin submissions.fixwindow": 7,
    "admin submissions.objection": 8,
    "admin submissions.objectionevidence": 7,
    "admin submissions.objectionresponse": 7,
    "admin submissions.publication": 7,
    "admin submissions.publishedresult": 10,
    "admin submissions.publishedresultdetail": 8,
    "admin submissions.publishedscore": 9,
    "admin submissions.publishedscoredetail": 7,
    "admin submissions.reviewassignment": 8,
    "admin submissions.roundreview": 7,
    "admin submissions.score": 6,
    "admin submissions.submission": 8,
    "admin submissions.submissionversion": 7,
    "admin submissions.uploadlimit": 8,
    "admin submissions.vote": 8,
    "admin submissions.voteoption": 7,
    "admin submissions.withdrawal": 7,
    "admin submissions.worker": 8,
    "admin submissions.workerping": 7,
    "admin submissions.workerpool": 7,
    "admin workinggroups.calendarfeed": 7,
    "admin workinggroups.groupmembership": 8,
    "admin workinggroups.joinrequest": 8,
    "admin workinggroups.meetingoccurrence": 8,
    "admin workinggroups.meetingseries": 9,
    "admin workinggroups.round": 8,
    "admin workinggroups.roundphase": 8,
    "admin workinggroups.roundregistration": 8,
    "admin workinggroups.workinggroup": 7,
}


def _counts(pages, clients) -> dict[str, int]:
    out = {}
    for page in pages:
        client = clients[page.login]
        assert client.get(page.url).status_code == 200, page
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(page.url)
        assert response.status_code == 200, page
        out[page.name] = len(queries)
    return out


def _limit(name: str) -> int:
    return PINNED[name] + HEADROOM


def test_every_page_stays_under_its_pinned_query_count(scale_world, django_assert_max_num_queries):
    scale_world(SMALL)
    pages = demo_pages()
    clients = clients_for(pages)
    assert len(pages) > 60  # the list and every admin changelist
    for page in pages:
        client = clients[page.login]
        client.get(page.url)  # warm-up: the session's first use
        with django_assert_max_num_queries(_limit(page.name), info=f"{page.name} {page.url}"):
            assert client.get(page.url).status_code == 200


def test_no_page_makes_more_queries_when_the_rows_double(scale_world):
    scale_world(SMALL)
    pages = demo_pages()  # the URLs are fixed now: the same pages, with more rows behind them
    clients = clients_for(pages)
    before = _counts(pages, clients)
    scale_world(DOUBLED)
    after = _counts(pages, clients)
    grown = {name: (before[name], after[name]) for name in before if after[name] > before[name]}
    assert grown == {}


def test_the_doubled_data_really_has_more_rows_in_the_lists(scale_world):
    """The doubling test means something only if the lists behind the pages grow."""
    from consortium.licensing.models import Dataset
    from submissions.models import Finding, SubmissionVersion
    from workinggroups.models import GroupMembership, Round

    scale_world(SMALL)
    small = [SubmissionVersion.objects.count(), Finding.objects.count(), Round.objects.count(),
             GroupMembership.objects.count(), Dataset.objects.count()]  # fmt: skip
    scale_world(DOUBLED)
    doubled = [SubmissionVersion.objects.count(), Finding.objects.count(), Round.objects.count(),
               GroupMembership.objects.count(), Dataset.objects.count()]  # fmt: skip
    assert all(d > s for s, d in zip(small, doubled, strict=True)), (small, doubled)
    assert SubmissionVersion.objects.filter(submission__organisation__slug="nvidia").count() >= 6
