"""The reader's time zone: chosen on the account, else the browser's, else the site's.

Every date a page shows is in it (``UserTimeZoneMiddleware`` activates it), written in one
absolute format per language (``leadflow/formats``) or as one relative span (``span_text``),
the same words leadflow.js keeps live.
"""

import datetime as dt
import functools
import zoneinfo

from django.conf import settings
from django.utils.translation import get_language, gettext

# Set by leadflow.js from the browser (Intl) while the account names no zone.
BROWSER_ZONE_COOKIE = "leadflow_tz"
# Offered in the header's chooser (with the reader's own zone, if it is another).
COMMON_ZONES = (
    "UTC",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Asia/Shanghai",
    "Asia/Singapore",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
)


@functools.cache
def known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def zone_is_known(name: str) -> bool:
    return bool(name) and name in known_zones()


def zone_for_request(request) -> str:
    """The account's zone, else the browser's (cookie), else the site's ``TIME_ZONE``."""
    user = getattr(request, "user", None)
    chosen = getattr(user, "time_zone", "") if user is not None and user.is_authenticated else ""
    if zone_is_known(chosen):
        return chosen
    browser = request.COOKIES.get(BROWSER_ZONE_COOKIE, "")
    if zone_is_known(browser):
        return browser
    return settings.TIME_ZONE


def span_text(delta: dt.timedelta) -> str:
    """'2 d 3 h', '13 h 5 min', '4 min': a span in the words leadflow.js uses for live countdowns."""
    minutes = max(1, int(abs(delta.total_seconds()) // 60))
    days, hours, mins = minutes // 1440, (minutes % 1440) // 60, minutes % 60
    day_word, hour_word, minute_word = span_words(get_language())
    parts = []
    if days:
        parts.append(day_word.format(n=days))
    if hours or days:
        parts.append(hour_word.format(n=hours))
    if not days:
        parts.append(minute_word.format(n=mins))
    return " ".join(parts)


@functools.cache
def span_words(language: str | None) -> tuple[str, str, str]:
    """The words of ``span_text`` in ``language`` (the active one), looked up once: lists draw
    a countdown on each of up to 70 cards."""
    return gettext("{n} d"), gettext("{n} h"), gettext("{n} min")
