"""Drop the event indexes no query uses: every event written (hundreds per SLA sweep batch)
paid for an entry in each.

- The plain index on ``type`` and its ``*_like`` twin: ``event_type_feed_idx`` (type,
  sequence) starts with the column and serves the feed's and the admin's filters by type;
  nothing compares a type with ``LIKE 'prefix%'``.
- The ``*_like`` twin of ``public_id``: the feed's cursor and the deliveries look an id
  up with ``=`` (its unique index); the admin's search is ``LIKE '%word%'`` on
  ``UPPER(…)``, which no ``varchar_pattern_ops`` index serves.
"""

from django.db import migrations, models

from leadflow.unused_indexes import indexes_drop

DROPPED = {
    "webhooks_event_type_94169249": ("webhooks_event", "type", False),
    "webhooks_event_type_94169249_like": ("webhooks_event", "type", True),
    "webhooks_event_public_id_b727ac7e_like": ("webhooks_event", "public_id", True),
}


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="event",
                    name="type",
                    field=models.CharField(max_length=40, verbose_name="type"),
                ),
            ],
            database_operations=[indexes_drop(DROPPED)],
        ),
    ]
