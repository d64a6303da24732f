"""Reads of events: the feed's pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from apps.webhooks.models import Event

FEED_DEFAULT_LIMIT = 100
FEED_MAX_LIMIT = 500


@dataclass(frozen=True)
class EventFeedPage:
    events: list[Event]
    cursor: str | None  # the id to ask after next time
    has_more: bool


def event_feed_page(
    *, after: str | None, types: Sequence[str] = (), limit: str | int | None = None
) -> EventFeedPage:
    """The events placed after event ``after`` (an id), of ``types`` (all when empty), in order.

    Raises ``ValueError(field, message)`` for a bad cursor or limit.
    """
    try:
        size = FEED_DEFAULT_LIMIT if limit in (None, "") else int(limit)
    except ValueError:
        size = 0
    if not 1 <= size <= FEED_MAX_LIMIT:
        raise ValueError(
            "limit", _("Give one whole number from 1 to %(max)s.") % {"max": FEED_MAX_LIMIT}
        )
    position = 0
    if after:
        position = (
            Event.objects.filter(public_id=after, sequence__isnull=False)
            .values_list("sequence", flat=True)
            .first()
        )
        if position is None:
            raise ValueError("after", _("No event in the feed has the id %(id)s.") % {"id": after})
    rows = Event.objects.filter(sequence__gt=position)
    if types:
        rows = rows.filter(type__in=list(types))
    events = list(rows.order_by("sequence")[: size + 1])
    has_more = len(events) > size
    events = events[:size]
    cursor = events[-1].public_id if events else after
    return EventFeedPage(events=events, cursor=cursor, has_more=has_more)
