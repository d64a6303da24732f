"""The sweep writes its notifications and their emails from plain rows: the rows are the same."""

import datetime as dt

import pytest
from django.forms.models import model_to_dict

from apps.outbox.models import OutboxMessage
from apps.sla import services
from apps.sla.models import Notification, SLAEvent
from tests.factories import UserFactory
from tests.leads.helpers import mqls

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)
# Ids and the moments of writing differ; the key and payload name the notification's id.
UNCOMPARED = ("id", "created_at", "next_attempt_at", "key", "payload")


def written(ids):
    """Each notification of ``ids`` and its email's outbox row, without ids and moments."""
    rows = []
    for notification in Notification.objects.filter(pk__in=ids).order_by("pk"):
        message = OutboxMessage.objects.filter(key=f"notification:{notification.pk}").first()
        if message is not None:
            assert message.payload == {"notification_id": notification.pk}
            assert message.created_at and message.next_attempt_at
            message = {k: v for k, v in model_to_dict(message).items() if k not in UNCOMPARED}
        assert notification.created_at
        fields = model_to_dict(notification, exclude=["id", "event"])
        rows.append((fields, notification.event.kind, message))
    return rows


def test_the_sweeps_notifications_and_emails_are_those_notifications_create_writes(
    marketer, manager, rep, django_capture_on_commit_callbacks
):
    lead = mqls(1, marketer=marketer, manager=manager)[0]
    silent = UserFactory(email="")  # no address: told in the app only

    def events(deadline):
        return [
            SLAEvent.objects.create(lead=lead, kind=kind, deadline=deadline, owner=rep)
            for kind in ("accept_reminder", "accept_breach")
        ]

    def recipients(reminder, breach):
        return [
            (rep.pk, "reminder", lead.pk, reminder.pk),
            (rep.pk, "breach", lead.pk, breach.pk),
            (manager.pk, "escalation", lead.pk, breach.pk),
            (silent.pk, "escalation", lead.pk, breach.pk),
        ]

    with django_capture_on_commit_callbacks() as plain_kicks:
        plain = services._event_notifications_create(recipients(*events(lead.accept_due_at)))
    with django_capture_on_commit_callbacks() as model_kicks:
        created = services.notifications_create(
            notifications=[
                Notification(recipient_id=r, kind=k, lead_id=lead_id, event_id=e)
                for r, k, lead_id, e in recipients(*events(lead.accept_due_at + H))
            ]
        )

    assert len(plain) == 4
    assert written(plain) == written([n.pk for n in created])
    assert [row[2] is None for row in written(plain)] == [False, False, False, True]
    assert len(plain_kicks) == len(model_kicks) == 1
