"""The sweep beside transitions in flight, on PostgreSQL with real connections: it passes, never waits or deadlocks."""

import datetime as dt
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from apps.criteria.models import SLAPolicy
from apps.leads.models import Lead, StageTransition
from apps.leads.services import lead_transition
from apps.sla.models import SLACheck, SLAEvent
from apps.sla.services import sla_sweep
from tests.factories import LeadFactory
from tests.leads.helpers import form_values

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

H = dt.timedelta(hours=1)


def promoted(team, hours_ago):
    lead = LeadFactory()
    lead_transition(
        lead=lead.pk,
        name="promote",
        actor=team["maya"],
        values=form_values("promote", {"reason": "booth"}),
        at=timezone.now() - hours_ago * H,
    )
    return Lead.objects.get(pk=lead.pk)


class Holding(threading.Thread):
    """Holds a row lock in its own transaction (its own connection) until told to let go."""

    def __init__(self, lock):
        super().__init__()
        self.lock, self.held, self.release = lock, threading.Event(), threading.Event()

    def run(self):
        try:
            with transaction.atomic():
                self.lock()
                self.held.set()
                self.release.wait(timeout=20)
        finally:
            connection.close()

    def __enter__(self):
        self.start()
        assert self.held.wait(timeout=10)
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.join(timeout=20)


def test_a_breach_whose_lead_a_transition_holds_waits_for_the_next_sweep(team):
    policy = SLAPolicy.load()
    policy.reassign_on_breach = True
    policy.save()
    lead = promoted(team, 25)
    assert lead.owner == team["rita"]

    with Holding(lambda: Lead.objects.select_for_update().get(pk=lead.pk)):
        passed = sla_sweep()

    assert (passed.events, passed.reassigned) == ({}, 0)
    assert not SLAEvent.objects.filter(lead=lead).exists()

    done = sla_sweep()
    assert (done.events, done.reassigned) == ({"accept_breach": 1}, 1)
    assert Lead.objects.get(pk=lead.pk).owner == team["oscar"]
    assert StageTransition.objects.filter(lead=lead, transition="reassign").count() == 1


def test_a_transition_made_while_a_sweep_holds_its_check_has_the_last_word(team):
    lead = promoted(team, 21)
    outcome = {}

    def accept():
        try:
            lead_transition(lead=lead.pk, name="accept", actor=team["rita"])
            outcome["accepted"] = True
        finally:
            connection.close()

    with Holding(lambda: SLACheck.objects.select_for_update().get(lead_id=lead.pk)):
        accepting = threading.Thread(target=accept)
        accepting.start()
        accepting.join(timeout=1)
        assert accepting.is_alive()  # the accept waits for the sweep's lock on the check
    accepting.join(timeout=20)

    lead.refresh_from_db()
    assert outcome == {"accepted": True} and lead.stage == "accepted"
    assert SLACheck.objects.get(lead_id=lead.pk).next_check_at == lead.process_remind_at
