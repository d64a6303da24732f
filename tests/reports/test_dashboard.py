"""The reports dashboard and its CSV: who sees them, what they show, and what they cost."""

import csv
import io
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.reports.models import WeeklyReport
from apps.reports.selectors import weekly_report_compute
from apps.reports.weeks import IsoWeek
from tests.reports.conftest import CSV_HEADER_LINE, jst

pytestmark = pytest.mark.django_db

WEDNESDAY = jst(2026, 5, 20, 12)  # in 2026-W21; the dashboard shows 2026-W10 … 2026-W21


@pytest.fixture
def now(tokyo):
    with time_machine.travel(WEDNESDAY, tick=False):
        yield WEDNESDAY


@pytest.fixture
def week20(now, team, history):
    """2026-W20: 5 webinar MQLs, 1 reached SQL (20%); 2 ads MQLs, none (7 in all: 14.3%), one rejected."""
    history.mqls_of_week20(
        ["webinar"] * 5 + ["ads"] * 2,
        owner=team["rita"],
        accepted_at=jst(2026, 5, 12, 11),
        rejected_at=jst(2026, 5, 13, 9),
    )


def login(client, user):
    client.force_login(user)
    return client


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get("/reports/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_sales_rep_may_not_see_reports(client, team, now):
    response = login(client, team["rita"]).get("/reports/")

    assert response.status_code == 403
    assert "Reports are for marketing and sales managers." in response.content.decode()
    assert login(client, team["rita"]).get("/reports/weekly.csv").status_code == 403


@pytest.mark.parametrize("who", ["maya", "mona"])
def test_marketers_and_sales_managers_see_the_dashboard(client, team, now, who):
    response = login(client, team[who]).get("/reports/")

    assert response.status_code == 200
    assert (
        "Conversion reports" in response.content.decode()
        or "コンバージョンレポート" in response.content.decode()
    )


def test_a_superuser_sees_the_dashboard(client, admin_user, now):
    assert login(client, admin_user).get("/reports/").status_code == 200


def test_the_dashboard_charts_twelve_weeks_with_the_target_drawn_in(client, team, week20):
    page = login(client, team["maya"]).get("/reports/").content.decode()

    # Trend, sources, response time, SLA; the reject reasons are HTML bars.
    assert page.count('<svg class="chart') == 4
    assert 'class="target-line"' in page
    assert "Target 20%" in page
    # The window starts at the first week with data (W20), not twelve weeks back.
    for week in ("W20", "W21"):
        assert f">{week}</text>" in page
    assert ">W19</text>" not in page and ">W10</text>" not in page
    assert "2026-W20 · May 11 – May 17: 7 MQLs" in page  # a bar's tooltip


def test_the_last_complete_weeks_figures_and_alerts_lead_the_page(client, team, week20):
    page = login(client, team["maya"]).get("/reports/").content.decode()

    assert re.search(r'data-testid="kpi-mqls"><a href="[^"]+">7</a>', page)
    assert '<span class="kpi-value" data-testid="kpi-rate">14.3%</span>' in page
    assert "Alerts for 2026-W20" in page
    assert "MQL→SQL 14.3% is below the 20% target" in page
    assert "MQL→SQL 14.3% is below 15%: the MQL criteria may be too loose" in page


def test_sources_are_split_with_their_conversion_against_the_target(client, team, week20):
    response = login(client, team["maya"]).get("/reports/")
    page = response.content.decode()

    rows = {row.code: row for row in response.context["source_rows"]}
    assert (rows["webinar"].mqls, rows["webinar"].sqls, rows["webinar"].rate) == (5, 1, 0.2)
    assert (rows["ads"].mqls, rows["ads"].sqls, rows["ads"].rate) == (2, 0, 0.0)
    assert "Webinar" in page and "Ads" in page
    assert 'class="rate-target"' in page


def test_reject_reasons_are_charted_with_their_labels(client, team, week20):
    page = login(client, team["maya"]).get("/reports/").content.decode()

    bars = page.split('data-testid="reason-bars"')[1].split("</ul>")[0]
    row = bars.split('<span class="bar-label">No budget</span>')[1].split("</li>")[0]
    assert '<span class="bar-value">1</span>' in row


def test_complete_weeks_are_stored_and_the_current_week_is_counted_live(
    client, team, week20, history
):
    lead = history.lead("event")
    history.promote_by_hand(lead, jst(2026, 5, 19, 9), owner=team["rita"])  # this week, so far

    response = login(client, team["maya"]).get("/reports/")

    assert sorted(WeeklyReport.objects.values_list("week", flat=True)) == [
        f"2026-W{n:02d}" for n in range(10, 21)
    ]
    current = response.context["weeks"][-1]
    assert (str(current.week), current.complete, current.document["mqls"]) == ("2026-W21", False, 1)
    assert 'data-week="2026-W21" class="is-partial"' in response.content.decode()


def test_a_stored_report_is_shown_as_it_was_stored(client, team, now):
    document = weekly_report_compute(week=IsoWeek(2026, 19), as_of=now).document
    document.update(mqls=40, sqls=7, mql_to_sql_rate=0.175)
    WeeklyReport.objects.create(week="2026-W19", document=document, as_of=now, thresholds={})

    response = login(client, team["maya"]).get("/reports/")

    row = next(w for w in response.context["weeks"] if str(w.week) == "2026-W19")
    assert row.document["mqls"] == 40
    assert "17.5%" in response.content.decode()


def test_the_dashboard_costs_a_fixed_number_of_queries_whatever_the_leads(
    client, team, week20, history
):
    client = login(client, team["maya"])
    client.get("/reports/")  # stores the complete weeks
    with CaptureQueriesContext(connection) as few_leads:
        client.get("/reports/")
    for i in range(10):
        history.promote_by_hand(history.lead(), jst(2026, 5, 19, 9, i), owner=team["rita"])
    with CaptureQueriesContext(connection) as more_leads:
        client.get("/reports/")

    assert len(few_leads) == len(more_leads) <= 20
    stored_reads = [
        q for q in more_leads.captured_queries if 'FROM "reports_weeklyreport"' in q["sql"]
    ]
    assert len(stored_reads) == 1  # eleven stored weeks in one query


def test_the_csv_has_a_header_and_one_row_per_week(client, team, week20):
    response = login(client, team["mona"]).get("/reports/weekly.csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="leadflow-weekly-2026-W10-2026-W21.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == CSV_HEADER_LINE.split(",")
    assert [row[0] for row in rows[1:]] == [f"2026-W{n:02d}" for n in range(10, 22)]
    # Answered in time: the one accepted (2 h) and the one rejected (18 h): 2 of 7.
    assert rows[11] == ["2026-W20", "7", "1", "0.143", "0", "0.0", "2.0", "2.0", "0.286", "0.286"]
    assert rows[1] == ["2026-W10", "0", "0", "", "0", "", "", "", "", ""]


def test_the_dashboard_speaks_japanese_to_a_japanese_manager(client, team, week20):
    page = login(client, team["mona"]).get("/reports/").content.decode()

    assert "コンバージョンレポート" in page
    assert "目標 20%" in page
    assert "MQL criteria may be too loose" not in page
