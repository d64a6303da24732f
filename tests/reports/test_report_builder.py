"""The §6 document on a hand-built history, every figure worked out by hand (SQLite and PostgreSQL).

The site runs in Tokyo; the week is 2026-W20, Monday 11 May 00:00 JST to
Monday 18 May 00:00 JST, and the report is built at its scheduled time,
Monday 18 May 08:00 JST. SLA policy: accept within 24 h, process within 48 h.
"""

import datetime as dt

import pytest

from apps.reports.selectors import weekly_report_compute
from apps.reports.weeks import IsoWeek
from tests.reports.conftest import REPORT_KEYS, jst

pytestmark = pytest.mark.django_db

W20 = IsoWeek(2026, 20)
AS_OF = jst(2026, 5, 18, 8)


@pytest.fixture
def week20(tokyo, team, history):
    """Eight MQLs in the week (L1–L8) and the leads around them that must not count."""
    rita, oscar = team["rita"], team["oscar"]
    h = history
    leads = {}

    # L1 webinar, Rita, by hand, at the very first instant of the week: accepted in 2 h,
    # qualified after 34 h, converted.
    leads["L1"] = lead = h.lead("webinar")
    h.promote_by_hand(lead, jst(2026, 5, 11, 0, 0), owner=rita)
    h.step(lead, "accept", jst(2026, 5, 11, 2))
    h.step(lead, "qualify", jst(2026, 5, 12, 10))
    h.step(lead, "convert", jst(2026, 5, 14, 10))

    # L2 website, Oscar, by hand: accepted late (31 h 20 min), qualified late (49 h),
    # converted only after the report was built.
    leads["L2"] = lead = h.lead("website")
    h.promote_by_hand(lead, jst(2026, 5, 11, 10), owner=oscar)
    h.step(lead, "accept", jst(2026, 5, 12, 17, 20))
    h.step(lead, "qualify", jst(2026, 5, 13, 11))
    h.step(lead, "convert", jst(2026, 5, 18, 9))

    # Criteria v1 (the default) promotes L3, L4 and L8.
    # L3 website, Rita: accepted in 4 h, rejected (no budget) in 6 h, recycled, and
    # promoted again by hand in the same week for Oscar: still one MQL, Rita's, v1.
    leads["L3"] = lead = h.lead("website")
    h.promote_by_scoring(lead, jst(2026, 5, 12, 9), owner=rita)
    h.step(lead, "accept", jst(2026, 5, 12, 13))
    h.step(lead, "reject", jst(2026, 5, 12, 15), reason="no_budget")
    h.recycle(lead, jst(2026, 5, 13, 9))
    h.promote_by_hand(lead, jst(2026, 5, 17, 10), owner=oscar)

    # L4 website, Oscar: accepted in 10 h, then neither qualified nor rejected; its
    # processing deadline (15 May 12:00) has passed by the report.
    leads["L4"] = lead = h.lead("website")
    h.promote_by_scoring(lead, jst(2026, 5, 13, 12), owner=oscar)
    h.step(lead, "accept", jst(2026, 5, 13, 22))

    # L8 webinar, Oscar: accepted in 7.5 h; qualified on 19 May, after the report, and
    # its processing deadline (18 May 09:00) is still ahead at 08:00: not measured yet.
    leads["L8"] = lead = h.lead("webinar")
    h.promote_by_scoring(lead, jst(2026, 5, 16, 9), owner=oscar)
    h.step(lead, "accept", jst(2026, 5, 16, 16, 30))
    h.step(lead, "qualify", jst(2026, 5, 19, 9))

    # Criteria v2 promotes L5 and L6.
    h.publish_criteria(
        score_threshold=10,
        min_engagements=3,
        required_kinds=["pricing_page_view"],
        fit_required=True,
    )
    # L5 ads, Rita: never accepted, rejected (not a fit) after 8 h.
    leads["L5"] = lead = h.lead("ads")
    h.promote_by_scoring(lead, jst(2026, 5, 14, 12), owner=rita)
    h.step(lead, "reject", jst(2026, 5, 14, 20), reason="not_a_fit")
    # L6 ads, Oscar: promoted Sunday 20:00, accepted only after the report was built;
    # both of its deadlines are still ahead at 08:00 Monday.
    leads["L6"] = lead = h.lead("ads")
    h.promote_by_scoring(lead, jst(2026, 5, 17, 20), owner=oscar)
    h.step(lead, "accept", jst(2026, 5, 18, 10))

    # L7 webinar, Rita, by hand: accepted in 1 h, qualified after 24 h.
    leads["L7"] = lead = h.lead("webinar")
    h.promote_by_hand(lead, jst(2026, 5, 15, 9), owner=rita)
    h.step(lead, "accept", jst(2026, 5, 15, 10))
    h.step(lead, "qualify", jst(2026, 5, 16, 9))

    # Around the week. L9: an MQL of the week before (Sunday 23:30), qualified and
    # converted in this week: an SQL and an opportunity of W20, not one of its MQLs.
    leads["L9"] = lead = h.lead("website")
    h.promote_by_hand(lead, jst(2026, 5, 10, 23, 30), owner=rita)
    h.step(lead, "accept", jst(2026, 5, 11, 1))
    h.step(lead, "qualify", jst(2026, 5, 11, 12))
    h.step(lead, "convert", jst(2026, 5, 12, 9))
    # L10: an MQL of 8 May rejected in this week: its reason counts in W20's reject reasons.
    leads["L10"] = lead = h.lead("ads")
    h.promote_by_hand(lead, jst(2026, 5, 8, 10), owner=oscar)
    h.step(lead, "reject", jst(2026, 5, 11, 9), reason="no_budget")
    # L11: promoted at the first instant of the next week, rejected an hour later: neither counts.
    leads["L11"] = lead = h.lead("webinar")
    h.promote_by_hand(lead, jst(2026, 5, 18, 0, 0), owner=rita)
    h.step(lead, "reject", jst(2026, 5, 18, 1), reason="bad_timing")
    return leads


def test_the_mqls_of_a_week_are_the_leads_promoted_in_it_each_counted_once(week20):
    doc = weekly_report_compute(week=W20, as_of=AS_OF).document

    assert doc["week"] == "2026-W20"
    assert doc["mqls"] == 8  # L1–L8; not L9 (Sunday before), not L11 (Monday after); L3 once


def test_mql_to_sql_rate_is_the_share_of_the_weeks_mqls_qualified_by_the_report(week20):
    doc = weekly_report_compute(week=W20, as_of=AS_OF).document

    # L1, L2, L7 qualified before Monday 08:00; L8 only on 19 May.
    assert doc["mql_to_sql_rate"] == 0.375  # 3 / 8


def test_sqls_are_the_weeks_mqls_that_reached_sql_and_opportunities_follow_the_weeks_sqls(week20):
    doc = weekly_report_compute(week=W20, as_of=AS_OF).document

    # MQLs of W20 that reached SQL: L1, L2, L7 (so 3 of 8, the rate's numerator).
    assert doc["sqls"] == 3
    assert doc["sqls"] / doc["mqls"] == pytest.approx(doc["mql_to_sql_rate"], abs=0.001)
    # Qualified in W20: L1, L2, L7 and L9 (an MQL of the week before). Converted by the
    # report: L1 and L9; L2 converted an hour after it.
    assert doc["opportunities"] == 2
    assert doc["sql_to_opportunity_rate"] == 0.5


def test_conversion_is_split_by_source_owner_and_criteria_version(week20):
    doc = weekly_report_compute(week=W20, as_of=AS_OF).document

    assert doc["by_source"] == {
        "webinar": {"mqls": 3, "sqls": 2, "mql_to_sql_rate": 0.667},  # L1, L7 of L1, L7, L8
        "website": {"mqls": 3, "sqls": 1, "mql_to_sql_rate": 0.333},  # L2 of L2, L3, L4
        "ads": {"mqls": 2, "sqls": 0, "mql_to_sql_rate": 0.0},  # L5, L6
    }
    assert list(doc["by_source"]) == ["webinar", "website", "ads"]  # most MQLs first
    # The owner each MQL was given at its (first) promotion of the week: L3 is Rita's.
    assert doc["by_owner"] == {
        "rita": {"mqls": 4, "sqls": 2, "mql_to_sql_rate": 0.5},  # L1, L3, L5, L7
        "oscar": {"mqls": 4, "sqls": 1, "mql_to_sql_rate": 0.25},  # L2, L4, L6, L8
    }
    assert doc["by_criteria_version"] == {
        "manual": {"mqls": 3, "sqls": 3, "mql_to_sql_rate": 1.0},  # L1, L2, L7
        "1": {"mqls": 3, "sqls": 0, "mql_to_sql_rate": 0.0},  # L3, L4, L8
        "2": {"mqls": 2, "sqls": 0, "mql_to_sql_rate": 0.0},  # L5, L6
    }


def test_response_time_median_and_p90_interpolate_between_the_accept_waits(week20):
    doc = weekly_report_compute(week=W20, as_of=AS_OF).document

    # Waits in hours, sorted: 1 (L7), 2 (L1), 4 (L3), 7.5 (L8), 10 (L4), 31.333 (L2).
    # Median: position 2.5 -> 4 + 0.5 * (7.5 - 4) = 5.75.
    # p90: position 4.5 -> 10 + 0.5 * (31.333 - 10) = 20.667.
    assert doc["response_time_hours"] == {"median": 5.75, "p90": 20.67}


def test_sla_rates_leave_out_mqls_whose_window_is_still_open(week20):
    doc = weekly_report_compute(week=W20, as_of=AS_OF).document

    # Answered (accepted or rejected) in time: L1, L3, L4, L7, L8 and L5 (rejected after 8 h,
    # never accepted); late L2. L6's deadline (18 May 20:00) is still ahead: not counted.
    assert doc["sla"]["accepted_in_time_rate"] == 0.857  # 6 / 7
    # Process: in time L1, L3 (rejected), L5 (rejected), L7; late L2; deadline passed L4.
    # L6 and L8 (due 18 May 09:00) are still inside their window.
    assert doc["sla"]["processed_in_time_rate"] == 0.667  # 4 / 6


def test_reject_reasons_count_every_rejection_made_in_the_week(week20):
    doc = weekly_report_compute(week=W20, as_of=AS_OF).document

    # L3 and L10 (an MQL of the week before) for no budget, L5 not a fit; L11's is next week's.
    assert doc["reject_reasons"] == {"no_budget": 2, "not_a_fit": 1}
    assert list(doc["reject_reasons"]) == ["no_budget", "not_a_fit"]


def test_a_week_inside_the_target_band_with_no_drop_raises_no_alert(week20):
    doc = weekly_report_compute(week=W20, as_of=AS_OF).document

    # 37.5% is between 20% and 40%. The week before (L9, L10) stood at 0% one week
    # earlier (L9 was qualified at noon on Monday, after last week's report): no drop.
    assert doc["alerts"] == []


def test_the_document_has_exactly_the_keys_of_the_api(week20):
    doc = weekly_report_compute(week=W20, as_of=AS_OF).document

    assert list(doc) == REPORT_KEYS


def test_conversions_after_the_report_count_when_it_is_rebuilt_later(week20):
    later = weekly_report_compute(week=W20, as_of=jst(2026, 5, 25, 8)).document

    # By 25 May L8 has been qualified (19 May), L2 converted (18 May 09:00) and L6 accepted
    # (14 h after promotion, inside its accept window; processing deadline now passed).
    assert later["mql_to_sql_rate"] == 0.5  # 4 / 8
    assert (later["opportunities"], later["sql_to_opportunity_rate"]) == (3, 0.75)
    assert later["sla"] == {
        "accepted_in_time_rate": 0.875,
        "processed_in_time_rate": 0.5,
    }  # 7/8 (only L2 answered late), 4/8
    assert later["by_owner"]["oscar"] == {"mqls": 4, "sqls": 2, "mql_to_sql_rate": 0.5}


def test_an_empty_week_has_null_rates_and_no_alerts(tokyo, team):
    doc = weekly_report_compute(week=IsoWeek(2026, 30), as_of=jst(2026, 7, 27, 8)).document

    assert doc == {
        "week": "2026-W30",
        "mqls": 0,
        "sqls": 0,
        "mql_to_sql_rate": None,
        "opportunities": 0,
        "sql_to_opportunity_rate": None,
        "by_source": {},
        "by_owner": {},
        "by_criteria_version": {},
        "response_time_hours": {"median": None, "p90": None},
        "sla": {"accepted_in_time_rate": None, "processed_in_time_rate": None},
        "reject_reasons": {},
        "alerts": [],
    }


def test_an_mql_promoted_with_no_rep_taking_leads_counts_as_unassigned(tokyo, team, history):
    lead = history.lead("event")
    history.promote_by_hand(lead, jst(2026, 5, 12, 9), owner=None)

    doc = weekly_report_compute(week=W20, as_of=AS_OF).document

    assert doc["by_owner"] == {"unassigned": {"mqls": 1, "sqls": 0, "mql_to_sql_rate": 0.0}}
    # Nobody could accept it: its accept deadline passed unmet.
    assert doc["sla"]["accepted_in_time_rate"] == 0.0


def test_an_mql_rejected_before_its_accept_deadline_was_answered_in_time_and_one_after_was_not(
    tokyo, team, history
):
    in_time, late = history.lead(), history.lead()
    history.promote_by_hand(in_time, jst(2026, 5, 12, 9), owner=team["rita"])
    history.step(in_time, "reject", jst(2026, 5, 13, 8), reason="no_need")  # 23 h
    history.promote_by_hand(late, jst(2026, 5, 12, 9), owner=team["rita"])
    history.step(late, "reject", jst(2026, 5, 13, 10), reason="no_need")  # 25 h

    doc = weekly_report_compute(week=W20, as_of=AS_OF).document

    assert doc["sla"]["accepted_in_time_rate"] == 0.5
    # Nobody accepted either: there is no response time to measure.
    assert doc["response_time_hours"] == {"median": None, "p90": None}


def test_one_mql_has_its_wait_as_both_median_and_p90(tokyo, team, history):
    lead = history.lead()
    history.promote_by_hand(lead, jst(2026, 5, 12, 9), owner=team["rita"])
    history.step(lead, "accept", jst(2026, 5, 12, 9, 25))

    doc = weekly_report_compute(week=W20, as_of=AS_OF).document

    assert doc["response_time_hours"] == {"median": 0.42, "p90": 0.42}  # 25 min = 0.4167 h


# --- the year boundary --------------------------------------------------------------------------


def test_2026_w01_starts_on_monday_29_december_2025(tokyo, team, history):
    rita = team["rita"]
    before, first, last, after = (
        history.lead(email=f"{n}@example.com") for n in ("before", "first", "last", "after")
    )
    history.promote_by_hand(before, jst(2025, 12, 28, 23, 59), owner=rita)  # Sunday: 2025-W52
    # Monday 29 December 00:30 JST is still Sunday 28 December in UTC.
    history.promote_by_hand(first, dt.datetime(2025, 12, 28, 15, 30, tzinfo=dt.UTC), owner=rita)
    history.promote_by_hand(
        last, jst(2026, 1, 4, 23, 59), owner=rita
    )  # Sunday 4 January: still W01
    history.promote_by_hand(after, jst(2026, 1, 5, 0, 0), owner=rita)  # Monday 5 January: W02

    w01 = weekly_report_compute(week=IsoWeek.parse("2026-W01"), as_of=jst(2026, 1, 5, 8)).document
    w52 = weekly_report_compute(week=IsoWeek.parse("2025-W52"), as_of=jst(2026, 1, 5, 8)).document

    assert (w01["week"], w01["mqls"]) == ("2026-W01", 2)
    assert (w52["week"], w52["mqls"]) == ("2025-W52", 1)


def test_2026_w53_runs_into_january_2027_and_is_followed_by_2027_w01(tokyo, team, history):
    # 2026 began on a Thursday, so it has 53 ISO weeks (2025 and 2027 have 52).
    rita = team["rita"]
    new_years_eve, new_years_day, monday = (
        history.lead(email=f"{n}@example.com") for n in ("eve", "day", "mon")
    )
    history.promote_by_hand(new_years_eve, jst(2026, 12, 31, 18), owner=rita)
    history.promote_by_hand(new_years_day, jst(2027, 1, 3, 23), owner=rita)
    history.promote_by_hand(monday, jst(2027, 1, 4, 9), owner=rita)

    w53 = weekly_report_compute(week=IsoWeek.parse("2026-W53"), as_of=jst(2027, 1, 11, 8)).document

    assert (w53["week"], w53["mqls"]) == ("2026-W53", 2)
    assert IsoWeek.parse("2027-W01").previous() == IsoWeek(2026, 53)
