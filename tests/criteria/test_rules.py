"""The pure rule functions: no database, every edge a person would argue about."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.criteria.rules import (
    BANTRule,
    FitRuleValues,
    MQLRule,
    ScoringTable,
    add_months,
    bant_failures,
    evaluate_fit,
    mql_met,
    mql_unmet,
    score_of,
)
from tests.criteria.helpers import SPEC_POINTS

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def test_default_table_scores_inquiry_document_and_quote_at_ten():
    table = ScoringTable(points=SPEC_POINTS)
    history = [("inquiry", NOW), ("document_request", NOW), ("quote_request", NOW)]
    assert score_of(table, history, NOW) == 10


def test_cap_limits_the_score():
    table = ScoringTable(points=SPEC_POINTS, cap=12)
    assert score_of(table, [("demo_request", NOW)] * 3, NOW) == 12


def test_decay_keeps_the_configured_share_of_old_points():
    table = ScoringTable(points=SPEC_POINTS, decay_after_days=30, decayed_percent=50)
    old = NOW - dt.timedelta(days=31)
    assert score_of(table, [("demo_request", old), ("quote_request", NOW)], NOW) == 4 + 5


def test_decay_to_zero_drops_old_points():
    table = ScoringTable(points=SPEC_POINTS, decay_after_days=30, decayed_percent=0)
    assert score_of(table, [("demo_request", NOW - dt.timedelta(days=40))], NOW) == 0


def test_an_engagement_exactly_at_the_decay_boundary_still_counts_in_full():
    table = ScoringTable(points=SPEC_POINTS, decay_after_days=30, decayed_percent=0)
    assert score_of(table, [("demo_request", NOW - dt.timedelta(days=30))], NOW) == 8


@given(st.lists(st.sampled_from(sorted(SPEC_POINTS)), max_size=40), st.integers(0, 60))
def test_a_score_is_never_negative_and_never_above_the_cap(kinds, cap):
    table = ScoringTable(points=SPEC_POINTS, cap=cap)
    score = score_of(table, [(k, NOW) for k in kinds], NOW)
    assert 0 <= score <= cap


RULE = FitRuleValues(employees_min=50, employees_max=500)


def test_fit_passes_inside_the_employee_range_including_both_ends():
    assert evaluate_fit(RULE, employees=50, industry="", country="").verdict == "pass"
    assert evaluate_fit(RULE, employees=500, industry="", country="").verdict == "pass"


def test_fit_fails_outside_the_range_and_says_why():
    result = evaluate_fit(RULE, employees=40, industry="", country="")
    assert result.verdict == "fail"
    assert "40" in result.reason and "50" in result.reason
    assert evaluate_fit(RULE, employees=501, industry="", country="").verdict == "fail"


def test_fit_is_unknown_when_the_employee_count_is_missing():
    result = evaluate_fit(RULE, employees=None, industry="", country="")
    assert result.verdict == "unknown"
    assert "employee" in result.reason


def test_a_known_failure_beats_missing_data():
    rule = FitRuleValues(employees_min=50, employees_max=500, countries=frozenset({"JP"}))
    assert evaluate_fit(rule, employees=None, industry="", country="US").verdict == "fail"


def test_industry_and_country_lists_are_case_insensitive():
    rule = FitRuleValues(industries=frozenset({"software"}), countries=frozenset({"JP"}))
    assert evaluate_fit(rule, employees=100, industry="Software", country="jp").verdict == "pass"


def test_mql_needs_every_criterion_and_names_what_is_missing():
    rule = MQLRule()
    kinds = {"inquiry", "document_request", "quote_request"}
    unmet = mql_unmet(rule, score=10, engagement_count=3, kinds=kinds, fit="pass")
    assert len(unmet) == 1 and "pricing_page_view" in unmet[0]
    assert (
        mql_unmet(
            rule, score=13, engagement_count=4, kinds=kinds | {"pricing_page_view"}, fit="pass"
        )
        == []
    )


def test_mql_threshold_is_inclusive():
    rule = MQLRule(required_kinds=frozenset(), min_engagements=0)
    assert mql_unmet(rule, score=10, engagement_count=0, kinds=set(), fit="pass") == []
    assert mql_unmet(rule, score=9, engagement_count=0, kinds=set(), fit="pass") != []


def test_fit_required_refuses_unknown_fit_too():
    rule = MQLRule(required_kinds=frozenset(), min_engagements=0, score_threshold=0)
    assert mql_unmet(rule, score=0, engagement_count=0, kinds=set(), fit="unknown")
    assert not mql_unmet(
        MQLRule(
            required_kinds=frozenset(), min_engagements=0, score_threshold=0, fit_required=False
        ),
        score=0,
        engagement_count=0,
        kinds=set(),
        fit="fail",
    )


TODAY = dt.date(2026, 11, 20)
GOOD = dict(
    budget_amount=Decimal("10000"),
    budget_currency="USD",
    authority="decision_maker",
    need="Route leads",
    timeline=dt.date(2027, 5, 20),
    today=TODAY,
)


def test_bant_at_every_boundary_passes():
    assert bant_failures(BANTRule(), **GOOD) == {}


def test_bant_names_every_failing_item():
    failures = bant_failures(
        BANTRule(),
        **{
            **GOOD,
            "budget_amount": Decimal("9999.99"),
            "authority": "user",
            "need": "  ",
            "timeline": dt.date(2027, 5, 21),
        },
    )
    assert set(failures) == {"budget_amount", "authority", "need", "timeline"}


@pytest.mark.parametrize("timeline", [dt.date(1, 1, 1), TODAY - dt.timedelta(days=1)])
def test_a_decision_date_in_the_past_fails(timeline):
    failures = bant_failures(BANTRule(), **{**GOOD, "timeline": timeline})
    assert set(failures) == {"timeline"}
    assert "in the past" in failures["timeline"]


def test_a_decision_expected_today_passes():
    assert bant_failures(BANTRule(), **{**GOOD, "timeline": TODAY}) == {}


def test_bant_converts_foreign_budgets_at_the_admin_rate_or_refuses_clearly():
    rule = BANTRule(rates={"EUR": Decimal("1.10")})
    assert (
        bant_failures(rule, **{**GOOD, "budget_amount": Decimal("9091"), "budget_currency": "EUR"})
        == {}
    )
    assert "budget_amount" in bant_failures(
        rule, **{**GOOD, "budget_amount": Decimal("9090"), "budget_currency": "EUR"}
    )
    refused = bant_failures(BANTRule(), **{**GOOD, "budget_currency": "JPY"})
    assert "JPY" in refused["budget_currency"]


def test_add_months_clamps_to_the_end_of_short_months():
    assert add_months(dt.date(2026, 8, 31), 6) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2026, 11, 20), 2) == dt.date(2027, 1, 20)


_KINDS = st.frozensets(st.sampled_from(["pricing_page_view", "demo_request", "inquiry"]))


@given(
    threshold=st.integers(-5, 40),
    minimum=st.integers(0, 6),
    required=_KINDS,
    fit_required=st.booleans(),
    score=st.integers(-5, 40),
    count=st.integers(0, 6),
    kinds=_KINDS,
    fit=st.sampled_from(["pass", "fail", "unknown"]),
)
def test_mql_met_is_exactly_no_unmet_criterion(
    threshold, minimum, required, fit_required, score, count, kinds, fit
):
    rule = MQLRule(
        score_threshold=threshold,
        min_engagements=minimum,
        required_kinds=required,
        fit_required=fit_required,
    )
    values = {"score": score, "engagement_count": count, "kinds": set(kinds), "fit": fit}
    assert mql_met(rule, **values) is (not mql_unmet(rule, **values))
