"""ISO weeks in the site's time zone: the reports' unit of time.

Week ``2026-W47`` runs from Monday 00:00 to the next Monday 00:00 in
``settings.TIME_ZONE`` (so a week is 167 or 169 hours long across a daylight
saving change). ``IsoWeek.parse`` is strict: "2026-W53" does not exist (2026
has 52 ISO weeks) and "2026-47" is not the format.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

WEEK_FORMAT = re.compile(r"^(\d{4})-W(\d{2})$")


def site_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """``"2026-W47"`` -> IsoWeek(2026, 47); ValueError with a readable message otherwise."""
        match = WEEK_FORMAT.match((text or "").strip())
        if not match:
            raise ValueError(
                _("'%(text)s' is not an ISO week; write it as YYYY-Www, e.g. 2026-W47.")
                % {"text": text}
            )
        year, week = int(match.group(1)), int(match.group(2))
        try:
            dt.date.fromisocalendar(year, week, 1)
        except ValueError:
            weeks_in_year = dt.date(year, 12, 28).isocalendar().week if year >= 1 else 0
            raise ValueError(
                _("'%(text)s' is not an ISO week: %(year)s has %(weeks)s weeks.")
                % {"text": text, "year": year, "weeks": weeks_in_year}
            ) from None
        return cls(year, week)

    @classmethod
    def containing(cls, moment: dt.datetime) -> IsoWeek:
        """The week that ``moment`` (aware) falls in, in the site's time zone."""
        local = timezone.localtime(moment, site_zone())
        iso = local.date().isocalendar()
        return cls(iso.year, iso.week)

    @classmethod
    def current(cls) -> IsoWeek:
        return cls.containing(timezone.now())

    def __str__(self) -> str:
        return f"{self.year:04d}-W{self.week:02d}"

    @property
    def monday(self) -> dt.date:
        return dt.date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> dt.date:
        return self.monday + dt.timedelta(days=6)

    @property
    def start(self) -> dt.datetime:
        """Monday 00:00 in the site's time zone."""
        return dt.datetime.combine(self.monday, dt.time(0), tzinfo=site_zone())

    @property
    def end(self) -> dt.datetime:
        """The next Monday 00:00 (exclusive)."""
        return self.next().start

    def next(self) -> IsoWeek:
        iso = (self.monday + dt.timedelta(weeks=1)).isocalendar()
        return IsoWeek(iso.year, iso.week)

    def previous(self) -> IsoWeek:
        iso = (self.monday - dt.timedelta(weeks=1)).isocalendar()
        return IsoWeek(iso.year, iso.week)

    def is_complete(self, now: dt.datetime) -> bool:
        return self.end <= now

    def last(self, count: int) -> list[IsoWeek]:
        """The ``count`` weeks ending with this one, oldest first."""
        weeks = [self]
        while len(weeks) < count:
            weeks.append(weeks[-1].previous())
        return weeks[::-1]


DEFAULT_WINDOW_WEEKS = 12
MAX_WINDOW_WEEKS = 52


@dataclass(frozen=True)
class WeekWindow:
    """A run of whole ISO weeks, ``first`` to ``last`` inclusive: the MQL cohorts a report looks at."""

    first: IsoWeek
    last: IsoWeek

    @classmethod
    def ending(cls, last: IsoWeek, weeks: int = DEFAULT_WINDOW_WEEKS) -> WeekWindow:
        return cls(last.last(weeks)[0], last)

    @classmethod
    def default(cls, now: dt.datetime | None = None) -> WeekWindow:
        """The last 12 complete weeks."""
        return cls.ending(IsoWeek.containing(now or timezone.now()).previous())

    @classmethod
    def parse(
        cls, first: str | None, last: str | None, *, now: dt.datetime | None = None
    ) -> WeekWindow:
        """The window from ``first`` to ``last`` ("YYYY-Www"; either may be blank).

        A blank ``last`` is the last complete week; a blank ``first`` makes the
        window 12 weeks long. ValueError, with a readable message, for a
        malformed week, a week that has not started, ``first`` after ``last``,
        or a window over 52 weeks.
        """
        now = now or timezone.now()
        last_week = IsoWeek.parse(last) if last else IsoWeek.containing(now).previous()
        if last_week.start > now:
            raise ValueError(_("%(week)s has not started yet.") % {"week": last_week})
        if not first:
            return cls.ending(last_week)
        first_week = IsoWeek.parse(first)
        if first_week > last_week:
            raise ValueError(
                _("The window starts (%(first)s) after it ends (%(last)s).")
                % {"first": first_week, "last": last_week}
            )
        window = cls(first_week, last_week)
        if window.length > MAX_WINDOW_WEEKS:
            raise ValueError(
                _("%(first)s to %(last)s is %(n)s weeks; look at %(max)s weeks or fewer.")
                % {
                    "first": first_week,
                    "last": last_week,
                    "n": window.length,
                    "max": MAX_WINDOW_WEEKS,
                }
            )
        return window

    @property
    def weeks(self) -> list[IsoWeek]:
        weeks = [self.first]
        while weeks[-1] < self.last:
            weeks.append(weeks[-1].next())
        return weeks

    @property
    def length(self) -> int:
        return (self.last.monday - self.first.monday).days // 7 + 1

    @property
    def start(self) -> dt.datetime:
        return self.first.start

    @property
    def end(self) -> dt.datetime:
        """Exclusive: the Monday after the last week."""
        return self.last.end

    def __str__(self) -> str:
        return f"{self.first}–{self.last}" if self.first != self.last else str(self.first)
