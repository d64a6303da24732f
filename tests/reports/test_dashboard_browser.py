"""A sales manager opens the reports dashboard in a real browser (Debian's chromium via Playwright)."""

import csv
import io
import itertools
import os
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Min
from playwright.sync_api import expect

from apps.leads.models import StageTransition
from apps.reports.weeks import IsoWeek
from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SCREENSHOTS = Path(os.environ.get("LEADFLOW_TEST_OUTPUT", "test-results")) / "screenshots"


def weeks_since_first_mql() -> int:
    """The ISO weeks from the one of the first MQL to the current one, both counted."""
    first = StageTransition.objects.filter(to_stage="mql").aggregate(first=Min("at"))["first"]
    week, count = IsoWeek.containing(first), 1
    while week != IsoWeek.current():
        week, count = week.next(), count + 1
    return count


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
    expect(page.locator("svg.chart")).to_have_count(4)
    trend = page.locator("svg.chart-trend")
    expect(trend.locator(".target-line")).to_have_count(1)
    # seed_demo makes eight weeks of history: the window starts at its first week, not 12 back
    # (eight or nine ISO weeks, depending on the weekday the test runs).
    weeks = weeks_since_first_mql()
    assert weeks in (8, 9)
    expect(trend.locator("text.x-label")).to_have_count(weeks)
    expect(trend.locator(".band-line")).to_have_count(2)  # 15% and 40% beside the target
    # Their words are in the legend, not on the bars.
    expect(page.get_by_test_id("band-legend")).to_have_count(2)
    expect(trend.locator("text.band-label, text.target-label")).to_have_count(0)
    expect(trend.locator("rect.col-mql.is-partial")).to_have_count(1)  # this week, so far
    expect(page.get_by_test_id("alerts")).to_be_visible()
    expect(page.get_by_test_id("weeks-table").locator("tbody tr")).to_have_count(weeks)
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
    # The words are readable once the charts are scaled down: the reject reasons and the
    # 15%/20%/40% lines are HTML text, the axis labels drawn at least 9 px tall.
    for label in [
        page.get_by_test_id("reason-bars").locator(".bar-label").first,
        page.get_by_test_id("band-legend").first,
    ]:
        expect(label).to_be_visible()
        assert label.bounding_box()["height"] >= 12
    week_labels = page.locator("svg.chart-trend text.x-label")
    shown = [box for box in (w.bounding_box() for w in week_labels.all()) if box]
    assert shown and min(box["height"] for box in shown) >= 9
    # Every other week's label is left out to make room: the shown ones do not overlap.
    shown.sort(key=lambda box: box["x"])
    assert all(a["x"] + a["width"] <= b["x"] for a, b in itertools.pairwise(shown))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard-phone.png"), full_page=True)


@pytest.mark.parametrize(
    ("locale", "width"), [("en-US", 1440), ("en-US", 390), ("ja-JP", 1440), ("ja-JP", 390)]
)
def test_a_marketer_filters_the_dashboard_and_opens_the_leads_behind_a_number(
    open_page, demo_data, locale, width
):
    page = open_page(locale=locale, width=width)
    log_in(page, "maya", "demo-marketing")
    page.goto("/reports/")
    form = page.get_by_test_id("window-form")
    rep = form.locator("select[name=rep]")
    rep.select_option(index=1)
    form.locator("button[type=submit]").click()

    expect(page.get_by_test_id("filtered-note")).to_be_visible()
    # The download carries the filters the page shows.
    expect(page.get_by_test_id("csv-link")).to_have_attribute("href", re.compile(r"\?rep=\w"))
    # Every chart fits the screen whole: its right edge is inside the page.
    for chart in page.locator("svg.chart").all():
        box = chart.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = f"dashboard-filtered-{locale[:2]}-{width}"
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    page.locator("svg.chart-trend").screenshot(path=str(SCREENSHOTS / f"{name}-trend.png"))
    page.locator("svg.chart-lines").first.screenshot(path=str(SCREENSHOTS / f"{name}-response.png"))

    link = page.get_by_test_id("week-mqls").nth(1)  # the last complete week
    number = int(link.inner_text())
    link.click()
    expect(page.get_by_test_id("lead-count")).to_have_text(str(number))
