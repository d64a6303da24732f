"""Celery tasks: thin wrappers that take ids and call a service (STYLE rule 5)."""

import logging

from celery import shared_task

from apps.outbox.services import outbox_deliver, outbox_deliver_due

logger = logging.getLogger(__name__)


@shared_task(name="apps.outbox.tasks.outbox_deliver_task", ignore_result=True)
def outbox_deliver_task(ids: list[int]):
    """Deliver these rows now (queued after the commit that wrote them); safe to run twice."""
    outbox_deliver(ids=ids)


@shared_task(name="apps.outbox.tasks.outbox_deliver_due_task", ignore_result=True)
def outbox_deliver_due_task():
    """The periodic delivery: whatever is due, to retry, or left behind by a worker that died."""
    result = outbox_deliver_due()
    if result.sent or result.retrying or result.failed or result.skipped:
        logger.info(
            "outbox: %s sent, %s to retry, %s failed, %s skipped",
            result.sent,
            result.retrying,
            result.failed,
            result.skipped,
        )
