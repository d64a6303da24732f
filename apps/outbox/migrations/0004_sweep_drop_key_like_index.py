"""Drop the ``*_like`` twin of the outbox key, which no query uses: every row written (an
email or a webhook delivery each) paid for an entry in it.

Keys are compared with ``=`` (the unique index) and the admin searches them with
``LIKE '%word%'`` on ``UPPER(…)``, which no ``varchar_pattern_ops`` index serves.
"""

from django.db import migrations

from leadflow.unused_indexes import indexes_drop


class Migration(migrations.Migration):
    dependencies = [
        ("outbox", "0003_sequence_key"),
    ]

    operations = [
        indexes_drop(
            {"outbox_outboxmessage_key_58be1415_like": ("outbox_outboxmessage", "key", True)}
        ),
    ]
