"""Every main page, for each role, at 1280 px and 390 px wide on the demo data: a screenshot each in
var/test/screenshots/ (gitignored) and no horizontal overflow of the page (wide tables scroll inside
their own box)."""

import io
import re
from pathlib import Path

import pytest
from django.utils import timezone

from consortium.licensing.demo import seed_licensing
from consortium.members.demo import seed_members
from consortium.members.models import Organisation
from submissions import services
from submissions.demo import seed_pools
from submissions.models import CheckRun
from tests.browser.conftest import log_in
from tests.submissions.factories import tar_gz_of
from workinggroups.demo import seed_workinggroups
from workinggroups.models import Round

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "test" / "screenshots"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
PASSWORD = "demo-password"
PRACTICE = "training-practice-v5-1"

PAGES = {
    "anonymous": ["/", "/results/", "/workinggroups/", "/workinggroups/training/", "/rounds/", f"/rounds/{PRACTICE}/",
                  "/rounds/training-v5-1/results/", "/datasets/", "/accounts/login/", "/accounts/signup/"],
    "member@example.org": ["/dashboard/", "/members/", "/members/organisations/lenovo/", "/workinggroups/inference/",
                           "/datasets/peoples-speech/", "/datasets/mine/", "/calendar/", "/members/profile/"],
    "submitter@example.org": ["/dashboard/", "/submissions/", "/objections/", "{submission}",
                              f"/rounds/{PRACTICE}/upload/", "/account/api-tokens/", f"/rounds/{PRACTICE}/results/"],
    "primary@example.org": ["/dashboard/", "/members/organisations/nvidia/", "/members/organisations/nvidia/roster/"],
    "chair@example.org": ["/dashboard/", "/workinggroups/training/manage/members/",
                          "/workinggroups/training/manage/requests/", "/workinggroups/training/manage/rounds/",
                          f"/rounds/{PRACTICE}/schedule/", "/workinggroups/training/manage/meetings/"],
    "licensing@example.org": ["/dashboard/", "/admin/licensing/", "/admin/licensing/dataset/dashboard/"],
    "admin@example.org": ["/dashboard/", "/staff/workers/", "/staff/disagreements/", "/admin/"],
}  # fmt: skip


@pytest.fixture
def demo(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DEMO_MODE = True  # as `make run`: the seeded staff accounts reach their pages without MFA
    today = timezone.localdate()
    quiet = lambda *_: None  # noqa: E731
    seed_members(today=today, log=quiet)
    seed_workinggroups(today=today, log=quiet)
    seed_licensing(today=today, log=quiet)
    seed_pools()
    pkg = tmp_path / "NVIDIA"
    (pkg / "systems").mkdir(parents=True)
    (pkg / "systems" / "dgx.json").write_text('{"submitter": "NVIDIA"}')
    for n in range(3):
        bench = pkg / "results" / f"dgx_{n}" / "retinanet"
        bench.mkdir(parents=True)
        (bench / "result_0.txt").write_text(':::MLLOG {"key": "init_start", "value": null, "time_ms": 1}\nnot json\n')
    version = services.submission_upload(
        round=Round.objects.get(slug=PRACTICE), organisation=Organisation.objects.get(slug="nvidia"),
        division="closed", category="available", archive=io.BytesIO(tar_gz_of(pkg)), original_name="NVIDIA.tar.gz",
        actor=None, source="seed", enforce_rules=False,
    )  # fmt: skip
    for _ in range(10):
        queued = list(CheckRun.objects.filter(version=version, state=CheckRun.State.QUEUED))
        for run in queued:
            services.check_run_execute(run_id=run.pk, attempt=run.attempt, worker="screenshots@test")
    return {"submission": f"/submissions/{version.submission_id}/"}


def _shoot(page, who: str, path: str, width_name: str) -> str | None:
    response = page.goto(path)
    assert response.status < 400, (who, path, response.status)
    page.wait_for_load_state("networkidle")
    name = re.sub(r"[^A-Za-z0-9]+", "_", f"{who.split('@')[0]}_{path}").strip("_") or "home"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{width_name}-{name}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if overflow > 1:
        return f"{path} ({width_name}) overflows by {overflow}px"
    words = page.evaluate("document.body.innerText")
    bad = re.findall(r"[^.]\.\.(?!\.)|\b1 (?:people|scores|errors|warnings|findings|requests|days)\b", words)
    return f"{path} ({width_name}) reads badly: {bad}" if bad and not path.startswith("/admin/") else None


@pytest.mark.parametrize("who", list(PAGES))
def test_main_pages_fit_desktop_and_phone(who, demo, new_page):
    page = new_page()
    if who != "anonymous":
        log_in(page, who, PASSWORD)
    problems = []
    for width_name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        for path in PAGES[who]:
            problem = _shoot(page, who, path.format(**demo), width_name)
            if problem and not path.startswith("/admin/"):  # Django's admin has its own layout
                problems.append(problem)
    assert problems == []


def test_header_fits_one_row_at_1280_with_a_long_login_and_is_one_menu_on_a_phone(new_page, db):
    from tests.factories import PASSWORD as TEST_PASSWORD
    from tests.factories import MembershipFactory, OrganisationFactory, member_of

    organisation = MembershipFactory(organisation=OrganisationFactory(name="Acme AI", slug="acme")).organisation
    long_login = "maximiliana.konstantinopoulou-vanderberg@research.acme.example"
    member_of(organisation, email=long_login)
    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, long_login, TEST_PASSWORD)
    header = page.locator("header nav")
    assert header.bounding_box()["height"] < 100
    tops = {round(box["y"]) for box in (link.bounding_box() for link in page.locator("header .nav-wide a").all())}
    assert len(tops) == 1  # one row
    summary = page.locator(".account-menu summary")
    assert summary.bounding_box()["x"] + summary.bounding_box()["width"] <= 1280
    summary.click()
    page.get_by_role("button", name="Log out").wait_for()

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.locator("header nav").bounding_box()["height"] < 100
    assert not page.locator("header .nav-wide").is_visible()
    page.locator(".account-menu summary").click()
    page.locator("header").get_by_role("link", name="Working groups").wait_for()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(lambda url: "/accounts/" in url or url.endswith("/"))
