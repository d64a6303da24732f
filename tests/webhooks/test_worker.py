"""Webhook delivery by real Celery workers on Redis, against PostgreSQL (issue 15).

1. Four worker threads deliver the events of several leads at once: each lead's
   events still reach the receiver in the order they happened, each once.
2. A worker process killed (SIGKILL) while the receiver holds its request loses
   nothing: once the claim's lease runs out, the periodic delivery sends the
   event again (same id, valid signature), and the lead's next event follows it.
"""

import time

import pytest

from apps.leads.services import lead_transition, lead_upsert
from apps.outbox.models import OutboxStatus
from apps.webhooks.models import Event, WebhookDelivery
from tests.factories import LeadFactory, UserFactory
from tests.leads.helpers import QUALIFYING_BANT, form_values
from tests.outbox.test_delivery_faults import DELIVERY, clear_queue, every, processes
from tests.waiting import wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

STEPS = [
    ("promote", "maya", {"reason": "Met at the booth"}),
    ("accept", "mona", {}),
    ("qualify", "mona", QUALIFYING_BANT),
]


def all_sent():
    return not WebhookDelivery.objects.exclude(message__status=OutboxStatus.SENT).exists()


def test_worker_threads_deliver_each_leads_events_in_order(live_worker, receiver, endpoint, team):
    receiver.script = [(204, b"", 0.05)] * 100  # a receiver that takes a moment
    leads = [LeadFactory().pk for _ in range(6)]
    for name, who, data in STEPS:
        for pk in leads:
            lead_transition(lead=pk, name=name, actor=team[who], values=form_values(name, data))
    assert wait_for(all_sent, timeout=60), "deliveries still open"

    received = receiver.events()
    assert receiver.all_verified()
    assert len(received) == len({e["id"] for e in received}) == Event.objects.count() == 18
    for pk in leads:
        types = [e["type"] for e in received if e["data"]["lead"]["id"] == pk]
        assert types == ["lead.promoted", "lead.accepted", "lead.qualified"]


def test_a_worker_killed_mid_delivery_loses_no_event(
    receiver,
    endpoint,
    team,
    processes,
    redis_url,
):
    from leadflow.celery import app
    from tests.conftest import _forget_broker

    # The receiver holds the first request long enough for the worker to be killed in it.
    receiver.script = [(204, b"", 8)]
    every(1, DELIVERY)
    clear_queue(redis_url)
    group = processes(broker_url=redis_url, smtp_port=1)
    group.env.update(
        WEBHOOK_ALLOWED_HOSTS="127.0.0.1",
        WEBHOOK_RETRY_BASE_SECONDS="1",
        WEBHOOK_TIMEOUT_SECONDS="20",
    )
    group.worker("hooks-victim")

    saved = {k: app.conf[k] for k in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=redis_url, task_always_eager=False)
    _forget_broker(app)
    try:
        lead, _created = lead_upsert(email="kept@example.com", values={"source": "website"})
        lead_transition(
            lead=lead.pk,
            name="promote",
            actor=team["maya"],
            values=form_values("promote", {"reason": "Asked for a demo"}),
        )
        assert wait_for(lambda: len(receiver.received) == 1, timeout=30), group.logs()
        group.kill("hooks-victim")  # mid-request: the receiver is still answering
        time.sleep(0.5)
        assert len(receiver.received) == 1
        group.worker("hooks-heir")
        group.beat()
        assert wait_for(all_sent, timeout=60), group.logs()
    finally:
        group.stop_all()
        app.conf.update(saved)
        _forget_broker(app)
        clear_queue(redis_url)

    received = [r.json for r in receiver.received]
    assert receiver.all_verified()
    created, promoted = Event.objects.order_by("pk")
    assert [e["id"] for e in received] == [created.public_id, created.public_id, promoted.public_id]
    first = WebhookDelivery.objects.get(event=created).message
    assert first.attempts == 2 and first.status == OutboxStatus.SENT
