"""The SLA sweep and notification delivery (SPEC §4).

The sweep may run every few minutes, twice, or four times at once: each
reminder and breach is claimed by inserting its ``SLAEvent`` row (unique on
lead, kind and deadline), and only the sweep that inserted it notifies anyone.
It works from its own queue, ``SLACheck`` (one narrow row per lead with a clock
running, fed from ``Lead.sla_next_check_at`` by the database), in the order of
its index, so its cost follows the leads due, not the size of the lead table: a
batch of due checks is locked (skipping any another sweep or a transition
holds), its leads read, its events claimed with one INSERT, its notifications
created with one more and its checks moved on with one UPDATE; the lead rows
are only read (and locked only to reassign one after a breach). Emails leave
through the outbox: each batch's notifications and their email rows commit
together, and one Celery task per batch delivers them (the ``sla_sweep`` command
delivers them in its own process instead).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import Q
from django.dispatch import Signal
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from apps.accounts.emails import email_in_users_language
from apps.accounts.selectors import marketers, sales_managers
from apps.criteria.models import RejectReason, SLAPolicy
from apps.leads.labels import translated_label
from apps.leads.models import Lead, next_sla_check, sla_clocks
from apps.leads.services import LifecycleError, lead_transition
from apps.outbox.models import OutboxMessage
from apps.outbox.services import (
    NothingToDeliver,
    outbox_deliver_due,
    outbox_email_send,
    outbox_handler,
    outbox_put_many,
    outbox_rows_put,
)
from apps.sla import triggers
from apps.sla.models import (
    DIGEST_KINDS,
    Notification,
    NotificationKind,
    SLACheck,
    SLAEvent,
    SLAEventKind,
)
from leadflow.bulk_insert import bulk_insert, rows_insert
from leadflow.rows import values_rows

logger = logging.getLogger(__name__)

SWEEP_BATCH_SIZE = 500

#: Sent inside the sweep's transaction with the ids of the reminders and breaches it has
#: just recorded (``event_ids``), for what must commit with them, such as webhook events.
sla_events_recorded = Signal()

REMINDERS = {"accept": SLAEventKind.ACCEPT_REMINDER, "process": SLAEventKind.PROCESS_REMINDER}
BREACHES = {"accept": SLAEventKind.ACCEPT_BREACH, "process": SLAEventKind.PROCESS_BREACH}


class DueLead(NamedTuple):
    """What the sweep reads of a lead: its stage, owner and clocks (a row, not a model)."""

    pk: int
    stage: str
    owner_id: int | None
    accept_remind_at: dt.datetime | None
    accept_due_at: dt.datetime | None
    process_remind_at: dt.datetime | None
    process_due_at: dt.datetime | None


class DueEvent(NamedTuple):
    lead: DueLead
    kind: str
    deadline: dt.datetime


class ClaimedEvent(NamedTuple):
    pk: int
    lead_id: int
    kind: str
    owner_id: int | None


@dataclass
class SweepResult:
    leads_checked: int = 0
    events: dict[str, int] = field(default_factory=dict)
    reassigned: int = 0
    notifications: list[int] = field(default_factory=list)

    def count(self, kind: str) -> None:
        self.events[kind] = self.events.get(kind, 0) + 1


def sla_sweep(*, now: dt.datetime | None = None, batch_size: int = SWEEP_BATCH_SIZE) -> SweepResult:
    """Send every reminder and breach that is due at ``now``, each exactly once."""
    now = now or timezone.now()
    triggers.ensure_installed(connection)
    policy = SLAPolicy.load()
    managers = _Managers()
    result = SweepResult()
    after: tuple[dt.datetime, int] | None = None
    while True:
        with transaction.atomic():
            checks = _lock_due_checks(now=now, after=after, size=batch_size)
            if not checks:
                break
            # Keyset paging: each check is visited once per sweep, however many are due.
            after = checks[-1]
            leads = _read_leads([lead_id for _moment, lead_id in checks])
            _sweep_batch(leads, now=now, policy=policy, managers=managers, result=result)
        if len(checks) < batch_size:
            # A short batch is the last: any due check it did not get was skipped, held by
            # a transaction that deals with it (another sweep, or a transition moving it on).
            break
    return result


def _skip_locked(queryset, **lock):
    """Rows another transaction holds are skipped, not waited for: it deals with them."""
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, **lock)
    return queryset.select_for_update(**lock)


def _lock_due_checks(*, now, after, size) -> list[tuple[dt.datetime, int]]:
    """(moment, lead id) of the next ``size`` checks due by ``now``, in that order, locked."""
    checks = SLACheck.objects.filter(next_check_at__lte=now)
    if after is not None:
        at, lead_id = after
        checks = checks.filter(next_check_at__gte=at).filter(
            Q(next_check_at__gt=at) | Q(lead_id__gt=lead_id)
        )
    checks = _skip_locked(checks.order_by("next_check_at", "lead_id"))[:size]
    return values_rows(checks, ["next_check_at", "lead_id"])


def _read_leads(ids: list[int]) -> list[DueLead]:
    """The stage, owner and clocks of the leads whose checks are due.

    Read, not locked: a transition that changes one of them also reschedules its check
    (the trigger), so it waits for this batch's lock on that check and has the last word.
    """
    leads = values_rows(Lead.objects.filter(pk__in=ids).order_by("pk"), DueLead._fields)
    return [DueLead(*row) for row in leads]


def _lock_for_reassignment(ids: set[int]) -> set[int]:
    """Those of ``ids`` this batch may reassign: locked now, skipping any a transition holds.

    Reassigning takes the lead's lock; taken up front with SKIP LOCKED, a transition that
    holds it (and waits for this batch's check) makes the sweep pass, not deadlock.
    """
    leads = Lead.objects.filter(pk__in=ids).order_by("pk").values_list("pk", flat=True)
    return set(_skip_locked(leads))


def _sweep_batch(leads: list[DueLead], *, now, policy, managers, result) -> None:
    due = [event for lead in leads for event in due_events(lead, now)]
    # A breach that hands the lead to another rep starts fresh clocks: like the rest of the
    # old episode, its other events are left alone, unless that breach was recorded before
    # (by an earlier sweep whose reassignment found nobody) and so is no news now.
    breaching = set()
    if policy.reassign_on_breach:
        breaching = {
            event.lead.pk
            for event in due
            if event.kind == SLAEventKind.ACCEPT_BREACH and event.lead.owner_id
        }
    if breaching:
        busy = breaching - _lock_for_reassignment(breaching)
        if busy:  # a transition is changing them: the next sweep looks again
            leads = [lead for lead in leads if lead.pk not in busy]
            due = [event for event in due if event.lead.pk not in busy]
            breaching -= busy
    claimed = _claim_events(
        [e for e in due if e.lead.pk not in breaching or e.kind == SLAEventKind.ACCEPT_BREACH]
    )
    reassigning = {event.lead_id for event in claimed if event.lead_id in breaching}
    unclaimed = breaching - reassigning
    if unclaimed:
        claimed += _claim_events(
            [e for e in due if e.lead.pk in unclaimed and e.kind != SLAEventKind.ACCEPT_BREACH]
        )
    for event in claimed:
        result.count(event.kind)
    if claimed:
        sla_events_recorded.send(sender=SLAEvent, event_ids=[event.pk for event in claimed])

    result.notifications += _event_notifications_create(
        [
            (recipient, kind, event.lead_id, event.pk)
            for event in claimed
            for recipient, kind in _recipients(event, policy=policy, managers=managers)
        ]
    )

    for pk in sorted(reassigning):
        if _reassign_after_breach(pk, now=now):
            result.reassigned += 1
        else:
            reassigning.discard(pk)
    # A reassigned lead's fresh clocks were scheduled by its transition.
    _move_checks_on([lead for lead in leads if lead.pk not in reassigning], now=now)
    result.leads_checked += len(leads)


def due_events(lead: DueLead, now: dt.datetime) -> list[DueEvent]:
    """The reminders and breaches of ``lead``'s running clocks whose moment has come.

    A reminder whose deadline has already passed is skipped: the breach says more;
    a lead without an owner gets no reminder (the managers hear of its breach).
    """
    events = []
    for clock in sla_clocks(lead.stage, lead):
        if clock.due_at is None:
            continue
        if clock.due_at <= now:
            events.append(DueEvent(lead, BREACHES[clock.name], clock.due_at))
        elif (
            clock.remind_at is not None
            and clock.remind_at < clock.due_at
            and clock.remind_at <= now
            and lead.owner_id
        ):
            events.append(DueEvent(lead, REMINDERS[clock.name], clock.due_at))
    return events


def _claim_events(due: list[DueEvent]) -> list[ClaimedEvent]:
    """Insert the ``SLAEvent`` rows of ``due`` in one statement; return those this call inserted.

    The unique (lead, kind, deadline) constraint is the claim: a row another sweep (or
    an earlier one) recorded is left alone and not returned, so nobody is told twice.
    """
    rows = [(event.lead.pk, str(event.kind), event.deadline, event.lead.owner_id) for event in due]
    inserted = rows_insert(
        SLAEvent,
        ["lead", "kind", "deadline", "owner"],
        rows,
        conflict=("lead", "kind", "deadline"),
        returning=("id", "lead", "kind"),
        fixed={"created_at": timezone.now()},
    )
    ids = {(lead_id, kind): pk for pk, lead_id, kind in inserted}
    return [
        ClaimedEvent(ids[key], event.lead.pk, event.kind, event.lead.owner_id)
        for event in due
        if (key := (event.lead.pk, str(event.kind))) in ids
    ]


class _Managers:
    """The active sales managers, read once per sweep and only if a breach needs them."""

    def __init__(self):
        self._ids: list[int] | None = None

    def ids(self) -> list[int]:
        if self._ids is None:
            self._ids = list(sales_managers().values_list("pk", flat=True))
        return self._ids


def _recipients(event: ClaimedEvent, *, policy: SLAPolicy, managers: _Managers):
    """(user id, notification kind) of everyone ``event`` concerns."""
    if event.kind in (SLAEventKind.ACCEPT_REMINDER, SLAEventKind.PROCESS_REMINDER):
        return [(event.owner_id, NotificationKind.REMINDER.value)] if event.owner_id else []
    recipients = []
    if event.owner_id is not None:
        recipients.append((event.owner_id, NotificationKind.BREACH.value))
    if policy.escalate_on_breach or event.owner_id is None:
        recipients += [
            (pk, NotificationKind.ESCALATION.value) for pk in managers.ids() if pk != event.owner_id
        ]
    return recipients


def _reassign_after_breach(pk: int, *, now: dt.datetime) -> bool:
    try:
        lead_transition(
            lead=pk,
            name="reassign",
            actor=None,
            at=now,
            values={"restart_clocks": True, "reason": "accept_sla_missed"},
        )
    except LifecycleError as exc:
        # No other rep takes leads: the escalation already went to the managers.
        logger.warning("lead %s not reassigned after its accept breach: %s", pk, exc)
        return False
    return True


def _move_checks_on(leads: list[DueLead], *, now: dt.datetime) -> None:
    """Move each lead's check to its next reminder or deadline after ``now``, or drop it.

    One UPDATE of the narrow queue rows (and one DELETE when a lead has nothing left).
    """
    moves = [(lead.pk, next_sla_check(lead.stage, lead, after=now)) for lead in leads]
    done = [pk for pk, moment in moves if moment is None]
    moves = [(pk, moment) for pk, moment in moves if moment is not None]
    if done:
        SLACheck.objects.filter(lead_id__in=done).delete()
    if not moves:
        return
    if connection.vendor != "postgresql":
        SLACheck.objects.bulk_update(
            [SLACheck(lead_id=pk, next_check_at=moment) for pk, moment in moves],
            ["next_check_at"],
        )
        return
    table = connection.ops.quote_name(SLACheck._meta.db_table)
    ids, moments = ([*column] for column in zip(*moves, strict=True))
    with connection.cursor() as cursor:
        # The ids a second time, as an index condition: joined to the unnested list alone,
        # the queue was read whole (a hash join), its cost growing with the clocks running.
        cursor.execute(
            f"UPDATE {table} AS queue SET next_check_at = due.next_check_at "
            "FROM unnest(%s::bigint[], %s::timestamptz[]) AS due (lead_id, next_check_at) "
            "WHERE queue.lead_id = due.lead_id AND queue.lead_id = ANY(%s::bigint[])",
            [ids, moments, ids],
        )


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
        for event in due_events(lead, now):
            if event.kind in breaches:
                _event, created = SLAEvent.objects.get_or_create(
                    lead=lead,
                    kind=event.kind,
                    deadline=event.deadline,
                    defaults={"owner_id": lead.owner_id},
                )
                recorded += created
    return recorded


# --- notifications -------------------------------------------------------------

#: The outbox kind of a notification's email.
NOTIFICATION_EMAIL = "sla.notification_email"


def notifications_create(
    *, notifications: Sequence[Notification], email: bool = True
) -> list[Notification]:
    """Store in-app notifications and, in the same transaction, the outbox rows that email them.

    ``notifications`` are unsaved rows (recipient, kind, lead, event); they are
    inserted in one statement, and so are their emails, one outbox row each
    for the recipients with an address. Call it inside the transaction that
    causes them: a rollback takes the emails with it, a commit can't lose them.
    """
    created = bulk_insert(notifications)
    if not created or not email:
        # Kinds told in a digest get their email later (``rejection_digests_queue``).
        return created
    _notification_emails_queue([(n.pk, n.recipient_id) for n in created])
    return created


def _event_notifications_create(rows: list[tuple[int, str, int, int]]) -> list[int]:
    """``notifications_create`` for the sweep's (recipient id, kind, lead id, event id) rows.

    The same rows and emails, written from plain values: no model instance each.
    Returns the notifications' ids.
    """
    inserted = rows_insert(
        Notification,
        ["recipient", "kind", "lead", "event"],
        rows,
        returning=("id", "recipient"),
        fixed={
            "detail": "",
            "link": "",
            "transition": None,
            "created_at": timezone.now(),
            "read_at": None,
            "emailed_at": None,
        },
    )
    if inserted:
        _notification_emails_queue(inserted)
    return [pk for pk, _recipient in inserted]


def _notification_emails_queue(created: list[tuple[int, int]]) -> None:
    """One outbox row emailing each of ``created`` (notification id, recipient id) whose
    recipient has an address."""
    # One read for every recipient's address, however many notifications (the sweep's batches).
    with_address = set(
        get_user_model()
        .objects.filter(pk__in={recipient for _pk, recipient in created})
        .exclude(email="")
        .values_list("pk", flat=True)
    )
    outbox_rows_put(
        kind=NOTIFICATION_EMAIL,
        rows=[
            (f"notification:{pk}", {"notification_id": pk})
            for pk, recipient in created
            if recipient in with_address
        ],
    )


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


def notification_emails_deliver_due() -> int:
    """Deliver, in this process, the notification emails that are due; returns how many went out.

    The ``sla_sweep`` command runs it after its sweep, so the command sends its own
    notifications (and any left behind); the periodic sweep leaves them to the workers.
    Delivery follows the real clock, whatever moment the sweep acted at.
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
    lead = notification.lead
    return email_in_users_language(
        recipient=notification.recipient,
        templates="notifications",
        context=lambda: {
            "notification": notification,
            "lead": lead,
            "message": notification_message(notification),
            "url": lead_url(lead) if lead is not None else notification.link,
        },
    )


def notification_message(notification: Notification) -> str:
    """One sentence saying what happened, in the active language."""
    from django.utils.formats import date_format
    from django.utils.translation import gettext as _

    if notification.kind == NotificationKind.WEBHOOK_FAILING:
        return _(
            "Webhook endpoint %(name)s is failing: its deliveries have been retried for a day "
            "without success. Check the receiver, then resume it in the admin."
        ) % {"name": notification.detail}
    if notification.kind == NotificationKind.WEBHOOK_PAUSED:
        return _(
            "Webhook endpoint %(name)s is paused: it kept failing. Nothing is sent to it until "
            "an admin resumes it, which sends what it missed."
        ) % {"name": notification.detail}
    lead = notification.lead
    name = lead.full_name or lead.email
    company = f" ({lead.company})" if lead.company else ""
    deadline = notification.event.deadline if notification.event else None
    when = date_format(timezone.localtime(deadline), "DATETIME_FORMAT") if deadline else ""
    words = {"name": name, "company": company, "when": when}
    kind, event_kind = notification.kind, notification.event.kind if notification.event else None
    if kind == NotificationKind.NEW_MQL:
        return (
            _("New MQL for you: %(name)s%(company)s. Accept or reject it within the SLA.") % words
        )
    accepting = event_kind in (SLAEventKind.ACCEPT_REMINDER, SLAEventKind.ACCEPT_BREACH)
    if kind == NotificationKind.REMINDER:
        if accepting:
            return _("Reminder: accept or reject %(name)s%(company)s by %(when)s.") % words
        return _("Reminder: qualify or reject %(name)s%(company)s by %(when)s.") % words
    if kind == NotificationKind.BREACH:
        if accepting:
            return _("You missed the accept deadline (%(when)s) for %(name)s%(company)s.") % words
        return _("You missed the processing deadline (%(when)s) for %(name)s%(company)s.") % words
    if kind == NotificationKind.REASSIGNED_AWAY:
        row = notification.transition
        words["owner"] = str(row.owner) if row and row.owner else _("nobody")
        if row and row.actor:
            words["who"] = str(row.actor)
            return (
                _(
                    "%(name)s%(company)s was reassigned to %(owner)s by %(who)s: it is no longer yours."
                )
                % words
            )
        return (
            _(
                "%(name)s%(company)s was reassigned to %(owner)s after its deadline was missed: "
                "it is no longer yours."
            )
            % words
        )
    if kind == NotificationKind.MQL_REJECTED:
        row = notification.transition
        words["reason"] = reject_reason_label(row.reason if row else lead.last_reject_reason_id)
        words["who"] = str(row.actor) if row and row.actor else _("the system")
        return _("Sales rejected %(name)s%(company)s: %(reason)s (by %(who)s).") % words
    event = notification.event
    # People by their full name, as every page names them.
    words["owner"] = str(event.owner) if event and event.owner else _("nobody")
    if accepting:
        return (
            _("Escalation: %(name)s%(company)s was not accepted by %(when)s (owner: %(owner)s).")
            % words
        )
    return (
        _("Escalation: %(name)s%(company)s was not processed by %(when)s (owner: %(owner)s).")
        % words
    )


def reject_reason_label(code: str | None) -> str:
    """A reject reason's label in the active language (its code when the list lost it)."""
    if not code:
        return "—"
    label = RejectReason.objects.filter(code=code).values_list("label", flat=True).first()
    return translated_label(label) if label else code


# --- the feedback loop: rejections reach marketing (issue 12) -------------------------

#: The outbox kind of a marketer's daily digest of rejected MQLs.
REJECTION_DIGEST_EMAIL = "sla.rejection_digest_email"


def rejection_notifications_create(*, transition) -> list[Notification]:
    """Tell marketing, in the app, that sales rejected an MQL; email waits for the daily digest.

    Called inside the transaction of the reject (so it commits or rolls back with it).
    Every active marketer hears of it, except one who made the rejection themselves.
    """
    recipients = marketers().exclude(pk=transition.actor_id).values_list("pk", flat=True)
    return _transition_notifications_create(
        transition=transition,
        kind=NotificationKind.MQL_REJECTED,
        recipients=recipients,
        email=False,
    )


def reassigned_away_notification_create(
    *, transition, previous_owner_id: int | None
) -> Notification | None:
    """Tell the rep a lead was taken from that it is no longer theirs (in the app and by email).

    Called inside the transaction of the reassign, as the new owner's notification is;
    nobody is told when the lead had no owner, or when its owner reassigned it themselves.
    """
    if previous_owner_id is None or previous_owner_id in (transition.owner_id, transition.actor_id):
        return None
    return _transition_notifications_create(
        transition=transition, kind=NotificationKind.REASSIGNED_AWAY, recipients=[previous_owner_id]
    )[0]


def reminders_of_a_former_owner_read(*, transition, previous_owner_id: int | None) -> int:
    """Mark read the unread SLA reminders its former owner has of a lead reassigned away.

    They ask the rep to act on a lead that is no longer theirs; the "reassigned away"
    notification says so instead. The lead's deadlines are not touched. Returns how many.
    """
    if previous_owner_id is None or previous_owner_id == transition.owner_id:
        return 0
    return Notification.objects.filter(
        recipient_id=previous_owner_id,
        lead_id=transition.lead_id,
        kind=NotificationKind.REMINDER,
        read_at__isnull=True,
    ).update(read_at=transition.at)


def _transition_notifications_create(
    *, transition, kind: str, recipients, email: bool = True
) -> list[Notification]:
    """The notifications of ``kind`` telling ``recipients`` (user ids) of a history row."""
    return notifications_create(
        notifications=[
            Notification(
                recipient_id=pk, kind=kind, lead_id=transition.lead_id, transition=transition
            )
            for pk in recipients
        ],
        email=email,
    )


def rejection_digests_queue(*, now: dt.datetime | None = None) -> int:
    """Queue one digest email per marketer with the rejections not emailed yet; returns how many.

    Safe to run twice or twice at once: the rows are claimed with a conditional UPDATE of
    ``emailed_at`` in the same transaction that writes the outbox rows, so each rejection
    goes into exactly one digest. Read along ``notification_digest_idx``.
    """
    now = now or timezone.now()
    with transaction.atomic():
        pending = _skip_locked(
            Notification.objects.filter(kind__in=DIGEST_KINDS, emailed_at__isnull=True)
            .order_by("recipient_id", "id")
            .values_list("pk", "recipient_id")
        )
        rows = list(pending)
        if not rows:
            return 0
        ids = [pk for pk, _recipient in rows]
        Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).update(emailed_at=now)
        by_recipient: dict[int, list[int]] = {}
        for pk, recipient in rows:
            by_recipient.setdefault(recipient, []).append(pk)
        with_address = set(
            get_user_model()
            .objects.filter(pk__in=by_recipient, is_active=True)
            .exclude(email="")
            .values_list("pk", flat=True)
        )
        day = timezone.localdate(now).isoformat()
        outbox_put_many(
            messages=[
                OutboxMessage(
                    kind=REJECTION_DIGEST_EMAIL,
                    key=f"rejection-digest:{recipient}:{day}:{ids[0]}",
                    payload={"recipient_id": recipient, "notification_ids": ids},
                )
                for recipient, ids in by_recipient.items()
                if recipient in with_address
            ]
        )
    return len(with_address & set(by_recipient))


@outbox_handler(REJECTION_DIGEST_EMAIL)
def rejection_digest_send(message: OutboxMessage) -> None:
    """Email one marketer's digest (the outbox claims, retries and marks the row)."""
    recipient = (
        get_user_model()
        .objects.filter(pk=message.payload["recipient_id"])
        .exclude(email="")
        .first()
    )
    if recipient is None:
        raise NothingToDeliver("the recipient or their email address is gone")
    notifications = list(
        Notification.objects.select_related("lead", "transition__actor")
        .filter(pk__in=message.payload["notification_ids"])
        .order_by("created_at", "id")
    )
    if not notifications:
        raise NothingToDeliver("the digest's notifications are gone")
    outbox_email_send(message, rejection_digest_email(recipient, notifications))


def rejection_digest_email(recipient, notifications) -> EmailMultiAlternatives:
    """One marketer's digest of rejected MQLs, in their language, each with its link."""
    return email_in_users_language(
        recipient=recipient,
        templates="notifications/digest",
        context=lambda: {
            "count": len(notifications),
            "items": [
                {"message": notification_message(n), "url": lead_url(n.lead)} for n in notifications
            ],
            "review_url": settings.SITE_URL.rstrip("/") + reverse("leads:review"),
        },
    )
