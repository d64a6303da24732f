"""Events (what happened, once, in the transaction that made it happen) and webhook endpoints.

An ``Event`` is written in the same transaction as its cause, with its body as
receivers will see it. For each active endpoint that takes its type, a
``WebhookDelivery`` and its outbox row are written in that transaction too; the
outbox delivers it at least once and ``WebhookAttempt`` logs every try.
"""

import base64
import secrets
import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.outbox.models import OutboxMessage
from leadflow.fields import optional_link


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class Event(models.Model):
    """One thing that happened, as receivers see it; never edited.

    ``public_id`` is the stable id (the ``webhook-id`` of every delivery and the
    feed's cursor). ``sequence`` is the event's place in the feed, given after
    commit by ``events_sequence`` so that no event can appear behind a reader's
    cursor (ids are handed out before commit, in an order commits need not keep).
    """

    public_id = models.CharField(_("id"), max_length=40, unique=True, default=new_event_id)
    # Looked up through ``event_type_feed_idx``, which starts with it (migration 0002).
    type = models.CharField(_("type"), max_length=40)
    occurred_at = models.DateTimeField(_("timestamp"))
    lead = optional_link("leads.Lead")
    body = models.JSONField(_("body"))
    sequence = models.BigIntegerField(_("feed position"), null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["id"], name="event_unsequenced_idx", condition=Q(sequence=None)),
            models.Index(fields=["type", "sequence"], name="event_type_feed_idx"),
        ]

    def __str__(self):
        return f"{self.type} {self.public_id}"


class EventFeedClock(models.Model):
    """One row: the last feed position given. Its row lock makes one sequencer run at a time."""

    last = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("event feed position")

    def __str__(self):
        return str(self.last)


class EndpointKind(models.TextChoices):
    GENERIC = "generic", _("Signed JSON (Standard Webhooks)")
    SLACK = "slack", _("Slack incoming webhook")


class EndpointState(models.TextChoices):
    HEALTHY = "healthy", _("Healthy")
    FAILING = "failing", _("Failing")
    PAUSED = "paused", _("Paused")


class WebhookEndpoint(models.Model):
    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    kind = models.CharField(
        _("kind"), max_length=10, choices=EndpointKind.choices, default=EndpointKind.GENERIC
    )
    event_types = models.JSONField(
        _("event types"),
        default=list,
        blank=True,
        help_text=_("The events sent to this endpoint."),
    )
    active = models.BooleanField(_("active"), default=True)
    secret = models.CharField(_("signing secret"), max_length=100, default=new_secret)
    state = models.CharField(
        _("state"), max_length=10, choices=EndpointState.choices, default=EndpointState.HEALTHY
    )
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name", "id"]
        permissions = [
            ("resend_webhookdelivery", _("Can resend webhook deliveries and send test events")),
        ]

    def __str__(self):
        return self.name


class WebhookDelivery(models.Model):
    """One event for one endpoint; its outbox row holds the delivery state."""

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    message = models.OneToOneField(
        OutboxMessage, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_status_code = models.PositiveSmallIntegerField(_("last status"), null=True, blank=True)
    last_latency_ms = models.PositiveIntegerField(_("last latency (ms)"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="webhook_delivery_once"),
        ]

    def __str__(self):
        return f"{self.event.type} → {self.endpoint}"


class WebhookAttempt(models.Model):
    """One try of a delivery: what the receiver answered and how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    at = models.DateTimeField(_("at"))
    ok = models.BooleanField(_("ok"))
    status_code = models.PositiveSmallIntegerField(_("status"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"))
    response_excerpt = models.TextField(_("response excerpt"), blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error[:40]}"
