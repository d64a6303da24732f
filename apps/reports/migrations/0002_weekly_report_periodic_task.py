"""The weekly report job: Monday 08:00 in the site's time zone, editable in Django admin (django-celery-beat)."""

import json

from django.conf import settings
from django.db import migrations

WEEKLY_REPORT = "Weekly conversion report"


def forwards(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    monday_morning, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour="8",
        day_of_week="1",
        day_of_month="*",
        month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    PeriodicTask.objects.get_or_create(
        name=WEEKLY_REPORT,
        defaults={
            "task": "apps.reports.tasks.weekly_report_task",
            "crontab": monday_morning,
            "kwargs": json.dumps({}),
            "description": "Stores last ISO week's conversion report and emails it to marketing and the sales "
            "managers, once each, however often it runs.",
        },
    )


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=WEEKLY_REPORT).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("sla", "0002_periodic_tasks"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
