"""Rows written at once (outbox rows, notifications, webhook events) read back as ``bulk_create``'s.

On PostgreSQL they travel as one JSON document; what is stored must not change:
JSON with quotes and backslashes, microseconds and time zones, choices, nulls.
"""

import datetime as dt

import pytest
from django.utils import timezone

from apps.outbox.models import OutboxMessage, OutboxStatus
from apps.sla.models import Notification, NotificationKind, SLAEvent, SLAEventKind
from leadflow.bulk_insert import bulk_insert, rows_insert
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

PAYLOADS = [
    {"text": 'a "quoted" \\ backslash, ünïcode 日本語', "list": [1, 2.5, None, True]},
    {"nested": {"deep": ["x", {"y": "}{,"}]}, "empty": {}},
    {},
]


def messages(prefix):
    return [
        OutboxMessage(kind="test", key=f"{prefix}:{n}", payload=payload, sequence_key="s")
        for n, payload in enumerate(PAYLOADS)
    ]


def stored(prefix):
    """What was stored of the rows whose key starts with ``prefix``, less the key."""
    fields = ("kind", "payload", "status", "attempts", "sequence_key", "last_error", "sent_at")
    return list(
        OutboxMessage.objects.filter(key__startswith=f"{prefix}:")
        .order_by("id")
        .values_list(*fields)
    )


def test_bulk_insert_stores_what_bulk_create_stores_and_gives_each_row_its_id():
    fast = bulk_insert(messages("fast"))
    OutboxMessage.objects.bulk_create(messages("slow"))

    assert stored("fast") == stored("slow")
    assert stored("fast")[0][1] == PAYLOADS[0]
    assert stored("fast")[0][2] == OutboxStatus.PENDING
    for message in fast:  # each object got the id of its own row
        assert not message._state.adding
        assert OutboxMessage.objects.get(pk=message.pk).key == message.key


def test_bulk_insert_keeps_microseconds_foreign_keys_choices_and_nulls():
    user, lead = UserFactory(), LeadFactory()
    moment = dt.datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=dt.UTC)
    [notification] = bulk_insert(
        [Notification(recipient=user, kind=NotificationKind.REMINDER, lead=lead, read_at=moment)]
    )
    row = Notification.objects.get(pk=notification.pk)
    assert (row.recipient_id, row.kind, row.lead_id, row.read_at) == (
        user.pk,
        "reminder",
        lead.pk,
        moment,
    )
    assert row.event_id is None and row.emailed_at is None and row.detail == ""
    assert row.created_at == notification.created_at


def test_rows_insert_skips_conflicting_rows_and_returns_the_others_in_order():
    owner = UserFactory()
    first, second = LeadFactory(), LeadFactory()
    deadline = timezone.now().replace(microsecond=123456)
    fields = ["lead", "kind", "deadline", "owner", "created_at"]
    rows = [
        (lead.pk, SLAEventKind.ACCEPT_BREACH, deadline, owner.pk, timezone.now())
        for lead in (first, second)
    ]
    returned = rows_insert(
        SLAEvent, fields, rows[:1], conflict=("lead", "kind", "deadline"), returning=("lead",)
    )
    assert returned == [(first.pk,)]
    again = rows_insert(
        SLAEvent, fields, rows, conflict=("lead", "kind", "deadline"), returning=("lead", "kind")
    )
    assert again == [(second.pk, "accept_breach")]
    assert SLAEvent.objects.get(lead=second).deadline == deadline


def test_rows_insert_writes_fixed_values_in_every_row_as_if_each_row_had_them():
    user, lead = UserFactory(), LeadFactory()
    moment = dt.datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=dt.UTC)
    fields = ["recipient", "kind", "lead"]
    rows = [(user.pk, NotificationKind.REMINDER, lead.pk), (user.pk, "breach", None)]
    fixed = {"detail": "d'é\\", "link": "", "transition": None, "created_at": moment}
    blanks = {"read_at": None, "emailed_at": None, "event": None}

    ids = rows_insert(Notification, fields, rows, fixed={**fixed, **blanks})
    rows_insert(
        Notification,
        [*fields, *fixed, *blanks],
        [(*row, *fixed.values(), *blanks.values()) for row in rows],
    )

    columns = [*fields, *fixed, *blanks]
    stored = list(Notification.objects.order_by("id").values_list(*columns))
    assert stored[:2] == stored[2:]
    assert stored[0] == (user.pk, "reminder", lead.pk, "d'é\\", "", None, moment, None, None, None)
    assert [pk for (pk,) in ids] == list(
        Notification.objects.order_by("id").values_list("pk", flat=True)
    )[:2]
