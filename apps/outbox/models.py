"""The transactional outbox: every effect that leaves the database, as a row (STYLE rule 13).

A row is written in the same transaction as the change that causes it, so a
rollback takes the effect with it and a commit can never lose it. Workers
deliver rows at least once: each attempt claims the row with a lease that
expires, so a worker that dies mid-send leaves a claim that another worker
takes over once the lease has run out.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


#: Statuses a delivery run still looks at (a "sending" row whose lease ran out is due again).
OPEN_STATUSES = (OutboxStatus.PENDING, OutboxStatus.SENDING)


class OutboxMessage(models.Model):
    """One effect to deliver: an email now, a webhook call later.

    ``kind`` names the handler that delivers it and ``payload`` what it needs
    (ids, not copies: the handler reads the rows as they are when it sends).
    ``key`` is the idempotency key, unique, and the receiver's way to spot a
    repeat (an email's ``Message-ID`` is made from the row).
    """

    kind = models.CharField(_("kind"), max_length=64)
    key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    # Rows that share a non-empty sequence key go out one at a time in the order written
    # (a webhook endpoint's events about one lead); a row waits while an earlier one is open.
    sequence_key = models.CharField(_("sequence key"), max_length=200, blank=True, default="")
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # For a pending row: when to try next. For a claimed ("sending") row: when its lease runs
    # out, so one indexed condition finds everything a delivery run should pick up.
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    lease_expires_at = models.DateTimeField(_("lease expires at"), null=True, blank=True)
    claim = models.UUIDField(_("claim"), null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        ordering = ["-created_at", "-id"]
        permissions = [("resend_outboxmessage", _("Can send a failed outgoing message again"))]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_due_idx",
                condition=Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["status", "created_at"], name="outbox_status_idx"),
            models.Index(
                fields=["sequence_key", "id"],
                name="outbox_sequence_idx",
                condition=Q(status__in=["pending", "sending"]) & ~Q(sequence_key=""),
            ),
        ]

    def __str__(self):
        return f"{self.kind} #{self.pk} ({self.get_status_display()})"
