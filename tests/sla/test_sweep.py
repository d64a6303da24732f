"""The SLA sweep sends each reminder once, records each breach once and escalates it (SPEC §4)."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.criteria.models import SLAPolicy
from apps.leads.models import StageTransition
from apps.leads.services import lead_transition
from apps.outbox.models import OutboxMessage
from apps.sla.models import Notification, SLAEvent
from apps.sla.services import notification_emails_deliver_due
from apps.sla.services import sla_sweep as run_sla_sweep
from tests.factories import LeadFactory, UserFactory
from tests.leads.helpers import form_values, walk_to

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """The sweep, then the due notification emails delivered, as the ``sla_sweep`` command does."""

    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            result = run_sla_sweep(**kwargs)
        notification_emails_deliver_due()
        return result

    return run


@pytest.fixture
def mql(marketer, manager, rep, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        lead = walk_to(
            LeadFactory(first_name="Aiko", last_name="Tanaka", company="Kumo"),
            "mql",
            marketer=marketer,
            manager=manager,
        )
    assert lead.owner == rep
    mail.outbox.clear()
    return lead


def events(lead):
    return sorted(SLAEvent.objects.filter(lead=lead).values_list("kind", flat=True))


def test_nothing_is_sent_while_no_deadline_is_near(mql, sweep):
    result = sweep(now=mql.mql_at + 19 * H)
    assert result.events == {}
    assert mail.outbox == []


def test_the_owner_is_reminded_once_four_hours_before_the_accept_deadline(mql, rep, sweep):
    sweep(now=mql.mql_at + 20 * H)
    sweep(now=mql.mql_at + 20 * H)
    sweep(now=mql.mql_at + 22 * H)
    assert events(mql) == ["accept_reminder"]
    assert [m.to for m in mail.outbox] == [[rep.email]]
    reminder = mail.outbox[0]
    assert "Reminder" in reminder.subject or "reminder" in reminder.subject.lower()
    assert "accept or reject Aiko Tanaka (Kumo)" in reminder.body
    assert f"/leads/{mql.pk}/" in reminder.body or "/leads/" in reminder.body
    html, mimetype = reminder.alternatives[0]
    assert mimetype == "text/html" and "Aiko Tanaka" in html
    assert Notification.objects.filter(recipient=rep, kind="reminder", lead=mql).count() == 1


def test_no_accept_reminder_for_a_lead_accepted_in_time(mql, rep, sweep):
    lead_transition(lead=mql.pk, name="accept", actor=rep, at=mql.mql_at + 2 * H)
    sweep(now=mql.mql_at + 21 * H)
    sweep(now=mql.mql_at + 30 * H)
    assert events(mql) == []
    assert mail.outbox == []
    # The processing clock still runs until it is qualified or rejected.
    sweep(now=mql.mql_at + 45 * H)
    assert events(mql) == ["process_reminder"]


def test_a_breach_escalates_once_to_the_owner_and_every_sales_manager(mql, rep, manager, sweep):
    second_manager = UserFactory(username="mike", roles=["sales_manager"])
    for _ in range(3):
        sweep(now=mql.mql_at + 25 * H)
    assert events(mql) == ["accept_breach"]
    by_kind = {
        (n.recipient.username, n.kind)
        for n in Notification.objects.filter(lead=mql, event__isnull=False)
    }
    assert by_kind == {("rita", "breach"), ("mona", "escalation"), ("mike", "escalation")}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [rep.email, manager.email, second_manager.email]
    )
    escalation = next(m for m in mail.outbox if m.to == [manager.email])
    assert "not accepted" in escalation.body and "rita" in escalation.body


def test_without_escalation_only_the_owner_hears_of_the_breach(mql, rep, sweep):
    policy = SLAPolicy.load()
    policy.escalate_on_breach = False
    policy.save()
    sweep(now=mql.mql_at + 25 * H)
    assert [m.to for m in mail.outbox] == [[rep.email]]


def test_a_sweep_that_was_down_sends_the_breaches_not_the_stale_reminders(mql, sweep):
    sweep(now=mql.mql_at + 50 * H)
    assert events(mql) == ["accept_breach", "process_breach"]


def test_a_rejected_lead_has_no_clocks(mql, rep, sweep):
    lead_transition(
        lead=mql.pk,
        name="reject",
        actor=rep,
        values=form_values("reject", {"reason": "no_need"}, at=mql.mql_at + H),
        at=mql.mql_at + H,
    )
    sweep(now=mql.mql_at + 60 * H)
    assert events(mql) == [] and mail.outbox == []


def test_a_breach_reassigns_round_robin_when_the_policy_says_so(mql, rep, other_rep, sweep):
    policy = SLAPolicy.load()
    policy.reassign_on_breach = True
    policy.save()
    breach_at = mql.mql_at + 25 * H
    sweep(now=breach_at)
    sweep(now=breach_at + H)
    mql.refresh_from_db()
    assert mql.owner == other_rep
    reassign = StageTransition.objects.get(lead=mql, transition="reassign")
    assert (reassign.actor, reassign.owner, reassign.from_stage, reassign.to_stage) == (
        None,
        other_rep,
        "mql",
        "mql",
    )
    assert reassign.reason == "accept_sla_missed"
    # Fresh clocks for the new owner, and they hear about the lead.
    assert mql.accept_due_at == breach_at + 24 * H
    assert Notification.objects.filter(recipient=other_rep, kind="new_mql", lead=mql).exists()


def test_reassignment_never_goes_back_to_the_rep_who_missed_it(mql, rep, sweep):
    policy = SLAPolicy.load()
    policy.reassign_on_breach = True
    policy.save()
    sweep(now=mql.mql_at + 25 * H)
    mql.refresh_from_db()
    assert mql.owner == rep  # nobody else takes leads: it stays, and the managers were told
    assert not StageTransition.objects.filter(lead=mql, transition="reassign").exists()
    assert Notification.objects.filter(lead=mql, kind="escalation").exists()


def test_an_unassigned_mql_that_breaches_goes_to_the_managers(marketer, manager, sweep):
    lead = walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager)
    assert lead.owner is None  # no rep takes leads
    sweep(now=lead.mql_at + 25 * H)
    assert [(n.recipient, n.kind) for n in Notification.objects.filter(lead=lead)] == [
        (manager, "escalation")
    ]


def test_a_new_owner_is_told_about_a_new_mql(mql, rep):
    assert Notification.objects.filter(recipient=rep, kind="new_mql", lead=mql).count() == 1


def test_the_sweep_costs_the_same_queries_however_many_leads_are_not_due(
    mql, marketer, manager, sweep, django_capture_on_commit_callbacks
):
    def sweep_queries():
        Notification.objects.all().delete()
        SLAEvent.objects.all().delete()
        lead = type(mql).objects.get(pk=mql.pk)
        type(mql).objects.filter(pk=lead.pk).update(sla_next_check_at=lead.accept_remind_at)
        with CaptureQueriesContext(connection) as queries:
            sweep(now=mql.mql_at + 21 * H)
        return len(queries)

    LeadFactory.create_batch(5)
    few = sweep_queries()
    with django_capture_on_commit_callbacks(execute=True):  # their new-MQL emails go out now
        for _ in range(3):
            walk_to(
                LeadFactory(), "accepted", marketer=marketer, manager=manager
            )  # clocks far in the future
    LeadFactory.create_batch(45)
    assert sweep_queries() == few


def test_the_command_sweeps_as_if_the_clock_read_now(
    mql, capsys, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("sla_sweep", "--now", (mql.mql_at + 21 * H).isoformat())
    assert "accept_reminder: 1" in capsys.readouterr().out
    assert len(mail.outbox) == 1


def test_the_command_refuses_a_time_it_cannot_read():
    with pytest.raises(CommandError, match="not an ISO 8601 time"):
        call_command("sla_sweep", "--now", "next tuesday")


def test_a_failed_email_is_retried_by_a_later_sweep(mql, settings, rep, sweep):
    settings.EMAIL_BACKEND = "tests.sla.failing_email.Backend"
    sweep(now=mql.mql_at + 21 * H)
    notification = Notification.objects.get(kind="reminder")
    email = OutboxMessage.objects.get(key=f"notification:{notification.pk}")
    assert notification.emailed_at is None
    assert (email.status, email.attempts) == ("pending", 1)
    assert "SMTP server unreachable" in email.last_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sweep(now=mql.mql_at + 22 * H)
    assert mail.outbox == []  # not before its backoff has passed
    with time_machine.travel(email.next_attempt_at + dt.timedelta(seconds=1)):
        sweep(now=mql.mql_at + 22 * H)
    notification.refresh_from_db()
    assert notification.emailed_at is not None
    assert [m.to for m in mail.outbox] == [[rep.email]]
    assert events(mql) == ["accept_reminder"]


def test_a_sweep_visits_every_due_lead_across_pages(marketer, manager, rep, sweep):
    leads = [walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager) for _ in range(5)]
    result = sweep(now=max(lead.mql_at for lead in leads) + 21 * H, batch_size=2)
    assert result.leads_checked == 5
    assert result.events == {"accept_reminder": 5}
