"""The SLA sweep and notification delivery (SPEC §4).

The sweep may run every few minutes, twice, or four times at once: each
reminder and breach is claimed by inserting its ``SLAEvent`` row (unique on
lead, kind and deadline), and only the sweep that inserted it notifies anyone.
It looks only at leads whose ``sla_next_check_at`` has come (an index), so
its cost follows the leads due, not the size of the table.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from apps.accounts.emails import email_in_users_language
from apps.accounts.selectors import sales_managers
from apps.criteria.models import SLAPolicy
from apps.leads.models import Lead, Stage
from apps.leads.services import LifecycleError, lead_transition
from apps.outbox.models import OutboxMessage
from apps.outbox.services import (
    NothingToDeliver,
    outbox_deliver_due,
    outbox_email_send,
    outbox_handler,
    outbox_put_many,
)
from apps.sla.models import Notification, NotificationKind, SLAEvent, SLAEventKind

logger = logging.getLogger(__name__)


@dataclass
class SweepResult:
    leads_checked: int = 0
    events: dict[str, int] = field(default_factory=dict)
    reassigned: int = 0
    notifications: list[int] = field(default_factory=list)

    def count(self, kind: str) -> None:
        self.events[kind] = self.events.get(kind, 0) + 1


def sla_sweep(*, now: dt.datetime | None = None, batch_size: int = 500) -> SweepResult:
    """Send every reminder and breach that is due at ``now``, each exactly once."""
    now = now or timezone.now()
    policy = SLAPolicy.load()
    result = SweepResult()
    last_pk = 0
    while True:
        # Keyset pages by id: each lead is visited once per sweep, however many are due.
        due = list(
            Lead.objects.filter(sla_next_check_at__lte=now, pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not due:
            break
        for pk in due:
            _sweep_lead(pk, now=now, policy=policy, result=result)
            result.leads_checked += 1
        last_pk = due[-1]
    notifications_retry_unsent(now=now)
    return result


def _sweep_lead(pk: int, *, now: dt.datetime, policy: SLAPolicy, result: SweepResult) -> None:
    with transaction.atomic():
        leads = Lead.objects.filter(pk=pk, sla_next_check_at__lte=now)
        if connection.features.has_select_for_update_skip_locked:
            # Another sweep holds it: that sweep handles it; nobody waits.
            leads = leads.select_for_update(skip_locked=True, of=("self",))
        else:
            leads = leads.select_for_update()
        lead = leads.select_related("owner").first()
        if lead is None:
            return
        for kind, deadline in _due_events(lead, now):
            event, claimed = SLAEvent.objects.get_or_create(
                lead=lead, kind=kind, deadline=deadline, defaults={"owner": lead.owner}
            )
            if not claimed:
                continue
            result.count(kind)
            _notify_event(event, lead=lead, policy=policy, result=result)
            if kind == SLAEventKind.ACCEPT_BREACH and policy.reassign_on_breach and lead.owner_id:
                _reassign_after_breach(lead, now=now, result=result)
                lead.refresh_from_db()
                break  # fresh clocks: nothing else of the old episode is due
        Lead.objects.filter(pk=lead.pk).update(sla_next_check_at=_next_check(lead, now))


def _due_events(lead: Lead, now: dt.datetime) -> list[tuple[str, dt.datetime]]:
    """The reminders and breaches of ``lead`` whose moment has come, for its stage.

    A reminder whose deadline has already passed is skipped: the breach says more.
    """
    events = []

    def check(remind_at, due_at, reminder, breach):
        if due_at is None:
            return
        if due_at <= now:
            events.append((breach, due_at))
        elif remind_at is not None and remind_at < due_at and remind_at <= now and lead.owner_id:
            events.append((reminder, due_at))

    if lead.stage == Stage.MQL:
        check(
            lead.accept_remind_at,
            lead.accept_due_at,
            SLAEventKind.ACCEPT_REMINDER,
            SLAEventKind.ACCEPT_BREACH,
        )
    if lead.stage in (Stage.MQL, Stage.ACCEPTED):
        check(
            lead.process_remind_at,
            lead.process_due_at,
            SLAEventKind.PROCESS_REMINDER,
            SLAEventKind.PROCESS_BREACH,
        )
    return events


def _next_check(lead: Lead, now: dt.datetime) -> dt.datetime | None:
    moments = []
    if lead.stage == Stage.MQL:
        moments += [lead.accept_remind_at, lead.accept_due_at]
    if lead.stage in (Stage.MQL, Stage.ACCEPTED):
        moments += [lead.process_remind_at, lead.process_due_at]
    future = [m for m in moments if m is not None and m > now]
    return min(future) if future else None


def _notify_event(event: SLAEvent, *, lead: Lead, policy: SLAPolicy, result: SweepResult) -> None:
    recipients: list[tuple[object, str]] = []
    if event.kind in (SLAEventKind.ACCEPT_REMINDER, SLAEventKind.PROCESS_REMINDER):
        recipients.append((lead.owner, NotificationKind.REMINDER))
    else:
        if lead.owner is not None:
            recipients.append((lead.owner, NotificationKind.BREACH))
        if policy.escalate_on_breach or lead.owner is None:
            for manager in sales_managers().exclude(pk=lead.owner_id):
                recipients.append((manager, NotificationKind.ESCALATION))
    notifications = notifications_create(
        notifications=[
            Notification(recipient=user, kind=kind, lead=lead, event=event)
            for user, kind in recipients
            if user
        ]
    )
    result.notifications += [n.pk for n in notifications]


def _reassign_after_breach(lead: Lead, *, now: dt.datetime, result: SweepResult) -> None:
    try:
        lead_transition(
            lead=lead.pk,
            name="reassign",
            actor=None,
            at=now,
            values={"restart_clocks": True, "reason": "accept_sla_missed"},
        )
    except LifecycleError as exc:
        # No other rep takes leads: the escalation already went to the managers.
        logger.warning("lead %s not reassigned after its accept breach: %s", lead.pk, exc)
    else:
        result.reassigned += 1


def replayed_breaches_record(*, lead_id: int, now: dt.datetime) -> int:
    """Record, telling nobody, the breaches of ``lead_id`` already past at ``now``: history replay.

    A replayed lead (demo data) missed its deadlines in a past nobody lived
    through; claiming those breaches here keeps the next sweep from announcing
    them (and from reassigning the lead). A reminder whose deadline is still
    ahead stays due: it is news. Returns the number of breaches recorded.
    """
    breaches = (SLAEventKind.ACCEPT_BREACH, SLAEventKind.PROCESS_BREACH)
    recorded = 0
    with transaction.atomic():
        lead = Lead.objects.select_for_update().filter(pk=lead_id).first()
        if lead is None:
            return 0
        for kind, deadline in _due_events(lead, now):
            if kind in breaches:
                _event, created = SLAEvent.objects.get_or_create(
                    lead=lead, kind=kind, deadline=deadline, defaults={"owner": lead.owner}
                )
                recorded += created
    return recorded


# --- notifications -------------------------------------------------------------

#: The outbox kind of a notification's email.
NOTIFICATION_EMAIL = "sla.notification_email"


def notifications_create(*, notifications: Sequence[Notification]) -> list[Notification]:
    """Store in-app notifications and, in the same transaction, the outbox rows that email them.

    ``notifications`` are unsaved rows (recipient, kind, lead, event); they are
    inserted in one statement, and so are their emails, one outbox row each
    for the recipients with an address. Call it inside the transaction that
    causes them: a rollback takes the emails with it, a commit can't lose them.
    """
    created = Notification.objects.bulk_create(notifications)
    outbox_put_many(
        messages=[
            OutboxMessage(
                kind=NOTIFICATION_EMAIL,
                key=f"notification:{n.pk}",
                payload={"notification_id": n.pk},
            )
            for n in created
            if n.recipient.email
        ]
    )
    return created


def notification_create(*, recipient, kind: str, lead: Lead) -> Notification:
    """One in-app notification and its email; see ``notifications_create``."""
    return notifications_create(
        notifications=[Notification(recipient=recipient, kind=kind, lead=lead)]
    )[0]


@outbox_handler(NOTIFICATION_EMAIL)
def notification_email_send(message: OutboxMessage) -> None:
    """Email the notification of an outbox row (the outbox claims, retries and marks it)."""
    notification = (
        Notification.objects.select_related("recipient", "lead", "event__owner")
        .filter(pk=message.payload["notification_id"])
        .first()
    )
    if notification is None or not notification.recipient.email:
        raise NothingToDeliver("the notification or its recipient's email address is gone")
    outbox_email_send(message, notification_email(notification))
    Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )


def notifications_retry_unsent(*, now: dt.datetime | None = None) -> int:
    """Deliver, in this process, the notification emails that are due; returns how many went out.

    Run at the end of every sweep, so ``sla_sweep`` sends its own notifications
    and picks up any left behind. Delivery follows the real clock, whatever
    moment (``now``) the sweep acts at.
    """
    return outbox_deliver_due(kinds=[NOTIFICATION_EMAIL]).sent


def lead_url(lead: Lead) -> str:
    try:
        path = reverse("leads:detail", args=[lead.pk])
    except NoReverseMatch:
        path = reverse("leads:list")
    return settings.SITE_URL.rstrip("/") + path


def notification_email(notification: Notification) -> EmailMultiAlternatives:
    """The email of a notification, in its recipient's language, HTML with a text part."""
    return email_in_users_language(
        recipient=notification.recipient,
        templates="notifications",
        context=lambda: {
            "notification": notification,
            "lead": notification.lead,
            "message": notification_message(notification),
            "url": lead_url(notification.lead),
        },
    )


def notification_message(notification: Notification) -> str:
    """One sentence saying what happened, in the active language."""
    from django.utils.formats import date_format
    from django.utils.translation import gettext as _

    lead = notification.lead
    name = lead.full_name or lead.email
    company = f" ({lead.company})" if lead.company else ""
    deadline = notification.event.deadline if notification.event else None
    when = date_format(timezone.localtime(deadline), "DATETIME_FORMAT") if deadline else ""
    kind, event_kind = notification.kind, notification.event.kind if notification.event else None
    if kind == NotificationKind.NEW_MQL:
        return _("New MQL for you: %(name)s%(company)s. Accept or reject it within the SLA.") % {
            "name": name,
            "company": company,
        }
    accepting = event_kind in (SLAEventKind.ACCEPT_REMINDER, SLAEventKind.ACCEPT_BREACH)
    if kind == NotificationKind.REMINDER:
        if accepting:
            return _("Reminder: accept or reject %(name)s%(company)s by %(when)s.") % {
                "name": name,
                "company": company,
                "when": when,
            }
        return _("Reminder: qualify or reject %(name)s%(company)s by %(when)s.") % {
            "name": name,
            "company": company,
            "when": when,
        }
    if kind == NotificationKind.BREACH:
        if accepting:
            return _("You missed the accept deadline (%(when)s) for %(name)s%(company)s.") % {
                "name": name,
                "company": company,
                "when": when,
            }
        return _("You missed the processing deadline (%(when)s) for %(name)s%(company)s.") % {
            "name": name,
            "company": company,
            "when": when,
        }
    event = notification.event
    owner = event.owner.get_username() if event and event.owner else _("nobody")
    if accepting:
        return _(
            "Escalation: %(name)s%(company)s was not accepted by %(when)s (owner: %(owner)s)."
        ) % {"name": name, "company": company, "when": when, "owner": owner}
    return _(
        "Escalation: %(name)s%(company)s was not processed by %(when)s (owner: %(owner)s)."
    ) % {"name": name, "company": company, "when": when, "owner": owner}
