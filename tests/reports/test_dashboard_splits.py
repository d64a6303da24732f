"""Reports people can question: the per-rep and per-criteria splits on the page, numbers linked to leads."""

import pytest

from tests.reports.test_dashboard import login, now, week20  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def test_the_dashboard_splits_by_rep_by_full_name_and_by_criteria_version(client, team, week20):  # noqa: F811
    response = login(client, team["maya"]).get("/reports/")
    rows = {row.key: row for row in response.context["owner_rows"]}
    assert (rows["rita"].label, rows["rita"].mqls, rows["rita"].sqls) == ("Rita Reyes", 7, 1)
    page = response.content.decode()
    assert 'data-testid="owner-table"' in page and 'data-testid="criteria-table"' in page
    # Hand promotions have no criteria version: their row says so in words.
    assert "<td>Promoted by hand</td>" in page and "vmanual" not in page


def test_each_mql_count_links_to_the_leads_behind_it(client, team, week20):  # noqa: F811
    response = login(client, team["maya"]).get("/reports/")
    rita = next(row for row in response.context["owner_rows"] if row.key == "rita")
    webinar = next(row for row in response.context["source_rows"] if row.code == "webinar")
    assert "promoted_owner=rita" in rita.link
    assert "promoted_from=2026-05-11" in rita.link and "promoted_to=2026-05-24" in rita.link
    leads = login(client, team["maya"]).get(webinar.link)
    assert leads.status_code == 200
    assert leads.context["paginator"].count == 5


def test_the_15_and_40_percent_lines_are_drawn_beside_the_target(client, team, week20):  # noqa: F811
    page = login(client, team["maya"]).get("/reports/").content.decode()
    assert page.count('class="band-line"') == 2
    # Named in the legend under the chart (HTML, readable on a phone), not over its bars.
    legend = (
        page.split('id="trend-title"')[1].split("</section>")[0].split('<ul class="legend">')[1]
    )
    assert "Too loose below 15%" in legend
    assert "Too strict above 40%" in legend
    assert "Target 20%" in legend
    assert "band-label" not in page and "target-label" not in page


def test_the_reject_reasons_are_html_bars(client, team, week20):  # noqa: F811
    page = login(client, team["maya"]).get("/reports/").content.decode()
    bars = page.split('data-testid="reason-bars"')[1].split("</ul>")[0]
    assert '<span class="bar-label">' in bars and '<span class="bar-value">' in bars
    assert "chart-hbars" not in page


def test_the_response_time_axis_names_its_unit(client, team, week20):  # noqa: F811
    page = login(client, team["maya"]).get("/reports/").content.decode()
    assert 'class="tick axis-unit"' in page and ">hours</text>" in page


def test_the_criteria_version_and_other_sources_counts_link_to_their_leads(
    client,
    team,
    week20,  # noqa: F811
    monkeypatch,
):
    monkeypatch.setattr("apps.reports.dashboard.TOP_SOURCES", 1)  # the rest are "Other sources"
    response = login(client, team["maya"]).get("/reports/")
    page = response.content.decode()
    criteria = response.context["criteria_rows"]
    other = response.context["source_rows"][-1]
    assert other.code == "" and other.link and other.mqls > 0 and criteria

    for row in [*criteria, other]:
        assert f'<a href="{row.link.replace("&", "&amp;")}">{row.mqls}</a>' in page
        leads = login(client, team["maya"]).get(row.link)
        assert leads.context["paginator"].count == row.mqls
        if row.sqls:
            reached = login(client, team["maya"]).get(row.sql_link)
            assert reached.context["paginator"].count == row.sqls


def test_the_footnote_says_which_numbers_link(client, team, week20):  # noqa: F811
    page = login(client, team["maya"]).get("/reports/").content.decode()
    footnote = page.split('data-testid="footnote">')[1].split("</p>")[0]
    assert "Each MQL and SQL count links" in footnote and "Each number links" not in footnote
