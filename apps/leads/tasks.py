from celery import shared_task

from apps.leads.services import scores_recompute


@shared_task(name="apps.leads.tasks.scores_recompute_task", ignore_result=True)
def scores_recompute_task():
    """The nightly decay: rebuild every score from history with the current rules."""
    return scores_recompute()


@shared_task(name="apps.leads.tasks.lead_import_task", ignore_result=True)
def lead_import_task(job_id, language=None):
    """One CSV import started from the UI, worded in ``language``; a second delivery does nothing."""
    from apps.leads.import_jobs import lead_import_run

    lead_import_run(job_id=job_id, language=language)
