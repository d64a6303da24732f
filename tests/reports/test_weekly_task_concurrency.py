"""The weekly job run twice, and several times at once, on PostgreSQL: one report, one email each.

First with threads (each its own database connection) released together,
then through a real Redis broker and a real Celery worker of four threads.
"""

import datetime as dt
import time

import pytest
from django.core import mail
from django.utils import timezone

from apps.reports import tasks
from apps.reports.models import WeeklyReport
from apps.reports.weeks import IsoWeek
from tests.factories import LeadFactory, UserFactory
from tests.leads.helpers import form_values
from tests.reports.conftest import bant_for, only_rep_taking_leads
from tests.threads import run_at_once
from tests.waiting import wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def last_week():
    """Three MQLs in last week (site time), one qualified; a marketer and two managers to email."""
    from apps.leads.services import lead_transition

    maya = UserFactory(username="maya", roles=["marketing"])
    mona = UserFactory(username="mona", roles=["sales_manager"])
    UserFactory(username="mike", roles=["sales_manager"])
    rita = UserFactory(username="rita", roles=["sales"])
    only_rep_taking_leads(rita)
    week = IsoWeek.current().previous()
    for i in range(3):
        lead = LeadFactory()
        promoted = week.start + dt.timedelta(days=1, hours=9 + i)
        lead_transition(
            lead=lead.pk,
            name="promote",
            actor=maya,
            values=form_values("promote", {"reason": "booth"}, at=promoted),
            at=promoted,
        )
        if i == 0:
            lead_transition(
                lead=lead.pk, name="accept", actor=mona, at=promoted + dt.timedelta(hours=1)
            )
            qualified = promoted + dt.timedelta(hours=5)
            lead_transition(
                lead=lead.pk,
                name="qualify",
                actor=mona,
                values=form_values("qualify", bant_for(qualified), at=qualified),
                at=qualified,
            )
    mail.outbox.clear()
    return week


def recipients():
    """Who got the weekly report (the new-MQL notifications of the set-up go out too)."""
    return sorted(m.to[0] for m in mail.outbox if "Weekly report" in m.subject)


def test_four_copies_of_the_job_at_once_then_a_rerun_store_one_report_and_send_one_email_each(
    last_week,
):
    outcomes = run_at_once(*[tasks.weekly_report_task] * 4)
    tasks.weekly_report_task()

    assert [kind for kind, _value in outcomes] == ["ok"] * 4
    report = WeeklyReport.objects.get()
    assert report.week == str(last_week)
    assert (report.document["mqls"], report.document["mql_to_sql_rate"]) == (3, 0.333)
    assert report.emailed_at is not None
    assert recipients() == ["maya@example.com", "mike@example.com", "mona@example.com"]


# --- through a real broker and worker ------------------------------------------------------------


def test_the_job_sent_four_times_through_the_broker_emails_each_recipient_once(
    live_worker, last_week
):
    for _ in range(4):
        tasks.weekly_report_task.delay()

    assert wait_for(lambda: len(recipients()) >= 3), f"only {recipients()} got the report"
    time.sleep(3)  # long enough for any duplicate to show up
    assert recipients() == ["maya@example.com", "mike@example.com", "mona@example.com"]
    assert WeeklyReport.objects.filter(week=str(last_week)).count() == 1
    assert WeeklyReport.objects.get().as_of <= timezone.now()
