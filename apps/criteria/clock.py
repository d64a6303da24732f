"""SLA deadlines: one pure function, clock in, deadlines out (SPEC §4).

Promotion stamps every deadline with ``sla_deadlines``; the inbox countdown
reads those stamps, the sweep compares them with its clock and the reports
measure compliance against them, so all three agree by construction.

Without business hours a window is elapsed time: 24 h is 24 real hours, across
a daylight-saving change too. With business hours only working time counts
(the policy's working days and hours in the site's time zone, minus the
national holidays of its country), and each 24 h of a window is one working day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container
from dataclasses import dataclass
from zoneinfo import ZoneInfo

UTC = dt.UTC


@dataclass(frozen=True)
class WorkingCalendar:
    tz: ZoneInfo
    working_days: frozenset[int]  # 0 = Monday … 6 = Sunday
    day_start: dt.time
    day_end: dt.time
    holidays: Container[dt.date] = frozenset()

    def __post_init__(self):
        if not self.working_days:
            raise ValueError("a working calendar needs at least one working day")
        if self.day_start >= self.day_end:
            raise ValueError("the working day must end after it starts")

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() in self.working_days and day not in self.holidays

    def window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """The working window of ``day`` in UTC (local hours, so DST is respected)."""
        start = dt.datetime.combine(day, self.day_start, tzinfo=self.tz).astimezone(UTC)
        end = dt.datetime.combine(day, self.day_end, tzinfo=self.tz).astimezone(UTC)
        return start, end


@dataclass(frozen=True)
class SLADeadlines:
    accept_due_at: dt.datetime
    process_due_at: dt.datetime
    accept_remind_at: dt.datetime
    process_remind_at: dt.datetime


# A calendar with no working day for years is a configuration error, not a loop.
MAX_DAYS_SCANNED = 3 * 366


def add_working_time(
    start: dt.datetime, hours: float, calendar: WorkingCalendar | None
) -> dt.datetime:
    """The moment ``hours`` of SLA time after ``start`` (an aware datetime).

    Wall clock (no calendar): elapsed time. With a calendar, every whole 24 h
    of the window is one working day (the same local time on the next working
    day) and the remainder is counted in working hours, so "24 h" from Friday
    17:00 is Monday 17:00 — what a team means by "within one business day".
    A start outside working time counts from the next opening.
    """
    start = _utc(start)
    if calendar is None:
        return start + dt.timedelta(hours=hours)
    moment = _next_working_moment(start, calendar)
    whole_days, rest = divmod(hours, 24)
    for _ in range(int(whole_days)):
        moment = _same_time_next_working_day(moment, calendar)
    return _add_working_hours(moment, dt.timedelta(hours=rest), calendar)


def subtract_working_time(
    end: dt.datetime, hours: float, calendar: WorkingCalendar | None
) -> dt.datetime:
    """The moment ``hours`` of working time before ``end`` (for reminders)."""
    end = _utc(end)
    if calendar is None:
        return end - dt.timedelta(hours=hours)
    remaining = dt.timedelta(hours=hours)
    day = end.astimezone(calendar.tz).date()
    for _ in range(MAX_DAYS_SCANNED):
        if calendar.is_working_day(day):
            window_start, window_end = calendar.window(day)
            finish = min(window_end, end)
            if finish > window_start:
                available = finish - window_start
                if remaining <= available:
                    return finish - remaining
                remaining -= available
        day -= dt.timedelta(days=1)
    raise ValueError(
        "no working time found within three years; check the working days and holidays"
    )


def _utc(moment: dt.datetime) -> dt.datetime:
    # Python subtracts two datetimes sharing a ZoneInfo as wall-clock times,
    # an hour off across DST: all arithmetic here is done in UTC.
    if moment.tzinfo is None:
        raise ValueError("SLA times must be timezone-aware")
    return moment.astimezone(UTC)


def _next_working_moment(moment: dt.datetime, calendar: WorkingCalendar) -> dt.datetime:
    day = moment.astimezone(calendar.tz).date()
    for _ in range(MAX_DAYS_SCANNED):
        if calendar.is_working_day(day):
            window_start, window_end = calendar.window(day)
            if moment < window_end:
                return max(moment, window_start)
        day += dt.timedelta(days=1)
    raise ValueError("no working day found within three years; check the working days and holidays")


def _same_time_next_working_day(moment: dt.datetime, calendar: WorkingCalendar) -> dt.datetime:
    local = moment.astimezone(calendar.tz)
    day = local.date() + dt.timedelta(days=1)
    for _ in range(MAX_DAYS_SCANNED):
        if calendar.is_working_day(day):
            return dt.datetime.combine(
                day, local.time().replace(tzinfo=None), tzinfo=calendar.tz
            ).astimezone(UTC)
        day += dt.timedelta(days=1)
    raise ValueError("no working day found within three years; check the working days and holidays")


def _add_working_hours(
    start: dt.datetime, remaining: dt.timedelta, calendar: WorkingCalendar
) -> dt.datetime:
    day = start.astimezone(calendar.tz).date()
    for _ in range(MAX_DAYS_SCANNED):
        if calendar.is_working_day(day):
            window_start, window_end = calendar.window(day)
            begin = max(window_start, start)
            if begin < window_end:
                available = window_end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
        day += dt.timedelta(days=1)
    raise ValueError(
        "no working time found within three years; check the working days and holidays"
    )


def sla_deadlines(
    start: dt.datetime,
    *,
    accept_hours: float,
    process_hours: float,
    remind_before_hours: float,
    calendar: WorkingCalendar | None = None,
) -> SLADeadlines:
    """Deadlines and reminder times of an MQL whose clocks start at ``start``.

    A reminder falls ``remind_before_hours`` of working time before its
    deadline (never before the clock starts), so with business hours it lands
    inside the working day rather than at 5 a.m.
    """
    start = _utc(start)
    accept_due = add_working_time(start, accept_hours, calendar)
    process_due = add_working_time(start, process_hours, calendar)
    return SLADeadlines(
        accept_due_at=accept_due,
        process_due_at=process_due,
        accept_remind_at=max(
            start, subtract_working_time(accept_due, remind_before_hours, calendar)
        ),
        process_remind_at=max(
            start, subtract_working_time(process_due, remind_before_hours, calendar)
        ),
    )
