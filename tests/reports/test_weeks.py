"""ISO weeks in the site's time zone: parsed strictly, bounded by local Monday midnights."""

import datetime as dt

import pytest

from apps.reports.weeks import IsoWeek
from tests.reports.conftest import TOKYO, jst


@pytest.mark.parametrize(
    "text, message",
    [
        ("2025-W53", "2025 has 52 weeks"),
        ("2027-W53", "2027 has 52 weeks"),
        ("2026-W00", "2026 has 53 weeks"),
        ("2026-47", "write it as YYYY-Www"),
        ("2026-W7", "write it as YYYY-Www"),
        ("2026W47", "write it as YYYY-Www"),
        ("", "write it as YYYY-Www"),
    ],
)
def test_a_week_that_does_not_exist_or_is_misspelt_is_refused_with_a_reason(text, message):
    with pytest.raises(ValueError, match=message):
        IsoWeek.parse(text)


def test_2026_has_a_53rd_week_that_ends_in_2027():
    week = IsoWeek.parse("2026-W53")

    assert (week.monday, week.sunday) == (dt.date(2026, 12, 28), dt.date(2027, 1, 3))
    assert week.next() == IsoWeek(2027, 1)


def test_2026_w01_starts_in_2025():
    week = IsoWeek.parse("2026-W01")

    assert (week.monday, week.sunday) == (dt.date(2025, 12, 29), dt.date(2026, 1, 4))
    assert week.previous() == IsoWeek(2025, 52)
    assert str(week) == "2026-W01"


def test_a_week_runs_from_monday_midnight_to_monday_midnight_in_the_site_time_zone(tokyo):
    week = IsoWeek.parse("2026-W20")

    assert week.start == jst(2026, 5, 11)
    assert week.end == jst(2026, 5, 18)
    assert week.start.astimezone(dt.UTC) == dt.datetime(2026, 5, 10, 15, tzinfo=dt.UTC)
    assert IsoWeek.containing(dt.datetime(2026, 5, 10, 15, 0, tzinfo=dt.UTC)) == week
    assert IsoWeek.containing(dt.datetime(2026, 5, 10, 14, 59, tzinfo=dt.UTC)) == IsoWeek(2026, 19)


def test_a_week_across_a_daylight_saving_change_is_an_hour_short(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    week = IsoWeek.parse("2026-W13")  # clocks go forward on Sunday 29 March 2026

    utc = dt.UTC
    assert week.end.astimezone(utc) - week.start.astimezone(utc) == dt.timedelta(hours=167)


def test_the_last_weeks_run_oldest_first_across_new_year():
    assert [str(w) for w in IsoWeek(2027, 2).last(4)] == [
        "2026-W52",
        "2026-W53",
        "2027-W01",
        "2027-W02",
    ]


def test_a_week_is_complete_once_its_last_instant_has_passed(tokyo):
    week = IsoWeek(2026, 20)

    assert not week.is_complete(jst(2026, 5, 17, 23, 59))
    assert week.is_complete(dt.datetime(2026, 5, 18, tzinfo=TOKYO))
