"""Monday's job: last week's report stored once and emailed once to marketing and the sales managers."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django_celery_beat.models import PeriodicTask

from apps.outbox import tasks as outbox_tasks
from apps.outbox.models import OutboxMessage
from apps.reports import tasks
from apps.reports.models import WeeklyReport
from apps.reports.services import (
    ReportWeekError,
    weekly_report_document,
    weekly_report_email,
    weekly_report_store,
)
from apps.reports.weeks import IsoWeek
from tests.factories import UserFactory
from tests.reports.conftest import jst

pytestmark = pytest.mark.django_db

MONDAY_MORNING = jst(2026, 5, 18, 8)  # the Monday after 2026-W20


@pytest.fixture
def week20(tokyo, team, history):
    """Five MQLs in 2026-W20, one qualified: 20%, right at the target; last week had none."""
    history.mqls_of_week20(
        ["webinar"] * 2 + ["website"] * 3, owner=team["rita"], accepted_at=jst(2026, 5, 12, 10)
    )
    mail.outbox.clear()


def run_weekly_task():
    with time_machine.travel(MONDAY_MORNING, tick=False):
        return tasks.weekly_report_task.delay()


def test_the_job_is_scheduled_for_monday_0800_site_time_by_a_migration():
    task = PeriodicTask.objects.get(name="Weekly conversion report")

    assert task.task == "apps.reports.tasks.weekly_report_task"
    assert task.enabled
    crontab = task.crontab
    assert (
        crontab.minute,
        crontab.hour,
        crontab.day_of_week,
        crontab.day_of_month,
        crontab.month_of_year,
    ) == ("0", "8", "1", "*", "*")
    assert str(crontab.timezone) == "UTC"  # settings.TIME_ZONE when the migration ran


def test_the_job_stores_last_weeks_report_and_emails_each_recipient_once(week20, team):
    run_weekly_task()

    report = WeeklyReport.objects.get()
    assert report.week == "2026-W20"
    assert (report.document["mqls"], report.document["mql_to_sql_rate"]) == (5, 0.2)
    assert report.as_of == MONDAY_MORNING
    assert report.emailed_at == MONDAY_MORNING
    assert sorted(m.to[0] for m in mail.outbox) == ["maya@example.com", "mona@example.com"]


def test_running_the_job_again_stores_and_sends_nothing_more(week20, team):
    run_weekly_task()
    first = WeeklyReport.objects.get()
    with time_machine.travel(jst(2026, 5, 18, 9), tick=False):
        tasks.weekly_report_task.delay()

    assert WeeklyReport.objects.count() == 1
    assert WeeklyReport.objects.get().as_of == first.as_of
    assert len(mail.outbox) == 2


def test_recipients_are_active_marketers_and_managers_with_an_email_each_once(week20, team):
    UserFactory(username="both", roles=["marketing", "sales_manager"])
    UserFactory(username="gone", roles=["sales_manager"], is_active=False)
    UserFactory(username="noaddress", roles=["marketing"], email="")
    UserFactory(username="stan", is_staff=True)

    run_weekly_task()

    assert sorted(m.to[0] for m in mail.outbox) == [
        "both@example.com",
        "maya@example.com",
        "mona@example.com",
    ]


def test_the_email_has_the_key_figures_the_alerts_and_a_link_to_the_dashboard(
    week20, team, settings
):
    settings.SITE_URL = "https://leadflow.example.com"
    run_weekly_task()

    email = next(m for m in mail.outbox if m.to == ["maya@example.com"])
    assert email.subject == "[Leadflow] Weekly report 2026-W20: 5 MQLs, MQL→SQL 20%"
    assert "MQLs: 5" in email.body
    assert "MQL→SQL: 20%" in email.body
    assert "Response time: median 1 h, p90 1 h" in email.body
    assert "No alerts this week." in email.body
    assert "https://leadflow.example.com/reports/" in email.body
    html, mime = email.alternatives[0]
    assert mime == "text/html"
    assert 'href="https://leadflow.example.com/reports/"' in html
    assert "20%" in html and "webinar" in html


def test_a_japanese_manager_gets_the_email_in_japanese(week20, team):
    run_weekly_task()

    email = next(m for m in mail.outbox if m.to == ["mona@example.com"])
    assert "週次レポート" in email.subject
    assert "MQL→SQL: 20%" in email.body
    assert "ダッシュボード" in email.body


def test_alerts_are_in_the_email_in_the_readers_language(tokyo, team, history):
    lead = history.lead()
    history.promote_by_hand(lead, jst(2026, 5, 12, 9), owner=team["rita"])
    mail.outbox.clear()

    run_weekly_task()

    english = next(m for m in mail.outbox if m.to == ["maya@example.com"])
    japanese = next(m for m in mail.outbox if m.to == ["mona@example.com"])
    assert "1 alert" not in english.subject and "2 alerts" in english.subject
    assert "MQL→SQL 0% is below the 20% target" in english.body
    assert "MQL→SQL 0% is below the 20% target" not in japanese.body
    assert "20%" in japanese.body


def test_when_the_mail_server_is_down_the_outbox_sends_the_report_later(week20, team, settings):
    settings.EMAIL_BACKEND = "tests.sla.failing_email.Backend"
    run_weekly_task()
    assert WeeklyReport.objects.get().emailed_at is None
    queued = OutboxMessage.objects.filter(kind="reports.weekly_report_email")
    assert sorted(queued.values_list("status", "attempts")) == [("pending", 1), ("pending", 1)]

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    run_weekly_task()  # a rerun queues nothing more: the outbox holds the report's emails
    assert mail.outbox == [] and queued.count() == 2
    retry_at = max(queued.values_list("next_attempt_at", flat=True))
    with time_machine.travel(retry_at + dt.timedelta(seconds=1), tick=False):
        outbox_tasks.outbox_deliver_due_task.delay()

    assert sorted(m.to[0] for m in mail.outbox) == ["maya@example.com", "mona@example.com"]
    assert WeeklyReport.objects.get().emailed_at is not None


def test_a_week_still_running_is_never_stored(week20):
    with time_machine.travel(jst(2026, 5, 17, 23, 59), tick=False):
        with pytest.raises(ReportWeekError, match="not over yet"):
            weekly_report_store(week=IsoWeek(2026, 20))
        document = weekly_report_document("2026-W20")

    assert document["mqls"] == 5
    assert not WeeklyReport.objects.exists()


def test_the_api_document_of_a_complete_week_is_the_stored_one(week20):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        first = weekly_report_document("2026-W20")
    with time_machine.travel(jst(2026, 6, 1, 8), tick=False):
        again = weekly_report_document("2026-W20")

    assert first == again == WeeklyReport.objects.get(week="2026-W20").document


@pytest.mark.parametrize(
    "week, message",
    [
        ("2026-W21", "has not started yet"),
        ("2025-W53", "2025 has 52 weeks"),
        ("2026-20", "write it as YYYY-Www"),
    ],
)
def test_the_api_document_refuses_weeks_it_cannot_report(week20, week, message):
    with time_machine.travel(MONDAY_MORNING - dt.timedelta(days=2), tick=False):
        with pytest.raises(ReportWeekError, match=message):
            weekly_report_document(week)


def test_emailing_a_stored_report_twice_sends_it_once(week20):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        report, created = weekly_report_store(week=IsoWeek(2026, 20))

    assert created
    assert weekly_report_email(report=report) == 2
    assert weekly_report_email(report=report) == 0
    assert len(mail.outbox) == 2
