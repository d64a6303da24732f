"""Drop the SLA event and notification indexes no query uses: the sweep writes hundreds of
each per batch, and every row paid for an entry in each index.

- ``sla_slaevent.lead_id``: ``sla_event_once`` (lead, kind, deadline) starts with it.
- ``sla_notification.recipient_id``: ``notification_inbox_idx`` (recipient, read_at) and
  ``notification_page_idx`` start with it.
- ``sla_notification.event_id``: ``notification_once_per_event`` (event, recipient, where
  the event is set) starts with it, and a lookup by event implies the event is set.
- ``sla_notification.transition_id`` makes way for ``notification_transition_idx``, which
  holds only the notifications that tell of a transition (a lookup by transition implies
  one is set): the sweep's reminders and breaches tell of none.

The fields say ``db_index=False``; their foreign keys are left as they are (Django's own
``AlterField`` would drop and re-validate them).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from leadflow.unused_indexes import indexes_drop

DROPPED = {
    "sla_slaevent_lead_id_fcc6a1f7": ("sla_slaevent", "lead_id", False),
    "sla_notification_recipient_id_1c81e0ef": ("sla_notification", "recipient_id", False),
    "sla_notification_event_id_6f0d1cd3": ("sla_notification", "event_id", False),
    "sla_notification_transition_id_a93f0455": ("sla_notification", "transition_id", False),
}


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0008_list_indexes_new_and_score"),
        ("sla", "0006_webhook_notifications"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="notification",
                    name="event",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="notifications",
                        to="sla.slaevent",
                    ),
                ),
                migrations.AlterField(
                    model_name="notification",
                    name="recipient",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notifications",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="recipient",
                    ),
                ),
                migrations.AlterField(
                    model_name="notification",
                    name="transition",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="leads.stagetransition",
                        verbose_name="transition",
                    ),
                ),
                migrations.AlterField(
                    model_name="slaevent",
                    name="lead",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="sla_events",
                        to="leads.lead",
                    ),
                ),
            ],
            database_operations=[indexes_drop(DROPPED)],
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("transition__isnull", False)),
                fields=["transition"],
                name="notification_transition_idx",
            ),
        ),
    ]
