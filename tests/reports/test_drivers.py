"""Conversion drivers: the signals the window's MQLs that reached SQL share, as of each promotion."""

import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.criteria import rules
from apps.criteria.models import FitRule
from apps.leads.services import EngagementInput, engagements_record
from apps.reports.cohort_signals import (
    FIT_CODES,
    Profiles,
    Vocabulary,
    fit_verdicts,
)
from apps.reports.drivers import SMALL_SAMPLE, conversion_drivers, wilson_interval
from apps.reports.weeks import WeekWindow
from tests.reports.conftest import jst
from tests.reports.funnels import LOOSE, NOW, WINDOW, queries_made, worked_example

# --- pure pieces -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "successes, trials, low, high",
    # 95% Wilson score intervals: Newcombe (1998)'s 81/263 example, the others worked by hand.
    [
        (3, 4, 0.3006, 0.9544),
        (2, 3, 0.2077, 0.9385),
        (0, 10, 0.0, 0.2775),
        (81, 263, 0.2553, 0.3662),
    ],
)
def test_the_wilson_interval_matches_published_values(successes, trials, low, high):
    interval = wilson_interval(successes, trials)

    assert interval == pytest.approx((low, high), abs=5e-4)


def test_no_trials_have_no_interval():
    assert wilson_interval(0, 0) is None


PROFILE_VALUES = st.one_of(st.none(), st.sampled_from(["software", " Finance ", "retail", ""]))


@given(
    employees=st.lists(st.one_of(st.none(), st.integers(0, 6000)), min_size=1, max_size=30),
    low=st.one_of(st.none(), st.integers(0, 600)),
    span=st.one_of(st.none(), st.integers(0, 5000)),
    industries=st.frozensets(st.sampled_from(["software", "finance", "health"]), max_size=2),
    countries=st.frozensets(st.sampled_from(["JP", "US", "DE"]), max_size=2),
    data=st.data(),
)
def test_the_vectorised_fit_verdicts_agree_with_evaluate_fit(
    employees, low, span, industries, countries, data
):
    n = len(employees)
    industry = data.draw(st.lists(PROFILE_VALUES, min_size=n, max_size=n))
    country = data.draw(
        st.lists(
            st.one_of(st.none(), st.sampled_from(["jp", "US ", "FR", ""])), min_size=n, max_size=n
        )
    )
    rule = rules.FitRuleValues(
        employees_min=low,
        employees_max=None if span is None else (low or 0) + span,
        industries=industries,
        countries=countries,
    )
    vocabularies = Vocabulary("lower"), Vocabulary("upper")
    profiles = Profiles(
        employees=np.array([-1 if e is None else e for e in employees]),
        industry=vocabularies[0].encode(industry),
        country=vocabularies[1].encode(country),
    )

    verdicts = fit_verdicts(rule, profiles, industries=vocabularies[0], countries=vocabularies[1])

    expected = [
        FIT_CODES[rules.evaluate_fit(rule, employees=e, industry=i or "", country=c or "").verdict]
        for e, i, c in zip(employees, industry, country, strict=True)
    ]
    assert verdicts.tolist() == expected


# --- a small fixture, counted by hand -----------------------------------------------------------


def promote_with(history, *, at, kinds, employees, sql=False, later=()):
    """A lead whose ``kinds`` (the hour before ``at``) promote it at ``at``; ``later`` kinds come after."""
    lead = history.lead(employees=employees)
    engagements_record(
        items=[
            EngagementInput(
                lead_id=lead.pk, kind=kind, occurred_at=at - dt.timedelta(minutes=50 - n)
            )
            for n, kind in enumerate(kinds)
        ],
        now=at,
    )
    lead.refresh_from_db()
    assert lead.stage == "mql"
    if sql:
        history.step(lead, "accept", at + dt.timedelta(hours=1))
        history.step(lead, "qualify", at + dt.timedelta(hours=2))
    if later:
        engagements_record(
            items=[
                EngagementInput(lead_id=lead.pk, kind=kind, occurred_at=at + dt.timedelta(hours=3))
                for kind in later
            ],
            now=at + dt.timedelta(hours=3),
        )
    return lead


@pytest.fixture
def six_mqls(tokyo, history):
    """Six MQLs of 2026-W20 and one of W08 (outside the window), fit rule 50–500, loose criteria.

    | lead | kinds at promotion              | eng. | score | employees | SQL |
    | L1   | pricing, page view, page view   | 3    | 5     | 100       | yes |
    | L2   | pricing, demo request           | 2    | 11    | 100       | yes |
    | L3   | pricing, page view, email click | 3    | 5     | 20        | yes |
    | L4   | demo request (pricing after)    | 1    | 8     | 100       | no  |
    | L5   | webinar attendance              | 1    | 4     | —         | no  |
    | L6   | content download, page view     | 2    | 3     | 1000      | no  |
    """
    FitRule.objects.update_or_create(pk=1, defaults={"employees_min": 50, "employees_max": 500})
    history.publish_criteria(**LOOSE)
    week = jst(2026, 5, 13, 10)  # Wednesday of W20
    for kinds, employees, sql, later in (
        (["pricing_page_view", "page_view", "page_view"], 100, True, ()),
        (["pricing_page_view", "demo_request"], 100, True, ()),
        (["pricing_page_view", "page_view", "email_click"], 20, True, ()),
        (["demo_request"], 100, False, ["pricing_page_view"]),
        (["webinar_attendance"], None, False, ()),
        (["content_download", "page_view"], 1000, False, ()),
    ):
        promote_with(history, at=week, kinds=kinds, employees=employees, sql=sql, later=later)
    # W08 is before the window: neither its MQL nor its SQL counts.
    promote_with(
        history, at=jst(2026, 2, 18, 10), kinds=["pricing_page_view"] * 2, employees=100, sql=True
    )


def by_key(report):
    return {d.key: d for d in report.drivers}


@pytest.mark.django_db
def test_the_drivers_numbers_match_a_hand_count(six_mqls):
    report = conversion_drivers(window=WINDOW, now=NOW)
    drivers = by_key(report)

    assert (report.mqls, report.sqls, report.base_rate) == (6, 3, 0.5)
    counted = {
        key: (drivers[key].mqls, drivers[key].sqls)
        for key in (
            "kind:pricing_page_view:any",
            "kind:pricing_page_view:none",
            "kind:page_view:any",
            "kind:page_view:2plus",
            "kind:demo_request:any",
            "engagements:1",
            "engagements:2",
            "engagements:3–4",
            "score:0–4",
            "score:5–9",
            "score:10–14",
            "employees:10–49",
            "employees:50–500",
            "employees:501–1,000",
            "employees:unknown",
            "fit:pass",
            "fit:fail",
            "fit:unknown",
        )
    }
    assert counted == {
        # L4's pricing page view came after its promotion: it does not count.
        "kind:pricing_page_view:any": (3, 3),
        "kind:pricing_page_view:none": (3, 0),
        "kind:page_view:any": (3, 2),
        "kind:page_view:2plus": (1, 1),
        "kind:demo_request:any": (2, 1),
        "engagements:1": (2, 0),
        "engagements:2": (2, 1),
        "engagements:3–4": (2, 2),
        "score:0–4": (2, 0),
        "score:5–9": (3, 2),
        "score:10–14": (1, 1),
        "employees:10–49": (1, 1),
        "employees:50–500": (3, 2),
        "employees:501–1,000": (1, 0),
        "employees:unknown": (1, 0),
        "fit:pass": (3, 2),
        "fit:fail": (2, 1),
        "fit:unknown": (1, 0),
    }
    pricing = drivers["kind:pricing_page_view:any"]
    assert (pricing.rate, pricing.lift) == (1.0, 2.0)
    size = drivers["employees:50–500"]
    assert size.rate == pytest.approx(2 / 3)
    assert size.lift == pytest.approx(4 / 3)
    assert (size.rate_low, size.rate_high) == pytest.approx((0.2077, 0.9385), abs=5e-4)
    # Every lead is website-sourced, software, US: a signal every MQL has tells nothing apart.
    assert "source:website" not in drivers and "industry:software" not in drivers
    # Six MQLs are a small sample for every signal.
    assert all(d.small_sample for d in report.drivers) and SMALL_SAMPLE > 6
    lifts = [d.lift for d in report.drivers]
    assert lifts == sorted(lifts, reverse=True)


@pytest.mark.django_db
def test_the_worked_example_ranks_engagements_company_size_and_the_pricing_page_on_top(
    tokyo, history
):
    worked_example(history)

    report = conversion_drivers(window=WINDOW, now=NOW)

    assert report.mqls == 390 and report.sqls == 31
    assert report.base_rate == pytest.approx(0.0795, abs=1e-4)  # ~8%
    top = report.drivers[:3]
    assert {d.key for d in top} == {
        "engagements:3–4",
        "employees:50–500",
        "kind:pricing_page_view:any",
    }
    for driver in top:
        assert (driver.mqls, driver.sqls) == (180, 30)
        assert driver.lift == pytest.approx(2.1, abs=0.01)
        assert not driver.small_sample
    assert all(d.lift < top[-1].lift for d in report.drivers[3:])


@pytest.mark.django_db
def test_the_drivers_cost_the_same_few_queries_whatever_the_number_of_leads(tokyo, history):
    def queries():
        return queries_made(lambda: conversion_drivers(window=WINDOW, now=NOW))

    history.publish_criteria(**LOOSE)
    counts = []
    for leads in (2, 12):
        for day in range(leads):
            promote_with(
                history,
                at=jst(2026, 5, 4 + day % 7, 10) - dt.timedelta(weeks=day // 7),
                kinds=["pricing_page_view", "page_view"],
                employees=100,
                sql=day % 3 == 0,
            )
        counts.append(queries())

    # The rules, the labels and two streamed queries, each in a savepoint (with its local settings
    # on PostgreSQL): a fixed number, whatever the number of leads.
    assert counts[0] == counts[1] <= 12


# --- the page and the API ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_lists_the_signals_by_lift_and_the_small_samples_apart(
    tokyo, history, client, marketer, at_now
):
    worked_example(history)
    client.force_login(marketer)

    response = client.get("/reports/drivers/")

    assert response.status_code == 200
    page = response.content.decode()
    main = page.split('data-testid="drivers-table"')[1].split("</table>")[0]
    keys = [row.split('"')[0] for row in main.split('data-key="')[1:]]
    assert set(keys[:3]) == {"engagements:3–4", "employees:50–500", "kind:pricing_page_view:any"}
    assert keys.index("kind:pricing_page_view:any") < keys.index("score:5–9")
    assert "as it is now (firmographics are not versioned)" in page
    assert 'value="2026-W09"' in page and 'value="2026-W20"' in page
    assert "/reports/suggestions/?from=2026-W09&amp;to=2026-W20" in page


@pytest.mark.django_db
def test_small_samples_are_listed_apart_and_say_what_small_means(six_mqls, client, team, at_now):
    client.force_login(team["maya"])

    page = client.get("/reports/drivers/").content.decode()

    assert 'data-testid="drivers-table"' not in page
    small = page.split('data-testid="small-samples-table"')[1]
    assert 'data-key="kind:pricing_page_view:any"' in small
    assert f"Signals seen on fewer than {SMALL_SAMPLE} MQLs" in page
    assert "small sample" in small


@pytest.mark.django_db
def test_a_rep_may_not_see_the_drivers(client, rep):
    client.force_login(rep)

    assert client.get("/reports/drivers/").status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query, message",
    [
        ("from=2026-W30&to=2026-W20", "after it ends"),
        ("from=2025-W50&to=2025-W53", "2025 has 52 weeks"),
        ("to=2026-20", "not an ISO week"),
        ("from=2025-W01&to=2026-W20", "look at 52 weeks or fewer"),
        ("to=2026-W40", "has not started yet"),
    ],
)
def test_a_bad_window_is_a_400_naming_the_problem(client, marketer, at_now, query, message):
    client.force_login(marketer)

    response = client.get(f"/reports/drivers/?{query}")

    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_default_window_is_the_last_twelve_complete_weeks():
    window = WeekWindow.default(NOW)

    assert (str(window.first), str(window.last), window.length) == ("2026-W09", "2026-W20", 12)


@pytest.mark.django_db
def test_the_page_reads_in_japanese(six_mqls, client, team, at_now):
    client.force_login(team["mona"])  # language: ja

    page = client.get("/reports/drivers/").content.decode()

    assert "コンバージョン要因" in page
    assert "料金ページ閲覧：1回以上" in page
    assert "少数サンプル" in page
