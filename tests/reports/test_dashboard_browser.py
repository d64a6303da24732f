"""A sales manager opens the reports dashboard in a real browser (Debian's chromium via Playwright)."""

import csv
import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SCREENSHOTS = Path(os.environ.get("LEADFLOW_TEST_OUTPUT", "test-results")) / "screenshots"


@pytest.fixture
def demo_data():
    """Eight weeks of demo history, made through the services as ``make run`` does."""
    call_command("seed_demo", leads=120, verbosity=0)


def test_a_manager_sees_the_weeks_of_conversion_with_the_target_and_downloads_the_csv(
    open_page, demo_data
):
    page = open_page()
    log_in(page, "mona", "demo-manager")

    page.goto("/reports/")

    expect(page.get_by_role("heading", name="Conversion reports")).to_be_visible()
    expect(page.locator("svg.chart")).to_have_count(5)
    trend = page.locator("svg.chart-trend")
    expect(trend.locator(".target-line")).to_have_count(1)
    # seed_demo makes eight weeks of history: the window starts at its first week, not 12 back.
    expect(trend.locator("text.x-label")).to_have_count(8)
    expect(trend.locator(".band-line")).to_have_count(2)  # 15% and 40% beside the target
    expect(trend.locator("rect.col-mql.is-partial")).to_have_count(1)  # this week, so far
    expect(page.get_by_test_id("alerts")).to_be_visible()
    expect(page.get_by_test_id("weeks-table").locator("tbody tr")).to_have_count(8)
    expect(page.get_by_test_id("source-table").locator("tbody tr").first).to_contain_text("%")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)

    with page.expect_download() as download:
        page.get_by_test_id("csv-link").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows[0][:4] == ["week", "mqls", "sqls", "mql_to_sql_rate"]
    assert len(rows) == 13
    assert sum(int(row[1]) for row in rows[1:]) > 0


def test_the_dashboard_reads_on_a_phone(open_page, demo_data):
    page = open_page(width=390)
    log_in(page, "maya", "demo-marketing")

    page.goto("/reports/")

    expect(page.locator("svg.chart-trend")).to_be_visible()
    # Charts scale to the screen: nothing forces the page wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard-phone.png"), full_page=True)
