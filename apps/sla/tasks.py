"""Celery tasks: thin wrappers that take ids and call a service."""

import logging

from celery import shared_task

from apps.sla.services import notification_email_send, sla_sweep

logger = logging.getLogger(__name__)


@shared_task(name="apps.sla.tasks.sla_sweep_task", ignore_result=True)
def sla_sweep_task():
    """The periodic SLA sweep; safe to run twice or twice at once."""
    result = sla_sweep()
    logger.info(
        "SLA sweep: %s leads checked, events %s, %s reassigned",
        result.leads_checked,
        result.events,
        result.reassigned,
    )
    return {
        "checked": result.leads_checked,
        "events": result.events,
        "reassigned": result.reassigned,
    }


@shared_task(name="apps.sla.tasks.send_notification_email", ignore_result=True)
def send_notification_email(notification_id: int):
    """Email one notification; sending twice is prevented by the claim in the service."""
    notification_email_send(notification_id=notification_id)
