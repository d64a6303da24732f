"""The SLA sweep's own work queue, ``SLACheck``, fed by triggers on the lead table.

See ``apps/sla/triggers.py``; the clocks running today are scheduled once, here.
"""

import django.db.models.deletion
from django.db import migrations, models

from apps.sla import triggers


def create_triggers(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        triggers.install(cursor, schema_editor.connection.vendor)


def drop_triggers(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        triggers.uninstall(cursor, schema_editor.connection.vendor)


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0004_partial_indexes_for_inbox_and_review"),
        ("sla", "0003_notification_email_in_outbox"),
    ]

    operations = [
        migrations.CreateModel(
            name="SLACheck",
            fields=[
                (
                    "lead",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="leads.lead",
                    ),
                ),
                ("next_check_at", models.DateTimeField(verbose_name="next check")),
            ],
            options={
                "verbose_name": "SLA check",
                "verbose_name_plural": "SLA checks",
                "indexes": [
                    models.Index(fields=["next_check_at", "lead"], name="sla_check_due_idx")
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
