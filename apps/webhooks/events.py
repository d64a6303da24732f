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

import functools
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext_lazy as _

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


def transition_data(transition) -> dict:
    return _representer(StageTransitionSerializer).to_representation(transition)
