"""Submissions in a real browser with a real worker: a submitter uploads a package and watches the
checks finish; a chair sees every submission after the deadline; another organisation's member
cannot see them."""

import datetime as dt
import io
import re

import pytest
from playwright.sync_api import expect

from submissions import services
from submissions.models import CheckRun, SubmissionVersion, WorkerPool
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, member_of
from tests.submissions.factories import make_chair, open_round, register, tar_gz_of
from tests.workers import start_worker, wait_until_registered

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _package(tmp_path) -> bytes:
    pkg = tmp_path / "Acme"
    (pkg / "systems").mkdir(parents=True)
    (pkg / "systems" / "s1.json").write_text('{"submitter": "Acme"}')
    bench = pkg / "results" / "s1" / "retinanet"
    bench.mkdir(parents=True)
    (bench / "result_0.txt").write_text(':::MLLOG {"key": "init_start", "value": null, "time_ms": 1}\n')
    return tar_gz_of(pkg)


def test_submitter_uploads_and_watches_checks_finish(roles, new_page, tmp_path):
    """Everything on the page that depends on the checks (verdict, findings, all versions) updates
    when they end, without a reload. The worker starts only once the page shows the checks running."""
    pool = WorkerPool.objects.create(
        name="browser-pool",
        queue="browser-pool",
        check_kinds=["unpack", "system_descriptions", "result_files", "package_rules", "official_verifier", "scores"],
    )
    round_ = open_round()
    register(round_, roles.org)
    archive = tmp_path / "acme.tar.gz"
    archive.write_bytes(_package(tmp_path))
    first = services.submission_upload(
        round=round_, organisation=roles.org, division="closed", category="available",
        archive=io.BytesIO(archive.read_bytes()), original_name="acme.tar.gz", actor=roles.submitter, source="web",
    )  # fmt: skip
    for _ in range(10):  # version 1 checked in this process, as a worker would
        for run in CheckRun.objects.filter(version=first, state=CheckRun.State.QUEUED):
            services.check_run_execute(run_id=run.pk, attempt=run.attempt, worker="test@here")

    page = new_page()
    log_in(page, roles.submitter.email, PASSWORD)
    page.goto("/submissions/")
    page.get_by_role("link", name=f"Upload to {round_.name}").click()
    page.get_by_label("Division").select_option("closed")
    page.get_by_label("Availability category").select_option("available")
    page.get_by_label("Package archive").set_input_files(str(archive))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(re.compile(r".*/submissions/\d+/$"))
    page.get_by_text("Version 2 uploaded; its checks are queued.").wait_for()
    expect(page.get_by_text("No findings.")).to_be_visible()
    versions = page.locator("section[aria-labelledby=versions-heading]")
    expect(versions).to_contain_text("Checks running")
    page.evaluate("window.notReloaded = true")

    worker = start_worker(queues=[pool.queue])
    try:
        wait_until_registered(worker)
        # htmx polls the checks until the verdict is in; no reload by the test.
        verdict = page.locator("[data-verdict]")
        expect(verdict).to_have_attribute("data-verdict", "failed", timeout=120_000)
        expect(page.locator("tr[data-check='official_verifier']")).to_have_attribute("data-state", "failed")
        expect(page.get_by_text("log.malformed_record").first).to_be_visible()
        expect(versions).not_to_contain_text("Checks running")
        expect(versions.locator("tbody tr")).to_have_count(2)
        assert page.evaluate("window.notReloaded") is True
    finally:
        worker.stop()
    assert SubmissionVersion.objects.get(number=2).verdict == "failed"


def test_chair_sees_all_after_deadline_and_other_member_cannot(roles, new_page, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    round_ = open_round(deadline_in=dt.timedelta(days=-1), publication_in=dt.timedelta(days=20))
    make_chair(round_.group, roles.chair.person)
    version = services.submission_upload(
        round=round_, organisation=roles.org, division="closed", category="available",
        archive=io.BytesIO(b"\x1f\x8b fake"), original_name="a.tar.gz", actor=roles.submitter, source="web",
        enforce_rules=False,
    )  # fmt: skip

    chair = new_page()
    log_in(chair, roles.chair.email, PASSWORD)
    chair.goto(f"/rounds/{round_.slug}/submissions/")
    chair.get_by_role("link", name="Acme AI, closed division").click()
    chair.get_by_role("heading", name=f"Acme AI: {round_.name}").wait_for()

    outsider = new_page()
    other = member_of(roles.other_org, email="nosy@globex.test")
    log_in(outsider, other.user.email, PASSWORD)
    outsider.goto(f"/rounds/{round_.slug}/submissions/")
    outsider.get_by_text("No submissions you may see.").wait_for()
    response = outsider.goto(f"/submissions/{version.submission_id}/")
    assert response.status == 404
