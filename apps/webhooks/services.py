"""Writing events and delivering them to webhook endpoints (issue 15; STYLE rule 13).

``events_record`` writes events, in the caller's transaction, with a delivery
(and its outbox row) for every active endpoint that takes their type. The
outbox delivers each at least once with the webhooks' retry policy (about a
day of exponential backoff); deliveries of one endpoint about one lead share a
sequence key, so they go out one at a time in the order they happened.
``webhook_delivery_send`` is the outbox handler: it signs (Standard Webhooks)
or formats (Slack) the event, checks the address again, posts it, and logs the
attempt. A delivery that gives up marks its endpoint failing (admins are told);
one that gives up after the endpoint has been failing for
``WEBHOOK_PAUSE_AFTER_SECONDS`` pauses it until an admin resumes it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from standardwebhooks import Webhook

from apps.outbox.models import OutboxMessage, OutboxStatus
from apps.outbox.services import (
    NothingToDeliver,
    RetryPolicy,
    outbox_handler,
    outbox_put_many,
    outbox_resend,
)
from apps.sla.models import Notification
from apps.sla.services import notifications_create
from apps.webhooks import events as vocabulary
from apps.webhooks.models import (
    EndpointKind,
    EndpointState,
    Event,
    EventFeedClock,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    new_event_id,
)
from apps.webhooks.safety import UnsafeURL, webhook_post
from apps.webhooks.slack import slack_message
from leadflow.bulk_insert import bulk_insert, rows_insert

logger = logging.getLogger(__name__)

#: The outbox kind of one event's delivery to one endpoint.
WEBHOOK_DELIVERY = "webhooks.delivery"
PAUSED_NOTE = "The endpoint is paused; resuming it sends this again."


class DeliveryFailed(Exception):
    """The receiver did not take the event (an error status, a refused address, a timeout)."""


# --- writing -------------------------------------------------------------------------------


def events_record(*, events: Sequence[Event]) -> list[Event]:
    """Store ``events`` (unsaved, with type, occurred_at, lead and body) and their deliveries.

    Call it inside the transaction that causes them: they commit or roll back with it.
    """
    if not events:
        return []
    saved = bulk_insert(events)
    _deliveries_create(_listening_pairs(saved))
    return saved


def _listening_pairs(events) -> list[tuple]:
    """(event, endpoint) for each active endpoint that takes the type of each of ``events``."""
    endpoints = [e for e in _listening_endpoints() if e.event_types]
    return [
        (event, endpoint)
        for event in events
        for endpoint in endpoints
        if event.type in endpoint.event_types
    ]


class EventRow(NamedTuple):
    """An event to write, as plain values (``body`` already as it will be sent)."""

    type: str
    occurred_at: dt.datetime
    lead_id: int | None
    body: dict


class RecordedEvent(NamedTuple):
    pk: int
    public_id: str
    type: str
    lead_id: int | None


def events_record_rows(*, rows: Sequence[EventRow]) -> list[RecordedEvent]:
    """``events_record`` for events given as plain rows: one INSERT, no model instance each.

    For a sweep's hundreds of events at once; the rows written are the same.
    """
    if not rows:
        return []
    saved = [RecordedEvent(0, new_event_id(), row.type, row.lead_id) for row in rows]
    inserted = rows_insert(
        Event,
        ["public_id", "type", "occurred_at", "lead", "body"],
        [
            (event.public_id, row.type, row.occurred_at, row.lead_id, row.body)
            for event, row in zip(saved, rows, strict=True)
        ],
        fixed={"sequence": None},  # given once committed (``events_sequence``)
    )
    saved = [event._replace(pk=pk) for event, (pk,) in zip(saved, inserted, strict=True)]
    _deliveries_create(_listening_pairs(saved))
    return saved


def event_record(*, type: str, body: dict, lead=None, at: dt.datetime | None = None) -> Event:
    """One event; see ``events_record``."""
    return events_record(
        events=[
            Event(
                type=type,
                occurred_at=at or timezone.now(),
                lead=lead,
                body=vocabulary.as_json(body),
            )
        ]
    )[0]


def _listening_endpoints() -> list[WebhookEndpoint]:
    # A paused endpoint still gets its deliveries, held: resuming it sends them, in order.
    return list(WebhookEndpoint.objects.filter(active=True))


def _deliveries_create(pairs: list[tuple]) -> list[WebhookDelivery]:
    """A delivery and its outbox row for each (event, endpoint); an event: a saved ``Event``
    or a ``RecordedEvent``."""
    if not pairs:
        return []
    messages = outbox_put_many(
        messages=[
            OutboxMessage(
                kind=WEBHOOK_DELIVERY,
                key=f"webhook:{event.public_id}:{endpoint.pk}",
                payload={"event_id": event.pk, "endpoint_id": endpoint.pk},
                sequence_key=(
                    f"webhook:{endpoint.pk}:lead:{event.lead_id}" if event.lead_id else ""
                ),
                **(
                    {"status": OutboxStatus.SKIPPED, "last_error": PAUSED_NOTE}
                    if endpoint.state == EndpointState.PAUSED
                    else {}
                ),
            )
            for event, endpoint in pairs
        ]
    )
    return WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(event_id=event.pk, endpoint=endpoint, message=message)
            for (event, endpoint), message in zip(pairs, messages, strict=True)
        ]
    )


def webhook_test_send(*, endpoints: Sequence[WebhookEndpoint]) -> Event:
    """A ``webhook.test`` event delivered (at once, by a worker) to ``endpoints`` only."""
    with transaction.atomic():
        event = Event.objects.create(
            type=vocabulary.TEST,
            occurred_at=timezone.now(),
            body={"message": "This is a test event from Leadflow.", "site": settings.SITE_URL},
        )
        _deliveries_create([(event, endpoint) for endpoint in endpoints])
    return event


def webhook_deliveries_resend(*, deliveries: Sequence[WebhookDelivery]) -> int:
    """Queue failed or skipped deliveries again (same event id); returns how many."""
    return outbox_resend(ids=[d.message_id for d in deliveries if d.message_id])


def webhook_endpoint_resume(*, endpoint: WebhookEndpoint) -> int:
    """Resume a paused or failing endpoint and queue again what it missed, in order.

    Returns how many deliveries were queued again.
    """
    with transaction.atomic():
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            state=EndpointState.HEALTHY, failing_since=None
        )
        missed = list(
            WebhookDelivery.objects.filter(
                endpoint=endpoint,
                message__status__in=[OutboxStatus.FAILED, OutboxStatus.SKIPPED],
            )
            .order_by("pk")
            .values_list("message_id", flat=True)
        )
        return outbox_resend(ids=missed)


# --- the feed's order ----------------------------------------------------------------------


def events_sequence(*, limit: int = 5000) -> int:
    """Give feed positions to committed events that have none, in id order; returns how many.

    One run at a time (the clock row's lock). A position is only ever given to
    a committed event, after every position before it, so a reader that has
    seen position p will never see an event appear below p: the feed neither
    skips nor repeats while events are being written.
    """
    pending = Event.objects.filter(sequence=None).exclude(type=vocabulary.TEST)
    if not pending.exists():
        return 0
    with transaction.atomic():
        # A write first: it takes the row's lock on PostgreSQL and the write lock on SQLite,
        # so the read below sees every event committed before this run.
        EventFeedClock.objects.filter(pk=1).update(last=F("last"))
        clock, _created = EventFeedClock.objects.select_for_update().get_or_create(pk=1)
        ids = list(pending.order_by("pk").values_list("pk", flat=True)[:limit])
        Event.objects.bulk_update(
            [Event(pk=pk, sequence=n) for n, pk in enumerate(ids, start=clock.last + 1)],
            ["sequence"],
            batch_size=500,
        )
        EventFeedClock.objects.filter(pk=1).update(last=clock.last + len(ids))
    return len(ids)


# --- delivering ----------------------------------------------------------------------------


def webhook_policy() -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.WEBHOOK_MAX_ATTEMPTS,
        base_seconds=settings.WEBHOOK_RETRY_BASE_SECONDS,
        max_seconds=settings.WEBHOOK_RETRY_MAX_SECONDS,
    )


def event_envelope(event: Event) -> dict:
    """The event as receivers get it: id, type, timestamp and its data."""
    return {
        "id": event.public_id,
        "type": event.type,
        "timestamp": event.occurred_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "data": event.body,
    }


def signed_request(
    event: Event, endpoint: WebhookEndpoint, *, now: dt.datetime
) -> tuple[bytes, dict]:
    """The body and Standard Webhooks headers of ``event`` for a generic endpoint."""
    payload = json.dumps(event_envelope(event), ensure_ascii=False, separators=(",", ":"))
    signature = Webhook(endpoint.secret).sign(
        msg_id=event.public_id, timestamp=now.astimezone(dt.UTC), data=payload
    )
    return payload.encode("utf-8"), {
        "webhook-id": event.public_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }


def slack_request(event: Event) -> tuple[bytes, dict]:
    return json.dumps(slack_message(event), ensure_ascii=False).encode("utf-8"), {}


def _webhook_give_up(message: OutboxMessage) -> None:
    delivery = WebhookDelivery.objects.filter(message=message).select_related("endpoint").first()
    if delivery is not None:
        webhook_endpoint_gave_up(endpoint=delivery.endpoint)


@outbox_handler(WEBHOOK_DELIVERY, policy=webhook_policy, on_give_up=_webhook_give_up)
def webhook_delivery_send(message: OutboxMessage) -> None:
    """Send one delivery (the outbox claims, retries and marks it); raises when it failed."""
    delivery = (
        WebhookDelivery.objects.select_related("event", "endpoint").filter(message=message).first()
    )
    if delivery is None:
        raise NothingToDeliver("the delivery is gone")
    endpoint, event = delivery.endpoint, delivery.event
    if not endpoint.active:
        raise NothingToDeliver("The endpoint is not active.")
    if endpoint.state == EndpointState.PAUSED:
        raise NothingToDeliver(PAUSED_NOTE)
    now = timezone.now()
    if endpoint.kind == EndpointKind.SLACK:
        body, headers = slack_request(event)
    else:
        body, headers = signed_request(event, endpoint, now=now)
    status, excerpt, error, latency = None, "", "", 0
    started = timezone.now()
    try:
        response = webhook_post(endpoint.url, body=body, headers=headers)
    except UnsafeURL as exc:
        error = f"Refused: {exc}"
    except (OSError, ValueError) as exc:  # connection refused, timeout, TLS, malformed answer
        error = f"{type(exc).__name__}: {exc}"
    else:
        status, latency = response.status, response.latency_ms
        excerpt = response.body.decode("utf-8", errors="replace")
        if not 200 <= status < 300:
            error = f"HTTP {status}" + (
                " (redirects are not followed)" if 300 <= status < 400 else ""
            )
    if not latency:
        latency = int((timezone.now() - started).total_seconds() * 1000)
    ok = not error
    WebhookAttempt.objects.create(
        delivery=delivery,
        at=started,
        ok=ok,
        status_code=status,
        latency_ms=latency,
        response_excerpt=excerpt,
        error=error[:2000],
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        last_status_code=status, last_latency_ms=latency
    )
    if ok:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            last_success_at=timezone.now(), failing_since=None
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk, state=EndpointState.FAILING).update(
            state=EndpointState.HEALTHY
        )
        return
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since=None).update(failing_since=now)
    raise DeliveryFailed(error)


def webhook_endpoint_gave_up(*, endpoint: WebhookEndpoint) -> None:
    """A delivery used all its attempts: mark the endpoint failing, or pause it if it keeps failing.

    Each change of state is a conditional update, so admins are told once however
    many deliveries give up together.
    """
    now = timezone.now()
    pause_before = now - dt.timedelta(seconds=settings.WEBHOOK_PAUSE_AFTER_SECONDS)
    with transaction.atomic():
        paused = WebhookEndpoint.objects.filter(
            pk=endpoint.pk, state=EndpointState.FAILING, failing_since__lte=pause_before
        ).update(state=EndpointState.PAUSED)
        if paused:
            # Nothing more goes out until an admin resumes it, which queues these again.
            open_ids = WebhookDelivery.objects.filter(endpoint=endpoint).values("message_id")
            OutboxMessage.objects.filter(pk__in=open_ids, status=OutboxStatus.PENDING).update(
                status=OutboxStatus.SKIPPED, last_error=PAUSED_NOTE
            )
            _admins_notify(endpoint=endpoint, kind="webhook_paused")
            logger.error("webhooks: endpoint %s paused: it keeps failing", endpoint.pk)
            return
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since=None).update(failing_since=now)
        failing = WebhookEndpoint.objects.filter(
            pk=endpoint.pk, state=EndpointState.HEALTHY
        ).update(state=EndpointState.FAILING)
        if failing:
            _admins_notify(endpoint=endpoint, kind="webhook_failing")
            logger.error("webhooks: endpoint %s is failing", endpoint.pk)


def _admins_notify(*, endpoint: WebhookEndpoint, kind: str) -> None:
    admins = (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .filter(
            Q(is_superuser=True)
            | Q(user_permissions__codename="change_webhookendpoint")
            | Q(groups__permissions__codename="change_webhookendpoint")
        )
        .distinct()
    )
    link = settings.SITE_URL.rstrip("/") + reverse(
        "admin:webhooks_webhookendpoint_change", args=[endpoint.pk]
    )
    notifications_create(
        notifications=[
            Notification(recipient=admin, kind=kind, detail=endpoint.name[:200], link=link)
            for admin in admins
        ]
    )
