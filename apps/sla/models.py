"""SLA events (each reminder and breach, recorded once) and in-app notifications."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from leadflow.fields import optional_link


class SLAEventKind(models.TextChoices):
    ACCEPT_REMINDER = "accept_reminder", _("Accept reminder")
    ACCEPT_BREACH = "accept_breach", _("Accept deadline missed")
    PROCESS_REMINDER = "process_reminder", _("Processing reminder")
    PROCESS_BREACH = "process_breach", _("Processing deadline missed")


class SLAEvent(models.Model):
    """One reminder or breach of one deadline of one lead.

    The unique constraint is the claim: whichever sweep inserts the row sends
    the notifications; every other sweep, concurrent or later, finds it taken.
    """

    # Looked up through ``sla_event_once``, which starts with it (migration 0007).
    lead = models.ForeignKey(
        "leads.Lead", on_delete=models.PROTECT, related_name="sla_events", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=20, choices=SLAEventKind.choices)
    deadline = models.DateTimeField(_("deadline"))
    owner = optional_link(settings.AUTH_USER_MODEL, _("owner at the time"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("SLA event")
        verbose_name_plural = _("SLA events")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["lead", "kind", "deadline"], name="sla_event_once"),
        ]
        indexes = [models.Index(fields=["kind", "created_at"], name="sla_event_kind_time_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} · lead {self.lead_id} · {self.deadline:%Y-%m-%d %H:%M}"


class SLACheck(models.Model):
    """When the SLA sweep next has something to do for a lead: the sweep's work queue.

    One narrow row per lead with a clock running. The database keeps it in step with
    the lifecycle: a trigger (migration ``0003``) copies every write of
    ``Lead.sla_next_check_at`` here, and removes the row when it is cleared. The sweep
    then moves the row on as it handles each reminder and deadline, so each sweep
    rewrites these small rows, not the wide lead rows with their many indexes.
    """

    lead = models.OneToOneField(
        "leads.Lead", primary_key=True, on_delete=models.DO_NOTHING, related_name="+"
    )
    next_check_at = models.DateTimeField(_("next check"))

    class Meta:
        verbose_name = _("SLA check")
        verbose_name_plural = _("SLA checks")
        indexes = [models.Index(fields=["next_check_at", "lead"], name="sla_check_due_idx")]

    def __str__(self):
        return f"lead {self.lead_id} @ {self.next_check_at:%Y-%m-%d %H:%M}"


class NotificationKind(models.TextChoices):
    NEW_MQL = "new_mql", _("New MQL assigned")
    REMINDER = "reminder", _("SLA reminder")
    BREACH = "breach", _("SLA deadline missed")
    ESCALATION = "escalation", _("SLA escalation")
    REASSIGNED_AWAY = "reassigned_away", _("Lead reassigned away")
    MQL_REJECTED = "mql_rejected", _("MQL rejected by sales")
    WEBHOOK_FAILING = "webhook_failing", _("Webhook endpoint failing")
    WEBHOOK_PAUSED = "webhook_paused", _("Webhook endpoint paused")


#: Kinds told by email in a daily digest, not one email each.
DIGEST_KINDS = (NotificationKind.MQL_REJECTED,)


class Notification(models.Model):
    # Recipient and event are looked up through the indexes below that start with them
    # (migration 0007): an index of their own would only cost every notification written.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    # Null for news about something else than a lead (a failing webhook endpoint), which
    # ``detail`` names and ``link`` points to.
    lead = optional_link("leads.Lead", _("lead"))
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    link = models.URLField(_("link"), max_length=500, blank=True)
    event = models.ForeignKey(
        SLAEvent,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notifications",
        db_index=False,
    )
    # The history row the notification tells of (a rejection: its reason, note and who).
    # Indexed only where set (below): the sweep's many notifications tell of none.
    transition = optional_link("leads.StageTransition", _("transition"), db_index=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    # Set when its email went out; the outbox (apps.outbox) holds the attempts and errors.
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One notification per recipient per SLA event, however the sweep is retried.
            models.UniqueConstraint(
                fields=["event", "recipient"],
                condition=Q(event__isnull=False),
                name="notification_once_per_event",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_inbox_idx"),
            # The notifications page, newest first, and its filter by kind.
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_page_idx"),
            models.Index(
                fields=["transition"],
                name="notification_transition_idx",
                condition=Q(transition__isnull=False),
            ),
            # The daily digest's work: rejections not emailed yet.
            models.Index(
                fields=["recipient", "id"],
                name="notification_digest_idx",
                condition=Q(kind="mql_rejected", emailed_at__isnull=True),
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} → {self.recipient}"
