"""Notification emails move to the outbox: unsent recent ones get their outbox row first."""

import datetime as dt

from django.db import migrations
from django.utils import timezone


def queue_unsent(apps, schema_editor):
    # What the old claim-then-send would still have retried (fewer than 5 attempts), or had
    # lost (claimed, never sent), from the last day; older news is not worth an email now.
    Notification = apps.get_model("sla", "Notification")
    OutboxMessage = apps.get_model("outbox", "OutboxMessage")
    now = timezone.now()
    unsent = Notification.objects.filter(
        emailed_at__isnull=True,
        email_attempts__lt=5,
        created_at__gte=now - dt.timedelta(days=1),
    ).exclude(recipient__email="")
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                kind="sla.notification_email",
                key=f"notification:{pk}",
                payload={"notification_id": pk},
                next_attempt_at=now,
            )
            for pk in unsent.values_list("pk", flat=True)
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0002_periodic_tasks"),
        ("outbox", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(queue_unsent, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name="notification",
            name="notification_unsent_idx",
        ),
        migrations.RemoveField(
            model_name="notification",
            name="email_attempts",
        ),
    ]
