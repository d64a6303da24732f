"""The one deadline function, clock in and deadlines out (SPEC §4)."""

import datetime as dt
from zoneinfo import ZoneInfo

import holidays
import pytest
import time_machine
from django.utils import timezone

from apps.criteria.clock import WorkingCalendar, add_working_time, sla_deadlines

TOKYO = ZoneInfo("Asia/Tokyo")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def office(tz, *, country=None):
    return WorkingCalendar(
        tz=tz,
        working_days=frozenset(range(5)),
        day_start=dt.time(9),
        day_end=dt.time(18),
        holidays=holidays.country_holidays(country) if country else frozenset(),
    )


def local(tz, *args):
    return dt.datetime(*args, tzinfo=tz)


@time_machine.travel(dt.datetime(2026, 11, 18, 10, 0, tzinfo=dt.UTC), tick=False)
def test_plain_clocks_are_24_and_48_hours_from_now():
    now = timezone.now()
    deadlines = sla_deadlines(now, accept_hours=24, process_hours=48, remind_before_hours=4)
    assert deadlines.accept_due_at == dt.datetime(2026, 11, 19, 10, tzinfo=dt.UTC)
    assert deadlines.process_due_at == dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
    assert deadlines.accept_remind_at == dt.datetime(2026, 11, 19, 6, tzinfo=dt.UTC)
    assert deadlines.process_remind_at == dt.datetime(2026, 11, 20, 6, tzinfo=dt.UTC)


def test_an_mql_on_friday_at_five_is_due_monday_and_tuesday_in_business_hours():
    friday_five = local(TOKYO, 2026, 11, 13, 17, 0)
    deadlines = sla_deadlines(
        friday_five,
        accept_hours=24,
        process_hours=48,
        remind_before_hours=4,
        calendar=office(TOKYO),
    )
    assert deadlines.accept_due_at == local(TOKYO, 2026, 11, 16, 17, 0)  # Monday
    assert deadlines.process_due_at == local(TOKYO, 2026, 11, 17, 17, 0)  # Tuesday
    # Reminders come 4 working hours before, inside the working day.
    assert deadlines.accept_remind_at == local(TOKYO, 2026, 11, 16, 13, 0)
    assert deadlines.process_remind_at == local(TOKYO, 2026, 11, 17, 13, 0)


def test_hours_short_of_a_day_count_working_hours_only():
    friday_five = local(TOKYO, 2026, 11, 13, 17, 0)
    calendar = office(TOKYO)
    assert add_working_time(friday_five, 4, calendar) == local(
        TOKYO, 2026, 11, 16, 12, 0
    )  # 1 h Fri + 3 h Mon
    assert add_working_time(friday_five, 30, calendar) == local(
        TOKYO, 2026, 11, 17, 14, 0
    )  # Mon 17:00 + 6 working h


def test_a_reminder_never_falls_before_the_clock_starts():
    start = local(TOKYO, 2026, 11, 16, 9, 0)
    deadlines = sla_deadlines(
        start, accept_hours=2, process_hours=3, remind_before_hours=4, calendar=office(TOKYO)
    )
    assert deadlines.accept_remind_at == start


def test_a_national_holiday_stops_the_clock():
    # Monday 23 November 2026 is Labour Thanksgiving Day in Japan.
    friday_five = local(TOKYO, 2026, 11, 20, 17, 0)
    assert add_working_time(friday_five, 24, office(TOKYO)) == local(TOKYO, 2026, 11, 23, 17, 0)
    assert add_working_time(friday_five, 24, office(TOKYO, country="JP")) == local(
        TOKYO, 2026, 11, 24, 17, 0
    )
    assert add_working_time(friday_five, 48, office(TOKYO, country="JP")) == local(
        TOKYO, 2026, 11, 25, 17, 0
    )


def test_a_start_before_opening_counts_from_opening():
    early = local(TOKYO, 2026, 11, 17, 6, 30)
    assert add_working_time(early, 2, office(TOKYO)) == local(TOKYO, 2026, 11, 17, 11, 0)


def test_a_start_on_a_weekend_counts_from_monday_morning():
    saturday = local(TOKYO, 2026, 11, 14, 12, 0)
    assert add_working_time(saturday, 1, office(TOKYO)) == local(TOKYO, 2026, 11, 16, 10, 0)


def test_wall_clock_windows_are_elapsed_time_across_a_dst_change():
    # Berlin leaves summer time on Sunday 25 October 2026 at 03:00 → 02:00.
    saturday_noon = local(BERLIN, 2026, 10, 24, 12, 0)
    due = add_working_time(saturday_noon, 24, None)
    assert due - saturday_noon == dt.timedelta(hours=24)
    assert due.astimezone(BERLIN).hour == 11  # the local clock fell back an hour


def test_business_hours_follow_the_local_clock_across_a_dst_change():
    # New York springs forward on Sunday 8 March 2026; office hours stay 9–18 local.
    friday_four = local(NEW_YORK, 2026, 3, 6, 16, 0)
    due = add_working_time(friday_four, 3, office(NEW_YORK))
    assert due.astimezone(NEW_YORK) == local(NEW_YORK, 2026, 3, 9, 10, 0)
    assert due - friday_four == dt.timedelta(
        days=2, hours=17
    )  # 65 h elapsed: the clock lost an hour
    next_day = add_working_time(friday_four, 24, office(NEW_YORK))
    assert next_day.astimezone(NEW_YORK) == local(NEW_YORK, 2026, 3, 9, 16, 0)
    assert next_day - friday_four == dt.timedelta(hours=71)


def test_a_naive_start_is_refused():
    with pytest.raises(ValueError):
        add_working_time(dt.datetime(2026, 1, 1, 9), 1, None)


def test_a_calendar_without_working_days_is_refused():
    with pytest.raises(ValueError):
        WorkingCalendar(
            tz=TOKYO, working_days=frozenset(), day_start=dt.time(9), day_end=dt.time(18)
        )
