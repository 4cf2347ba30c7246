"""Playwright driving Debian's Chromium against the live test server. A failing test saves a
screenshot under test-artifacts/."""

import os
import re
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run in a thread
# with a running loop unless told that it is safe (it is: the loop belongs to Playwright, not us).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = pytest.mark.browser


def _chromium_missing() -> str | None:
    if shutil.which(CHROMIUM) or Path(CHROMIUM).exists():
        return None
    return f"Chromium not found at {CHROMIUM}: install it (apt-get install chromium) or set CHROMIUM_PATH"


def pytest_collection_modifyitems(config, items):
    """Without Chromium (and outside CI) the browser tests are left out, with one line saying how to
    run them; under CI (CI=true, as .ci/run sets) they stay in and fail."""
    missing = _chromium_missing()
    if missing is None or os.environ.get("CI"):
        return
    here = Path(__file__).parent
    browser_items = [item for item in items if here in Path(item.path).parents]
    if not browser_items:
        return
    config.hook.pytest_deselected(items=browser_items)
    items[:] = [item for item in items if item not in browser_items]
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    line = f"{len(browser_items)} browser tests not run: {missing}, then run make test again."
    if reporter is not None:
        reporter.write_line(line, yellow=True)


@pytest.fixture(scope="session")
def browser():
    missing = _chromium_missing()
    if missing:
        pytest.fail(f"{missing}; CI requires the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-dev-shm-usage",
            ],
        )
        yield b
        b.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.stash.setdefault("failed", report.failed)


@pytest.fixture
def new_page(browser, request, live_server):
    """A factory of pages (one browser context each: separate cookies, like separate people)."""
    contexts = []

    def make():
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1200, "height": 900})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    if request.node.stash.get("failed", False):
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        for i, context in enumerate(contexts):
            for j, page in enumerate(context.pages):
                page.screenshot(path=str(ARTIFACTS / f"{name}-{i}-{j}.png"), full_page=True)
    for context in contexts:
        context.close()


def log_in(page, email: str, password: str) -> None:
    """Logs in through the real form; an account with TOTP (staff, chairs: they need it for their
    powers) answers allauth's second step with the current code, as its authenticator app would."""
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("main").get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/(dashboard|accounts/2fa/authenticate)/$"))
    if "/accounts/2fa/authenticate/" in page.url:
        page.locator("input[name=code]").fill(_current_totp_code(email))
        page.locator("form button[type=submit]").first.click()
        page.wait_for_url(re.compile(r".*/dashboard/$"))


def _current_totp_code(email: str) -> str:
    from allauth.mfa.adapter import get_adapter
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time

    authenticator = Authenticator.objects.get(user__email=email, type=Authenticator.Type.TOTP)
    secret = get_adapter().decrypt(authenticator.data["secret"])
    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


def log_out(page) -> None:
    """Through the account menu of the header (one "Menu" on a phone)."""
    page.locator(".account-menu summary").click()
    page.get_by_role("button", name="Log out").click()
