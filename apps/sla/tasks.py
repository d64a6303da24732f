"""Celery tasks: thin wrappers that take ids and call a service."""

import logging

from celery import shared_task

from apps.sla.services import rejection_digests_queue, sla_sweep

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


@shared_task(name="apps.sla.tasks.rejection_digests_task", ignore_result=True)
def rejection_digests_task():
    """The daily digest of rejected MQLs to marketing; safe to run twice or twice at once."""
    return rejection_digests_queue()
