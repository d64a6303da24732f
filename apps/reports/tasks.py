"""Celery tasks: thin wrappers that call a service."""

import logging

from celery import shared_task

from apps.reports.services import weekly_report_send_last_week

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
