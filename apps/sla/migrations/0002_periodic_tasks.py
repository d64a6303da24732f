"""The periodic jobs a fresh install needs, editable afterwards in Django admin (django-celery-beat)."""

import json

from django.conf import settings
from django.db import migrations

SWEEP = "SLA sweep: reminders, breaches, escalations"
DECAY = "Nightly score decay"


def forwards(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_5_minutes, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=SWEEP,
        defaults={
            "task": "apps.sla.tasks.sla_sweep_task",
            "interval": every_5_minutes,
            "kwargs": json.dumps({}),
            "description": "Sends each SLA reminder once, records each breach once and escalates it.",
        },
    )
    nightly, _ = CrontabSchedule.objects.get_or_create(
        minute="30",
        hour="2",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    PeriodicTask.objects.get_or_create(
        name=DECAY,
        defaults={
            "task": "apps.leads.tasks.scores_recompute_task",
            "crontab": nightly,
            "kwargs": json.dumps({}),
            "description": "Rebuilds every lead's score from its history so decay applies.",
        },
    )


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[SWEEP, DECAY]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
