"""The outbox: emails written with the change that causes them, delivered at least once.

Each email is a row in the same transaction as its cause; a worker claims it
with a lease, sends it with a stable Message-ID, retries it with backoff and
finally marks it failed, where the admin can send it again.
"""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from apps.leads.models import Lead
from apps.leads.services import lead_transition
from apps.outbox import services as outbox
from apps.outbox.models import OutboxMessage
from apps.outbox.tasks import outbox_deliver_task
from apps.sla.models import Notification
from tests.factories import LeadFactory, UserFactory
from tests.leads.helpers import walk_to

pytestmark = pytest.mark.django_db


class FlakyBackend:
    """A mail server that refuses the first ``failures`` messages, then takes them."""

    failures = 0
    seen_message_ids: list[str] = []

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        for message in messages:
            FlakyBackend.seen_message_ids.append(message.message()["Message-ID"])
            if FlakyBackend.failures > 0:
                FlakyBackend.failures -= 1
                raise ConnectionRefusedError("SMTP server unreachable")
            mail.outbox.append(message)
        return len(messages)


@pytest.fixture
def flaky_mail(settings):
    settings.EMAIL_BACKEND = "tests.outbox.test_outbox.FlakyBackend"
    FlakyBackend.failures = 0
    FlakyBackend.seen_message_ids = []
    return FlakyBackend


def promote(lead, marketer):
    return lead_transition(
        lead=lead.pk, name="promote", actor=marketer, values={"reason": "booth", "note": ""}
    )


def new_mql_email_row(lead):
    notification = Notification.objects.get(lead=lead, kind="new_mql")
    return OutboxMessage.objects.get(key=f"notification:{notification.pk}")


# --- written with the change --------------------------------------------------------------


def test_the_new_mql_email_is_written_in_the_promotions_own_transaction(marketer, rep):
    lead = LeadFactory()
    with transaction.atomic():
        promote(lead, marketer)
        # Before the commit: the notification and its email already exist, in this transaction.
        row = new_mql_email_row(lead)
        assert (row.kind, row.status) == ("sla.notification_email", "pending")
    assert mail.outbox == []  # nothing leaves before the commit


def test_a_promotion_that_rolls_back_takes_its_email_with_it(marketer, rep):
    lead = LeadFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        promote(lead, marketer)
        raise RuntimeError("the request failed after the promotion")
    assert Lead.objects.get(pk=lead.pk).stage == "new"
    assert not Notification.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_after_the_commit_a_worker_is_asked_to_send_it(
    marketer, rep, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lead = walk_to(LeadFactory(first_name="Aiko"), "mql", marketer=marketer, manager=None)
    row = new_mql_email_row(lead)
    assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None
    [email] = mail.outbox
    assert email.to == [rep.email] and "New MQL for you: Aiko" in email.body
    assert Notification.objects.get(lead=lead).emailed_at is not None


# --- the broker is only a head start ------------------------------------------------------


def test_a_broker_that_is_down_delays_the_email_and_never_fails_the_request(
    client, marketer, rep, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(outbox_deliver_task, "apply_async", broker_down)
    lead = LeadFactory()
    client.force_login(marketer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/leads/{lead.pk}/transitions/promote/", {"reason": "booth", "expected_stage": "new"}
        )

    assert response.status_code == 302
    assert Lead.objects.get(pk=lead.pk).stage == "mql"
    assert new_mql_email_row(lead).status == "pending" and mail.outbox == []
    assert "the periodic delivery sends them" in caplog.text

    outbox.outbox_deliver_due()  # what the beat job does every minute

    assert [m.to for m in mail.outbox] == [[rep.email]]
    assert new_mql_email_row(lead).status == "sent"


# --- claims, leases, retries --------------------------------------------------------------


@pytest.fixture
def queued(marketer, rep):
    """A committed promotion whose new-MQL email nobody has tried to send yet."""
    lead = LeadFactory(first_name="Aiko")
    promote(lead, marketer)
    return new_mql_email_row(lead)


def test_a_row_claimed_by_a_live_worker_is_left_alone(queued):
    OutboxMessage.objects.filter(pk=queued.pk).update(
        status="sending",
        attempts=1,
        lease_expires_at=timezone.now() + dt.timedelta(minutes=5),
        next_attempt_at=timezone.now() + dt.timedelta(minutes=5),
    )
    assert outbox.outbox_deliver_due().sent == 0
    assert outbox.outbox_deliver(ids=[queued.pk]).not_claimed == 1
    assert mail.outbox == []


def test_a_claim_whose_worker_died_is_taken_over_once_its_lease_runs_out(queued, settings):
    settings.OUTBOX_LEASE_SECONDS = 60
    claimed_at = timezone.now()
    # A worker claimed it, then died before sending (its lease is still running).
    OutboxMessage.objects.filter(pk=queued.pk).update(
        status="sending",
        attempts=1,
        lease_expires_at=claimed_at + dt.timedelta(seconds=60),
        next_attempt_at=claimed_at + dt.timedelta(seconds=60),
    )
    assert outbox.outbox_deliver_due().sent == 0
    with time_machine.travel(claimed_at + dt.timedelta(seconds=61)):
        assert outbox.outbox_deliver_due().sent == 1
    queued.refresh_from_db()
    assert (queued.status, queued.attempts) == ("sent", 2)
    assert len(mail.outbox) == 1


def test_two_delivery_runs_send_a_row_once(queued):
    assert outbox.outbox_deliver(ids=[queued.pk]).sent == 1
    assert outbox.outbox_deliver(ids=[queued.pk]).sent == 0
    assert outbox.outbox_deliver_due().sent == 0
    assert len(mail.outbox) == 1


def test_failures_are_retried_with_growing_delays_and_the_same_message_id(
    queued, flaky_mail, settings
):
    settings.OUTBOX_RETRY_BASE_SECONDS = 60
    flaky_mail.failures = 3
    delays = []
    now = timezone.now()
    for _ in range(3):
        with time_machine.travel(now, tick=False):
            assert outbox.outbox_deliver_due().retrying == 1
        queued.refresh_from_db()
        delays.append((queued.next_attempt_at - now).total_seconds())
        assert queued.status == "pending" and "SMTP server unreachable" in queued.last_error
        now = queued.next_attempt_at
    with time_machine.travel(now, tick=False):
        assert outbox.outbox_deliver_due().sent == 1

    assert delays == [60, 120, 240]
    queued.refresh_from_db()
    assert (queued.status, queued.attempts, queued.last_error) == ("sent", 4, "")
    # Every attempt carried the same Message-ID, so a receiver can drop a repeat.
    assert len(set(flaky_mail.seen_message_ids)) == 1
    assert flaky_mail.seen_message_ids[0] == f"<leadflow.outbox.{queued.pk}@127.0.0.1>"
    assert mail.outbox[0].extra_headers["Message-ID"] == flaky_mail.seen_message_ids[0]


def test_after_the_last_attempt_the_row_is_failed_and_no_longer_tried(queued, flaky_mail, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    flaky_mail.failures = 99
    outbox.outbox_deliver_due()
    queued.refresh_from_db()
    with time_machine.travel(queued.next_attempt_at, tick=False):
        assert outbox.outbox_deliver_due().failed == 1
    queued.refresh_from_db()
    assert (queued.status, queued.attempts) == ("failed", 2)
    with time_machine.travel(timezone.now() + dt.timedelta(days=1)):
        assert outbox.outbox_deliver_due().sent == 0
    assert len(flaky_mail.seen_message_ids) == 2


def test_a_row_whose_workers_all_died_is_failed_not_tried_forever(queued, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    OutboxMessage.objects.filter(pk=queued.pk).update(
        status="sending", attempts=3, next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )
    outbox.outbox_deliver_due()
    queued.refresh_from_db()
    assert queued.status == "failed" and "worker stopped mid-send" in queued.last_error
    assert mail.outbox == []


def test_a_recipient_without_an_address_gets_no_email_row(marketer):
    UserFactory(username="rita", roles=["sales"], email="")
    lead = LeadFactory()
    promote(lead, marketer)
    assert Notification.objects.filter(lead=lead, kind="new_mql").exists()
    assert not OutboxMessage.objects.exists()


def test_an_address_removed_before_sending_marks_the_row_skipped(queued, rep):
    rep.email = ""
    rep.save()
    assert outbox.outbox_deliver_due().skipped == 1
    queued.refresh_from_db()
    assert queued.status == "skipped" and "address" in queued.last_error
    assert mail.outbox == []


# --- what the email says ------------------------------------------------------------------


def test_plain_text_emails_and_subjects_are_not_html_escaped(
    marketer, rep, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        walk_to(
            LeadFactory(first_name="Siobhán", last_name="O'Brien", company="Smith & Sons <UK>"),
            "mql",
            marketer=marketer,
            manager=None,
        )
    [email] = mail.outbox
    assert "O'Brien" in email.subject and "&#x27;" not in email.subject
    assert "New MQL for you: Siobhán O'Brien (Smith & Sons <UK>)" in email.body
    assert "&amp;" not in email.body and "&lt;" not in email.body
    html, _ = email.alternatives[0]
    assert "O&#x27;Brien" in html and "Smith &amp; Sons &lt;UK&gt;" in html


# --- the admin ----------------------------------------------------------------------------


def test_an_operator_sees_failed_emails_and_sends_them_again_with_the_permission(
    client, queued, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Permission

    OutboxMessage.objects.filter(pk=queued.pk).update(
        status="failed", attempts=10, last_error="SMTPServerDisconnected: gone"
    )
    operator = UserFactory(username="olga", is_staff=True)
    operator.user_permissions.add(Permission.objects.get(codename="view_outboxmessage"))
    client.force_login(operator)
    listing = client.get("/admin/outbox/outboxmessage/", {"status__exact": "failed"})
    body = listing.content.decode()
    assert "sla.notification_email" in body and "SMTPServerDisconnected: gone" in body
    assert "Send the selected failed messages again" not in body  # not without the permission

    resend = {"action": "resend", "_selected_action": [queued.pk], "index": "0"}
    client.post("/admin/outbox/outboxmessage/", resend)
    assert OutboxMessage.objects.get(pk=queued.pk).status == "failed" and mail.outbox == []

    operator.user_permissions.add(Permission.objects.get(codename="resend_outboxmessage"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/outbox/outboxmessage/", resend, follow=True)
    assert "1 message queued to be sent again." in response.content.decode()
    queued.refresh_from_db()
    assert (queued.status, queued.attempts) == ("sent", 1)
    assert mail.outbox[0].extra_headers["Message-ID"] == f"<leadflow.outbox.{queued.pk}@127.0.0.1>"
