"""The SLA sweep on a real Redis broker and a real Celery worker, against PostgreSQL.

Each test sends sweep tasks through Redis to an in-process worker of four
threads, so four sweeps really run at once on four database connections.
"""

import datetime as dt
import time

import pytest
from django.core import mail
from django.utils import timezone

from apps.criteria.models import SLAPolicy
from apps.leads.models import Lead, StageTransition
from apps.leads.services import lead_transition
from apps.sla import tasks
from apps.sla.models import Notification, SLAEvent
from tests.factories import LeadFactory, UserFactory
from tests.leads.helpers import form_values
from tests.waiting import wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

H = dt.timedelta(hours=1)


@pytest.fixture
def team(team):
    """The team and a second manager, Mike: escalations go to every manager.

    Nobody has been assigned a lead yet: Rita gets the first, Oscar the next.
    """
    return {**team, "mike": UserFactory(username="mike", roles=["sales_manager"])}


def promoted_hours_ago(hours, team, **lead_fields):
    lead = LeadFactory(**lead_fields)
    lead_transition(
        lead=lead.pk,
        name="promote",
        actor=team["maya"],
        values=form_values("promote", {"reason": "booth visit"}, at=timezone.now() - hours * H),
        at=timezone.now() - hours * H,
    )
    lead.refresh_from_db()
    if lead.owner is not None:
        # The new owner's "new MQL" email travels through the broker too; let it land first.
        assert wait_for(
            lambda: Notification.objects.filter(
                lead=lead, kind="new_mql", emailed_at__isnull=False
            ).exists()
        )
    return lead


def run_sweeps(n):
    for _ in range(n):
        tasks.sla_sweep_task.delay()


def settled(count_emails, expected, grace=2.0):
    """Wait until ``expected`` emails went out, then a little longer to catch any extra one."""
    assert wait_for(lambda: count_emails() >= expected), (
        f"only {count_emails()} of {expected} emails arrived"
    )
    time.sleep(grace)
    return count_emails()


def test_two_sweeps_in_a_row_send_one_reminder(live_worker, team):
    lead = promoted_hours_ago(21, team)
    mail.outbox.clear()
    run_sweeps(1)
    assert wait_for(lambda: SLAEvent.objects.filter(lead=lead).exists())
    run_sweeps(1)
    reminders = lambda: sum(1 for m in mail.outbox if "Reminder" in m.body)  # noqa: E731
    assert settled(reminders, 1) == 1
    assert list(SLAEvent.objects.filter(lead=lead).values_list("kind", flat=True)) == [
        "accept_reminder"
    ]


def test_four_sweeps_at_once_send_one_reminder_per_lead_kind_and_deadline(live_worker, team):
    leads = [promoted_hours_ago(21, team, email=f"due{i}@example.com") for i in range(6)]
    mail.outbox.clear()
    run_sweeps(4)
    reminders = lambda: sum(1 for m in mail.outbox if "Reminder" in m.body)  # noqa: E731
    assert settled(reminders, 6) == 6
    assert SLAEvent.objects.filter(lead__in=leads).count() == 6
    assert Notification.objects.filter(lead__in=leads, kind="reminder").count() == 6


def test_no_reminder_for_a_lead_accepted_in_time(live_worker, team):
    accepted = promoted_hours_ago(21, team, email="quick@example.com")
    lead_transition(
        lead=accepted.pk, name="accept", actor=accepted.owner, at=timezone.now() - 20 * H
    )
    sentinel = promoted_hours_ago(21, team, email="slow@example.com")
    mail.outbox.clear()
    run_sweeps(4)
    settled(lambda: len(mail.outbox), 1)
    assert [m.to for m in mail.outbox] == [[sentinel.owner.email]]
    assert not SLAEvent.objects.filter(lead=accepted).exists()


def test_a_breach_escalates_once_to_every_sales_manager(live_worker, team):
    lead = promoted_hours_ago(25, team)
    mail.outbox.clear()
    run_sweeps(4)
    assert settled(lambda: len(mail.outbox), 3) == 3
    assert sorted(m.to[0] for m in mail.outbox) == [
        "mike@example.com",
        "mona@example.com",
        "rita@example.com",
    ]
    assert list(SLAEvent.objects.filter(lead=lead).values_list("kind", flat=True)) == [
        "accept_breach"
    ]


def test_auto_reassignment_on_breach_writes_one_history_row(live_worker, team):
    policy = SLAPolicy.load()
    policy.reassign_on_breach = True
    policy.save()
    lead = promoted_hours_ago(25, team)
    assert lead.owner == team["rita"]
    mail.outbox.clear()
    run_sweeps(4)
    # Breach to Rita, escalation to two managers, the new-MQL email to Oscar, and Rita is told
    # the lead is no longer hers.
    assert settled(lambda: len(mail.outbox), 5) == 5
    assert any(m.to == [team["rita"].email] and "no longer yours" in m.body for m in mail.outbox)
    assert StageTransition.objects.filter(lead=lead, transition="reassign").count() == 1
    assert Lead.objects.get(pk=lead.pk).owner == team["oscar"]
    assert any(m.to == ["oscar@example.com"] and "New MQL" in m.body for m in mail.outbox)
