"""The smaller gaps a new user meets: live worker counts per pool served, the disagreements page
linked, the directory sorted by name with country names, submissions lists with verdicts and named
rows, breadcrumbs, copy buttons and a webcal: link, results that say checks still run, a favicon."""

import datetime as dt
import io
import re

import pytest
from django.utils import timezone

from submissions import services
from submissions.models import Worker, WorkerPool
from tests.factories import MembershipFactory, OrganisationFactory
from tests.submissions.factories import open_round, register

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _upload(roles, round_):
    return services.submission_upload(
        round=round_, organisation=roles.org, division="closed", category="available",
        archive=io.BytesIO(b"\x1f\x8b x"), original_name="p.tar.gz", actor=roles.submitter, source="web",
        enforce_rules=False,
    )  # fmt: skip


def test_workers_page_counts_a_worker_for_each_pool_whose_queue_it_serves(roles):
    WorkerPool.objects.create(name="cpu-standard", queue="default")
    WorkerPool.objects.create(name="cpu-large", queue="cpu-large")
    now = timezone.now()
    Worker.objects.create(hostname="one@host", queues=["default", "cpu-large"], started_at=now, last_heartbeat=now)
    page = roles.client("staff").get("/staff/workers/").content.decode()
    rows = re.findall(r"<tr><td>(cpu-\w+)<br>.*?</td><td><code>.*?</code></td><td>.*?</td><td>(\d+)</td>", page)
    assert sorted(rows) == [("cpu-large", "1"), ("cpu-standard", "1")]
    assert "cpu-standard, cpu-large" in page or "cpu-large, cpu-standard" in page


def test_staff_find_the_disagreements_page_in_their_menu(roles):
    assert 'href="/staff/disagreements/"' in text(roles.client("staff").get("/dashboard/"))
    assert 'href="/staff/disagreements/"' not in text(roles.client("member").get("/dashboard/"))


def test_directory_sorts_by_name_ignoring_case_and_names_countries(roles):
    for name, slug, country in [("abc Labs", "abc", "CH"), ("Zeta", "zeta", "TW"), ("beta AI", "beta", "KR")]:
        MembershipFactory(organisation=OrganisationFactory(name=name, slug=slug, country=country))
    page = text(roles.client("member").get("/members/"))
    names = re.findall(r'<th scope="row"><a href="/members/organisations/[\w-]+/">([^<]+)</a>', page)
    assert names == sorted(names, key=str.casefold) and names.index("abc Labs") < names.index("Acme AI")
    assert "<td>Switzerland</td>" in page and "<td>Taiwan</td>" in page and "<td>South Korea</td>" in page
    assert '<option value="CH">Switzerland</option>' in page


def test_submissions_list_shows_the_verdict_and_names_each_row(roles):
    round_ = open_round()
    register(round_, roles.org)
    version = _upload(roles, round_)
    page = text(roles.client("submitter").get("/submissions/"))
    assert f'<a href="/submissions/{version.submission_id}/">Acme AI, closed division</a>' in page
    assert "Verdict of the version that counts" in page and "Checks running" in page and ">Open<" not in page


def test_breadcrumbs_lead_back_from_deep_pages(roles):
    round_ = open_round()
    register(round_, roles.org)
    version = _upload(roles, round_)
    page = text(roles.client("submitter").get(f"/submissions/{version.submission_id}/"))
    assert re.search(r'aria-label="Breadcrumb".*?Submissions</a>.*?' + round_.name, page)
    assert 'aria-label="Breadcrumb"' in text(roles.client("member").get("/workinggroups/training/"))
    assert 'aria-label="Breadcrumb"' in text(roles.client("primary").get("/members/organisations/acme/roster/"))


def test_calendar_address_has_copy_button_and_webcal_link(roles):
    page = text(roles.client("member").get("/calendar/"))
    assert 'data-copy="#feed-url"' in page
    assert re.search(r'href="webcal://testserver/calendar/[\w-]+\.ics"', page)


def test_new_token_has_a_copy_button(roles):
    response = roles.client("submitter").post("/account/api-tokens/", {"name": "ci"})
    assert 'data-copy="#new-token"' in text(response)


def test_results_page_says_checks_still_run(roles):
    round_ = open_round(deadline_in=dt.timedelta(days=-40), publication_in=dt.timedelta(days=-1))
    register(round_, roles.org)
    _upload(roles, round_)
    page = text(roles.client("anonymous").get(f"/rounds/{round_.slug}/results/"))
    assert "The checks of 1 submission still run; its scores appear here when they end." in page


def test_favicon_is_served_for_every_page(roles, client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("portal/favicon.svg")
    roles.staff.person.is_demo = True
    roles.staff.person.save(update_fields=["is_demo"])
    assert 'rel="icon"' in text(roles.client("staff").get("/admin/"))
