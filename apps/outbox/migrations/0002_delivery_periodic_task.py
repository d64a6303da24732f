"""The periodic delivery of the outbox, editable afterwards in Django admin (django-celery-beat)."""

import json

from django.db import migrations

DELIVERY = "Outbox: deliver due emails and retries"


def forwards(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=DELIVERY,
        defaults={
            "task": "apps.outbox.tasks.outbox_deliver_due_task",
            "interval": every_minute,
            "kwargs": json.dumps({}),
            # A run queued while every worker was away is dropped: the next one does its work.
            "expire_seconds": 60,
            "description": (
                "Sends every outgoing message that is due: new ones a worker was not told about "
                "(the broker was down), retries after a failure, and claims a dead worker left."
            ),
        },
    )


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=DELIVERY).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("outbox", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
