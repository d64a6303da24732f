"""The sweep works in batches from its own queue: its cost follows the leads due, and it sends no email itself."""

import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.criteria.models import SLAPolicy
from apps.leads.models import Lead
from apps.leads.services import lead_transition
from apps.sla import triggers
from apps.sla.models import Notification, SLACheck, SLAEvent
from apps.sla.services import sla_sweep
from tests.leads.helpers import form_values, mqls

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)


def check_of(lead):
    return SLACheck.objects.filter(lead=lead).values_list("next_check_at", flat=True).first()


def test_a_promotion_schedules_the_sweep_and_each_transition_moves_or_ends_it(
    marketer, manager, rep
):
    lead = mqls(1, marketer=marketer, manager=manager)[0]
    assert check_of(lead) == lead.accept_remind_at

    lead_transition(lead=lead.pk, name="accept", actor=rep)
    lead.refresh_from_db()
    assert check_of(lead) == lead.process_remind_at

    lead_transition(
        lead=lead.pk, name="reject", actor=rep, values=form_values("reject", {"reason": "no_need"})
    )
    assert check_of(lead) is None


def test_any_write_of_the_next_check_schedules_the_sweep_even_in_plain_sql(marketer, manager):
    lead = mqls(1, marketer=marketer, manager=manager)[0]
    moment = lead.mql_at + 3 * H
    table = connection.ops.quote_name(Lead._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET sla_next_check_at = %s WHERE id = %s",
            [connection.ops.adapt_datetimefield_value(moment), lead.pk],
        )
    assert check_of(lead) == moment


def test_the_sweep_moves_its_own_queue_on_and_leaves_the_lead_row_alone(
    marketer, manager, rep, django_capture_on_commit_callbacks
):
    lead = mqls(1, marketer=marketer, manager=manager)[0]
    before = Lead.objects.values_list("sla_next_check_at", "updated_at").get(pk=lead.pk)

    with django_capture_on_commit_callbacks(execute=True):
        result = sla_sweep(now=lead.mql_at + 21 * H)

    assert result.events == {"accept_reminder": 1}
    assert Lead.objects.values_list("sla_next_check_at", "updated_at").get(pk=lead.pk) == before
    assert check_of(lead) == lead.accept_due_at


def test_the_sweep_costs_the_same_queries_for_3_and_for_12_leads_due(marketer, manager, rep):
    def queries_to_sweep(leads):
        with CaptureQueriesContext(connection) as queries:
            result = sla_sweep(now=max(lead.mql_at for lead in leads) + 21 * H, batch_size=100)
        assert result.events == {"accept_reminder": len(leads)}
        return len(queries)

    few = queries_to_sweep(mqls(3, marketer=marketer, manager=manager))
    many = queries_to_sweep(mqls(12, marketer=marketer, manager=manager))
    assert few == many


def test_each_batch_costs_a_fixed_number_of_queries(marketer, manager, rep):
    leads = mqls(6, marketer=marketer, manager=manager)
    at = max(lead.mql_at for lead in leads) + 21 * H

    def queries(batch_size):
        Notification.objects.filter(event__isnull=False).delete()
        SLAEvent.objects.all().delete()
        Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(sla_next_check_at=at)
        with CaptureQueriesContext(connection) as captured:
            sla_sweep(now=at, batch_size=batch_size)
        return len(captured)

    one_batch, two_batches, three_batches = queries(6), queries(3), queries(2)
    assert three_batches - two_batches == two_batches - one_batch > 0


def test_a_short_batch_is_the_last_the_queue_is_not_asked_again(marketer, manager, rep):
    leads = mqls(3, marketer=marketer, manager=manager)

    with CaptureQueriesContext(connection) as captured:
        result = sla_sweep(now=max(lead.mql_at for lead in leads) + 21 * H, batch_size=100)

    assert result.events == {"accept_reminder": 3}
    queue_reads = [
        query["sql"]
        for query in captured
        if query["sql"].startswith("SELECT") and 'FROM "sla_slacheck"' in query["sql"]
    ]
    assert len(queue_reads) == 1


def test_the_sweep_sends_no_email_itself_but_queues_one_delivery_per_batch(
    marketer, manager, rep, django_capture_on_commit_callbacks
):
    leads = mqls(5, marketer=marketer, manager=manager)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks() as queued:
        result = sla_sweep(now=max(lead.mql_at for lead in leads) + 21 * H, batch_size=2)

    assert result.events == {"accept_reminder": 5}
    assert mail.outbox == []
    assert len(queued) == 3  # three batches: 2 + 2 + 1
    for deliver in queued:
        deliver()  # what the worker does with the tasks (they run inline in tests)
    assert sorted(m.to[0] for m in mail.outbox) == [rep.email] * 5
    assert not Notification.objects.filter(kind="reminder", emailed_at__isnull=True).exists()


def test_a_breach_recorded_before_does_not_hold_back_the_processing_reminder(
    marketer, manager, rep, django_capture_on_commit_callbacks
):
    """With reassignment on breach and no other rep, a later sweep still reminds the owner."""
    policy = SLAPolicy.load()
    policy.reassign_on_breach = True
    policy.save()
    lead = mqls(1, marketer=marketer, manager=manager)[0]
    with django_capture_on_commit_callbacks(execute=True):
        first = sla_sweep(now=lead.mql_at + 25 * H)
        later = sla_sweep(now=lead.mql_at + 45 * H)

    assert (first.events, first.reassigned) == ({"accept_breach": 1}, 0)
    assert later.events == {"process_reminder": 1}
    assert sorted(SLAEvent.objects.filter(lead=lead).values_list("kind", flat=True)) == [
        "accept_breach",
        "process_reminder",
    ]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL keeps its triggers")
def test_on_sqlite_the_sweep_puts_back_triggers_a_table_rebuild_dropped(
    marketer, manager, rep, django_capture_on_commit_callbacks
):
    with connection.cursor() as cursor:
        triggers.uninstall(cursor, "sqlite")
    lead = mqls(1, marketer=marketer, manager=manager)[0]  # promoted while nothing copies it
    assert check_of(lead) is None

    with django_capture_on_commit_callbacks(execute=True):
        result = sla_sweep(now=lead.mql_at + 21 * H)

    assert result.events == {"accept_reminder": 1}
    assert check_of(lead) == lead.accept_due_at
