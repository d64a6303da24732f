"""Webhooks delivered to a real receiver on 127.0.0.1 that verifies every signature (issue 15)."""

import datetime as dt

import pytest
from django.db import transaction

from apps.leads.services import history_replay, lead_transition, lead_upsert
from apps.outbox.models import OutboxMessage, OutboxStatus
from apps.outbox.services import outbox_deliver_due
from apps.reports.services import weekly_report_send_last_week
from apps.sla.models import Notification, NotificationKind
from apps.sla.services import sla_sweep
from apps.webhooks import events as vocabulary
from apps.webhooks.models import EndpointState, Event, WebhookAttempt, WebhookDelivery
from apps.webhooks.services import webhook_endpoint_resume
from tests.factories import LeadFactory
from tests.leads.helpers import form_values, walk_to

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)
WEB = {"source": "website"}
LEAD_KEYS = {"id", "email", "stage", "score", "fit", "owner", "source", "mql_at"}
TRANSITION_KEYS = {"transition", "from", "to", "actor", "at", "reason", "note"}


def move(lead, name, actor, data=None):
    lead_transition(lead=lead.pk, name=name, actor=actor, values=form_values(name, data or {}))


def deliver_until_quiet(rounds=20):
    """The periodic delivery, run until nothing is left to do now."""
    for _ in range(rounds):
        result = outbox_deliver_due()
        if not (result.sent or result.retrying or result.failed or result.skipped):
            return


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run after-commit work (the kick that delivers) as a real commit would."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


def test_every_event_type_reaches_the_receiver_signed_with_its_documented_body(
    receiver, endpoint, marketer, manager, rep, other_rep, on_commit
):
    with on_commit():
        won, _ = lead_upsert(email="won@example.com", values={**WEB, "company": "Won Co"})
    with on_commit():
        walk_to(won, "won", marketer=marketer, manager=manager)
        walk_to(LeadFactory(), "lost", marketer=marketer, manager=manager)
        bounced = walk_to(LeadFactory(), "rejected", marketer=marketer, manager=manager)
        move(bounced, "resubmit", marketer, {"note": "They did ask for a demo"})
        move(bounced, "reassign", manager, {"owner": other_rep.username})
        move(bounced, "reject", manager, {"reason": "no_budget"})
        move(bounced, "recycle", marketer)
        move(bounced, "disqualify", marketer, {"reason": "spam"})
        late = walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager)
    late.refresh_from_db()
    with on_commit():
        sla_sweep(now=late.accept_due_at - 2 * H)  # the reminder
        sla_sweep(now=late.accept_due_at + H)  # the breach
        weekly_report_send_last_week()
    deliver_until_quiet()

    received = receiver.events()
    assert receiver.all_verified(), [r.error for r in receiver.received]
    assert {e["type"] for e in received} == set(vocabulary.EVENT_TYPES)
    assert len({e["id"] for e in received}) == len(received) == Event.objects.count()
    for event in received:
        assert set(event) == {"id", "type", "timestamp", "data"}
        assert event["id"].startswith("evt_") and event["timestamp"].endswith("Z")
        data = event["data"]
        if event["type"] == "report.weekly":
            assert {"week", "mqls", "sqls", "mql_to_sql_rate", "alerts"} <= set(data["report"])
            assert data["url"].endswith("/reports/")
            continue
        assert LEAD_KEYS <= set(data["lead"])
        if event["type"].startswith("sla."):
            assert set(data["sla"]) == {"kind", "clock", "deadline", "owner"}
            assert data["lead"]["id"] == late.pk and data["sla"]["clock"] == "accept"
        elif event["type"] != "lead.created":
            assert set(data["transition"]) == TRANSITION_KEYS
            assert set(data["deadlines"]) == {"accept_due_at", "process_due_at"}
    rejected = next(e for e in received if e["type"] == "lead.rejected")
    assert rejected["data"]["transition"]["actor"] == manager.username
    assert rejected["data"]["transition"]["from"] == "mql"
    assert rejected["data"]["lead"]["stage"] == "rejected"
    promoted = [e for e in received if e["type"] == "lead.promoted"]
    assert all(e["data"]["deadlines"]["accept_due_at"] for e in promoted)
    # Each request carries the Standard Webhooks headers; webhook-id is the event's id.
    assert all(r.headers["webhook-id"] == r.json["id"] for r in receiver.received)


def test_a_receiver_that_fails_twice_then_succeeds_gets_the_event_three_times(
    receiver, endpoint, marketer, on_commit
):
    receiver.script = [(500, b"database is down", 0), (503, b"still down", 0)]
    with on_commit():
        lead_upsert(email="retry@example.com", values=WEB)
    deliver_until_quiet()

    assert [r.json["type"] for r in receiver.received] == ["lead.created"] * 3
    assert len({r.json["id"] for r in receiver.received}) == 1
    assert receiver.all_verified()
    delivery = WebhookDelivery.objects.get()
    attempts = list(delivery.attempts.order_by("pk"))
    assert [(a.ok, a.status_code) for a in attempts] == [(False, 500), (False, 503), (True, 204)]
    assert attempts[0].response_excerpt == "database is down"
    assert attempts[0].error == "HTTP 500"
    assert all(a.latency_ms >= 0 for a in attempts)
    assert delivery.message.status == OutboxStatus.SENT and delivery.message.attempts == 3


def test_a_receiver_down_for_a_while_gets_every_event_once_back_in_order_per_lead(
    receiver, endpoint, marketer, manager, on_commit
):
    receiver.status = 503
    leads = [LeadFactory(), LeadFactory()]
    with on_commit():
        for lead in leads:
            walk_to(lead, "sql", marketer=marketer, manager=manager)
    for _ in range(3):  # a few rounds of retries while it is down
        outbox_deliver_due()
    assert receiver.received and all(r.json["type"] == "lead.promoted" for r in receiver.received)

    receiver.status = 204
    deliver_until_quiet()

    delivered = [r.json for r in receiver.received]
    ok = [a.delivery.event.public_id for a in WebhookAttempt.objects.filter(ok=True).order_by("pk")]
    assert len(ok) == len(set(ok)) == Event.objects.count() == 6
    for lead in leads:
        in_order = [
            e["type"] for e in delivered if e["data"]["lead"]["id"] == lead.pk and e["id"] in ok
        ]
        successful = []
        for event_type in in_order:
            if not successful or successful[-1] != event_type:
                successful.append(event_type)
        assert successful == ["lead.promoted", "lead.accepted", "lead.qualified"]
    # Per lead, no event was sent before the one before it had been delivered.
    for lead in leads:
        ids = list(
            Event.objects.filter(lead=lead).order_by("pk").values_list("public_id", flat=True)
        )
        first_sent = [next(i for i, e in enumerate(delivered) if e["id"] == pk) for pk in ids]
        last_failed_before = [
            max(i for i, e in enumerate(delivered) if e["id"] == pk) for pk in ids
        ]
        assert all(first_sent[n + 1] > last_failed_before[n] for n in range(len(ids) - 1)), (
            "a later event of the lead went out before an earlier one was through"
        )


def test_replayed_history_and_rolled_back_changes_emit_nothing(
    receiver, endpoint, marketer, manager, on_commit
):
    with on_commit(), history_replay():
        lead, _ = lead_upsert(email="past@example.com", values=WEB)
        walk_to(lead, "sql", marketer=marketer, manager=manager)
    with pytest.raises(RuntimeError), transaction.atomic():
        lead_upsert(email="rolled-back@example.com", values=WEB)
        raise RuntimeError
    deliver_until_quiet()
    assert Event.objects.count() == 0 and receiver.received == []


def test_a_delivery_that_gives_up_marks_the_endpoint_failing_and_tells_the_admins(
    receiver, endpoint, admin_user, settings, on_commit
):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    receiver.status = 500
    with on_commit():
        lead_upsert(email="doomed@example.com", values=WEB)
    deliver_until_quiet()

    assert len(receiver.received) == 3  # three attempts, then no more
    endpoint.refresh_from_db()
    assert endpoint.state == EndpointState.FAILING and endpoint.failing_since
    notice = Notification.objects.get(recipient=admin_user)
    assert notice.kind == NotificationKind.WEBHOOK_FAILING and notice.lead is None
    assert str(endpoint.pk) in notice.link and notice.detail == "Warehouse"
    assert OutboxMessage.objects.filter(kind="webhooks.delivery", status="failed").count() == 1


def test_an_endpoint_that_keeps_failing_is_paused_not_retried_and_resumes_in_order(
    receiver, endpoint, admin_user, marketer, manager, settings, on_commit
):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    settings.WEBHOOK_PAUSE_AFTER_SECONDS = 0
    receiver.status = 500
    lead = LeadFactory()
    with on_commit():
        walk_to(lead, "accepted", marketer=marketer, manager=manager)
    deliver_until_quiet()
    endpoint.refresh_from_db()
    # The first give-up marks it failing, the second (failing long enough) pauses it.
    assert endpoint.state == EndpointState.PAUSED
    kinds = set(Notification.objects.filter(recipient=admin_user).values_list("kind", flat=True))
    assert kinds == {NotificationKind.WEBHOOK_FAILING, NotificationKind.WEBHOOK_PAUSED}
    tries = len(receiver.received)
    with on_commit():
        move(lead, "reject", manager, {"reason": "no_budget"})  # no delivery while paused
    deliver_until_quiet()
    assert len(receiver.received) == tries
    held = WebhookDelivery.objects.get(event__type="lead.rejected").message
    assert held.status == OutboxStatus.SKIPPED and held.attempts == 0

    receiver.status = 204
    with on_commit():
        queued = webhook_endpoint_resume(endpoint=endpoint)
    deliver_until_quiet()
    assert queued == 3
    endpoint.refresh_from_db()
    assert endpoint.state == EndpointState.HEALTHY
    sent = [r.json["type"] for r in receiver.received[tries:]]
    assert sent == ["lead.promoted", "lead.accepted", "lead.rejected"]


def test_a_redirect_is_not_followed_and_a_long_answer_is_cut(
    receiver, endpoint, settings, on_commit
):
    settings.WEBHOOK_RESPONSE_LIMIT_BYTES = 64
    receiver.headers = {"Location": "http://169.254.169.254/latest/meta-data/"}
    receiver.script = [(302, b"moved", 0), (200, b"x" * 100_000, 0)]
    with on_commit():
        lead_upsert(email="redirect@example.com", values=WEB)
    deliver_until_quiet()
    first, second = WebhookAttempt.objects.order_by("pk")
    assert not first.ok and first.status_code == 302 and "not followed" in first.error
    assert second.ok and len(second.response_excerpt) == 64
    assert [r.path for r in receiver.received] == ["/hooks/leadflow"] * 2


def test_a_receiver_slower_than_the_timeout_is_a_failed_attempt(
    receiver, endpoint, settings, on_commit
):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    receiver.script = [(204, b"", 1.5)]
    with on_commit():
        lead_upsert(email="slow@example.com", values=WEB)
    attempt = WebhookAttempt.objects.get()
    assert not attempt.ok and "timed out" in attempt.error.lower()
    deliver_until_quiet()
    assert WebhookAttempt.objects.filter(ok=True).count() == 1


def test_an_endpoint_takes_only_the_types_it_picked(
    receiver, endpoint, marketer, manager, on_commit
):
    endpoint.event_types = ["lead.accepted"]
    endpoint.save()
    with on_commit():
        walk_to(LeadFactory(), "accepted", marketer=marketer, manager=manager)
    assert [r.json["type"] for r in receiver.received] == ["lead.accepted"]


def test_an_inactive_endpoint_gets_nothing(receiver, endpoint, on_commit):
    endpoint.active = False
    endpoint.save()
    with on_commit():
        lead_upsert(email="quiet@example.com", values=WEB)
    assert receiver.received == [] and Event.objects.count() == 1


def test_events_wait_in_the_outbox_when_the_delivery_kick_is_lost(receiver, endpoint):
    # No after-commit kick (as when the broker is down): the periodic delivery sends it.
    with transaction.atomic():
        lead_upsert(email="later@example.com", values=WEB)
    assert receiver.received == []
    deliver_until_quiet()
    assert [r.json["type"] for r in receiver.received] == ["lead.created"]
