"""What each event is: its type, its words and its documented body (one home for the vocabulary).

Every event reads, on the wire and in the feed, as

    {"id": "evt_…", "type": "lead.accepted", "timestamp": "2026-11-23T09:15:02.123456Z",
     "data": {...}}

with ``data`` by type:

- ``lead.created``: ``{"lead": Lead}``
- ``lead.<transition>`` (``promoted``, ``accepted``, ``rejected``, ``resubmitted``,
  ``recycled``, ``disqualified``, ``qualified``, ``converted``, ``won``, ``lost``,
  ``reassigned``): ``{"lead": Lead, "transition": {"transition", "from", "to", "actor",
  "at", "reason", "note"}, "deadlines": {"accept_due_at", "process_due_at"}}``
- ``sla.reminder`` / ``sla.breached``: ``{"lead": Lead, "sla": {"kind", "clock",
  "deadline", "owner"}, "deadlines": {...}}``
- ``report.weekly``: ``{"report": the weekly report document (SPEC §7), "url": its page}``

where ``Lead`` is the lead as ``GET /api/v1/leads/{id}/`` shows it, without its
engagements and history, as it stood when the event happened.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Sequence
from typing import NamedTuple

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.settings import api_settings

from apps.api.serializers import LeadSerializer, StageTransitionSerializer
from apps.leads.transitions import TRANSITIONS

LEAD_CREATED = "lead.created"
SLA_REMINDER = "sla.reminder"
SLA_BREACHED = "sla.breached"
REPORT_WEEKLY = "report.weekly"
#: Sent by an admin's "send a test event"; only to the endpoints chosen, never in the feed.
TEST = "webhook.test"

_TRANSITION_ORDER = (
    "promote",
    "accept",
    "reject",
    "resubmit",
    "recycle",
    "disqualify",
    "qualify",
    "convert",
    "win",
    "lose",
    "reassign",
)

#: Every event type, with its label in the admin.
EVENT_TYPES: dict[str, str] = {
    LEAD_CREATED: _("Lead created"),
    **{TRANSITIONS[name].event_type: TRANSITIONS[name].event for name in _TRANSITION_ORDER},
    SLA_REMINDER: _("SLA reminder"),
    SLA_BREACHED: _("SLA deadline missed"),
    REPORT_WEEKLY: _("Weekly report"),
}

#: What a new Slack endpoint sends unless the admin picks otherwise: new MQLs, breaches, reports.
SLACK_DEFAULT_TYPES = ["lead.promoted", SLA_BREACHED, REPORT_WEEKLY]


def as_json(data) -> dict:
    """``data`` as it will be sent: dates, decimals and lazy strings turned into JSON values."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


@functools.cache
def _representer(serializer_class):
    """One serializer whose fields are built once per process: building them (labels, help
    texts, validators) costs ~10 ms, ``to_representation`` a fraction of that. It keeps no
    state between calls, so events of many leads (an import, a busy worker) share it."""
    return serializer_class()


def lead_data(lead) -> dict:
    return _representer(LeadSerializer).to_representation(lead)


def deadlines_data(lead) -> dict:
    return {"accept_due_at": lead.accept_due_at, "process_due_at": lead.process_due_at}


# --- the same bodies from plain rows (many leads at once: the SLA sweep) ---------------------


class _Column(NamedTuple):
    name: str  # the key in the body
    path: str  # what to read, as a ``values_list`` path from the lead
    represent: Callable | None  # None: the value as read (a str, an int)
    is_datetime: bool


def _plain_column(name: str, field) -> _Column | None:
    """How to read and show one serializer field from a plain row, exactly as it does.

    None for a field a row can't give (a method, a nested serializer, a whole object).
    """
    if "*" in field.source_attrs or isinstance(
        field, serializers.SerializerMethodField | serializers.BaseSerializer
    ):
        return None
    path = "__".join(field.source_attrs)
    if isinstance(field, serializers.RelatedField):
        # The related row's slug; a row can't stand in for the related object otherwise.
        if not isinstance(field, serializers.SlugRelatedField) or "." in field.slug_field:
            return None
        return _Column(name, f"{path}__{field.slug_field}", None, False)
    kind = type(field)
    if kind is serializers.DateTimeField:
        # DRF's ISO 8601 in the current time zone; shown by the row builder, which reads
        # the time zone once (anything but the default format goes through the field).
        default = not hasattr(field, "format") and not hasattr(field, "timezone")
        if default and api_settings.DATETIME_FORMAT.lower() == "iso-8601" and settings.USE_TZ:
            return _Column(name, path, None, True)
    if kind in (serializers.CharField, serializers.EmailField):
        return _Column(name, path, str, False)
    if kind is serializers.IntegerField:
        return _Column(name, path, int, False)
    return _Column(name, path, field.to_representation, False)


@functools.cache
def _lead_columns() -> tuple[_Column, ...] | None:
    columns = [
        _plain_column(name, field)
        for name, field in _representer(LeadSerializer).fields.items()
        if not field.write_only
    ]
    return None if None in columns else tuple(columns)


def lead_data_paths() -> list[str]:
    """What ``lead_data_from_row`` needs of a lead, as ``values_list`` paths from the lead.

    Prefix them (``lead__…``) to read the lead through a row that points to it.
    """
    columns = _lead_columns()
    if columns is None:
        raise NotImplementedError("LeadSerializer has a field a plain row can't give")
    return [column.path for column in columns]


def lead_data_from_rows(rows: Sequence[Sequence]) -> list[dict]:
    """``lead_data`` of each row (values of ``lead_data_paths()``, in order), without a model.

    Equal to the serializer's output, field by field, types and formats included
    (``tests/webhooks/test_plain_bodies.py``); about an eighth of its cost, for a sweep's hundreds.
    """
    tz = timezone.get_current_timezone()

    def moment(value):
        # rest_framework.fields.DateTimeField.to_representation, with the zone read once.
        text = value.astimezone(tz).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    shown = [
        (column.name, moment if column.is_datetime else column.represent)
        for column in _lead_columns()
    ]
    return [
        {
            name: value if value is None or represent is None else represent(value)
            for (name, represent), value in zip(shown, row, strict=True)
        }
        for row in rows
    ]


_json_default = DjangoJSONEncoder().default


def json_datetime(value: dt.datetime | None) -> str | None:
    """A moment as ``as_json`` writes it (DjangoJSONEncoder: milliseconds, ``Z`` for UTC)."""
    return None if value is None else _json_default(value)


def transition_data(transition) -> dict:
    return _representer(StageTransitionSerializer).to_representation(transition)
