"""The results explorer in a real browser, as anonymous and as a member: filters update the table
without a reload (htmx) and live in the URL, sorting, the result page, the charts with their data;
and the same filters without JavaScript."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.factories import PASSWORD
from tests.results.factories import two_rounds

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def published(roles, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    return two_rounds(roles.group, roles.org)


def _result_ids(page) -> list[str]:
    return page.locator("#results-table tbody th[scope=row] a").all_inner_texts()


def _filter_sort_and_open(page) -> None:
    page.goto("/results/")
    expect(page.get_by_text("7 results in this view")).to_be_visible()
    page.evaluate("window.__noReload = 'still here'")
    page.get_by_label("Benchmark (model)").select_option("retinanet")
    expect(page.get_by_text("5 results in this view")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/results/\?.*benchmark=retinanet"))
    assert page.evaluate("window.__noReload") == "still here"  # swapped in place, no page load
    page.get_by_label("System name contains").fill("DGX")
    expect(page.get_by_text("3 results in this view")).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=DGX"))
    page.locator("thead a[data-sort=score]").click()
    expect(page.locator("thead th[aria-sort=ascending] a[data-sort=score]")).to_be_visible()
    assert _result_ids(page) == ["5.1-0001", "5.1-0002", "5.0-0001"]  # 7, 27, 32 minutes
    page.locator("thead a[data-sort=score]").click()
    expect(page.locator("thead th[aria-sort=descending] a[data-sort=score]")).to_be_visible()
    assert _result_ids(page) == ["5.0-0001", "5.1-0002", "5.1-0001"]
    expect(page).to_have_url(re.compile(r"sort=-score"))
    assert page.evaluate("window.__noReload") == "still here"
    # a filter change keeps the sort (the hidden sort field belongs to the form)
    page.get_by_label("Round").select_option("training-v5-1")
    expect(page.get_by_text("2 results in this view")).to_be_visible()
    assert _result_ids(page) == ["5.1-0002", "5.1-0001"]
    # the URL reproduces the view
    url = page.url
    page.goto(url)
    assert _result_ids(page) == ["5.1-0002", "5.1-0001"]
    expect(page.get_by_label("Round")).to_have_value("training-v5-1")
    page.get_by_role("link", name="5.1-0001", exact=True).click()
    page.get_by_role("heading", name="MLPerf Training v5.1 result 5.1-0001").wait_for()
    expect(page.get_by_label("Citation (ready to copy)")).to_have_value(re.compile(r"result 5\.1-0001: Acme AI"))
    expect(page.get_by_text("Example CPU 9000 × 16")).to_be_visible()


def _charts(page) -> None:
    page.goto("/results/?benchmark=retinanet")
    page.get_by_role("link", name="Charts of this view").click()
    page.wait_for_url(re.compile(r"/results/charts/\?benchmark=retinanet"))
    trend = page.locator("svg#chart-trend")
    expect(trend).to_be_visible()
    expect(trend.locator(".legend")).to_contain_text("retinanet")
    assert trend.locator("g.point").count() == 2  # v5.0 and v5.1
    rows = page.locator("#trend-data tbody tr").all_inner_texts()
    assert [re.sub(r"\s+", " ", r).strip() for r in rows] == [
        "retinanet Training v5.0 10.000 minutes",
        "retinanet Training v5.1 7.000 minutes",
    ]
    scaling = page.locator("svg#chart-scaling")
    expect(scaling).to_be_visible()
    assert scaling.locator("g.point").count() == page.locator("#scaling-data tbody tr").count() == 5
    page.get_by_label(re.compile("Show per accelerator")).check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"derived=per_accelerator"))
    expect(page.locator("svg#chart-scaling")).to_contain_text("derived, not an official MLPerf result")


def test_anonymous_filters_sorts_and_reads_the_charts(published, new_page):
    page = new_page()
    _filter_sort_and_open(page)
    _charts(page)


def test_member_filters_sorts_and_reads_the_charts(published, roles, new_page):
    page = new_page()
    log_in(page, roles.member.email, PASSWORD)
    _filter_sort_and_open(page)
    _charts(page)


def test_filters_work_without_javascript(published, browser, live_server):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/results/")
        page.get_by_label("Organisation").select_option("Initech")
        page.get_by_role("button", name="Apply filters").click()
        page.wait_for_url(re.compile(r"organisation=Initech"))
        assert _result_ids(page) == ["5.0-0002"]
        page.goto("/results/")
        page.locator("#results-table input[name=ids][value='5.1-0001']").check()
        page.locator("#results-table input[name=ids][value='5.0-0002']").check()
        page.get_by_role("button", name=re.compile("Compare the chosen results")).click()
        page.wait_for_url(re.compile(r"/results/compare/\?ids=5\.0-0002&ids=5\.1-0001"))  # in the table's order
        expect(page.locator("table.compare thead")).to_contain_text("5.1-0001")
        expect(page.locator("table.compare thead")).to_contain_text("5.0-0002")
    finally:
        context.close()
