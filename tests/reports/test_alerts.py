"""Each weekly alert fires just past its threshold and not at it (SPEC §6: 20%, 15%, 40%, 5 points)."""

from decimal import Decimal

import pytest
from django.utils import translation

from apps.reports.alerts import MIN_JUDGED_MQLS, report_alerts
from apps.reports.models import ReportSettings
from apps.reports.selectors import weekly_report_compute
from apps.reports.weeks import IsoWeek
from tests.reports.conftest import jst


def codes(rate, previous=None, thresholds=None):
    alerts = report_alerts(
        rate=None if rate is None else Decimal(rate),
        previous_rate=None if previous is None else Decimal(previous),
        thresholds=thresholds,
    )
    return [alert.code for alert in alerts]


@pytest.mark.parametrize(
    "rate, expected",
    [
        ("0.200", []),
        ("0.199", ["below_target"]),
        ("0.150", ["below_target"]),
        ("0.149", ["below_target", "criteria_too_loose"]),
        ("0.000", ["below_target", "criteria_too_loose"]),
        ("0.400", []),
        ("0.401", ["criteria_too_strict"]),
        ("1.000", ["criteria_too_strict"]),
    ],
)
def test_level_alerts_fire_past_the_threshold_and_not_at_it(rate, expected):
    assert codes(rate) == expected


@pytest.mark.parametrize(
    "previous, rate, expected",
    [
        ("0.300", "0.250", ["dropped"]),  # exactly 5 points: fires
        ("0.300", "0.251", []),  # 4.9 points
        ("0.250", "0.200", ["dropped"]),  # 5 points even where floats would make it 4.999…
        ("0.300", "0.350", []),  # a rise
    ],
)
def test_a_drop_of_five_points_or_more_fires(previous, rate, expected):
    assert codes(rate, previous) == expected


def test_no_alert_without_a_rate_and_no_drop_without_a_previous_rate():
    assert codes(None, "0.5") == []
    assert codes("0.3", None) == []


def test_thresholds_edited_in_admin_move_the_alerts():
    thresholds = {"target": "30", "too_loose": "25", "too_strict": "60", "drop_points": "10"}

    assert codes("0.299", thresholds=thresholds) == ["below_target"]
    assert codes("0.249", thresholds=thresholds) == ["below_target", "criteria_too_loose"]
    assert codes("0.500", thresholds=thresholds) == []
    assert codes("0.400", "0.491", thresholds=thresholds) == []
    assert codes("0.400", "0.500", thresholds=thresholds) == ["dropped"]


def test_messages_say_the_rate_and_the_threshold_as_people_write_them():
    with translation.override("en"):
        messages = [
            a.message for a in report_alerts(rate=Decimal("0.175"), previous_rate=Decimal("0.25"))
        ]

    assert messages == [
        "MQL→SQL 17.5% is below the 20% target",
        "MQL→SQL fell 7.5 points, from 25% last week to 17.5%",
    ]


def test_messages_read_in_japanese_for_japanese_readers():
    with translation.override("ja"):
        message = report_alerts(rate=Decimal("0.1"), previous_rate=None)[1].message

    assert "10%" in message and "15%" in message
    assert "MQL criteria" not in message


# --- the same boundaries through the report builder, on a real history -----------------------------

W20 = IsoWeek(2026, 20)
AS_OF = jst(2026, 5, 18, 8)


def cohort(history, owner, *, mqls, sqls, day):
    """``mqls`` leads promoted on ``day`` of May 2026 (09:00 JST), the first ``sqls`` qualified next day."""
    for i in range(mqls):
        lead = history.lead()
        history.promote_by_hand(lead, jst(2026, 5, day, 9), owner=owner)
        if i < sqls:
            history.step(lead, "accept", jst(2026, 5, day, 10))
            history.step(lead, "qualify", jst(2026, 5, day + 1, 9))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "this_week, last_week, expected",
    [
        ((1, 5), None, []),  # 20%: at the target
        ((1, 6), None, ["below_target"]),  # 16.7%
        ((3, 20), None, ["below_target"]),  # 15%: at the "too loose" line
        ((1, 7), None, ["below_target", "criteria_too_loose"]),  # 14.3%
        ((2, 5), None, []),  # 40%: at the "too strict" line
        ((3, 7), None, ["criteria_too_strict"]),  # 42.9%
        ((7, 20), (2, 5), ["dropped"]),  # 40% -> 35%: exactly 5 points
        ((9, 25), (2, 5), []),  # 40% -> 36%: 4 points
    ],
    ids=[
        "at-target",
        "below-target",
        "at-loose",
        "below-loose",
        "at-strict",
        "above-strict",
        "drop-5",
        "drop-4",
    ],
)
def test_the_report_raises_each_alert_just_past_its_threshold(
    tokyo, team, history, this_week, last_week, expected
):
    sqls, mqls = this_week
    cohort(history, team["rita"], mqls=mqls, sqls=sqls, day=12)
    if last_week:
        # Last week's MQLs (5 May), qualified on 6 May: counted in the rate last week's report showed.
        cohort(history, team["rita"], mqls=last_week[1], sqls=last_week[0], day=5)

    doc = weekly_report_compute(week=W20, as_of=AS_OF).document

    assert [alert["code"] for alert in doc["alerts"]] == expected


@pytest.mark.django_db
def test_the_alert_thresholds_come_from_the_admin_edited_settings(tokyo, team, history):
    settings = ReportSettings.load()
    settings.target_rate_percent = Decimal("50")
    settings.save()
    cohort(history, team["rita"], mqls=5, sqls=2, day=12)

    doc = weekly_report_compute(week=W20, as_of=AS_OF).document

    assert doc["alerts"] == [
        {"code": "below_target", "message": "MQL→SQL 40% is below the 50% target"}
    ]


def test_a_filtered_report_leaves_out_the_criteria_alerts_and_small_weeks():
    low, before = Decimal("0.1"), Decimal("0.3")
    whole = report_alerts(rate=low, previous_rate=before, mqls=3)
    filtered = report_alerts(rate=low, previous_rate=before, whole_team=False, mqls=MIN_JUDGED_MQLS)
    tiny = report_alerts(rate=low, previous_rate=before, whole_team=False, mqls=MIN_JUDGED_MQLS - 1)
    strict = report_alerts(rate=Decimal("0.9"), previous_rate=None, whole_team=False, mqls=50)

    assert [a.code for a in whole] == ["below_target", "criteria_too_loose", "dropped"]
    assert [a.code for a in filtered] == ["below_target", "dropped"]
    assert tiny == [] and strict == []
