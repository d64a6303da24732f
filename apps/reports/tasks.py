"""Celery tasks: thin wrappers that call a service."""

import logging

from celery import shared_task
from django.utils import timezone

from apps.reports.services import live_week_report_refresh, weekly_report_send_last_week
from apps.reports.weeks import IsoWeek

logger = logging.getLogger(__name__)


@shared_task(name="apps.reports.tasks.weekly_report_task", ignore_result=True)
def weekly_report_task():
    """Monday's job: store last week's report and email it; safe to run twice or twice at once."""
    result = weekly_report_send_last_week()
    logger.info(
        "weekly report %s: %s, %s email(s) sent",
        result.report.week,
        "built" if result.created else "already stored",
        result.emails_sent,
    )
    return {
        "week": result.report.week,
        "created": result.created,
        "emails_sent": result.emails_sent,
    }


@shared_task(name="apps.reports.tasks.live_week_report_refresh_task", ignore_result=True)
def live_week_report_refresh_task(week: str):
    """Recount the running week for the dashboard; a week that has ended is left alone."""
    iso_week = IsoWeek.parse(week)
    if iso_week == IsoWeek.current():
        live_week_report_refresh(week=iso_week, now=timezone.now())
