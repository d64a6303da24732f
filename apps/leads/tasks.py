from celery import shared_task

from apps.leads.services import scores_recompute


@shared_task(name="apps.leads.tasks.scores_recompute_task", ignore_result=True)
def scores_recompute_task():
    """The nightly decay: rebuild every score from history with the current rules."""
    return scores_recompute()
