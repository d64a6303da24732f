"""A migration operation that drops indexes no query uses (and makes them again when reversed).

Every row written pays for an entry in each index of its table, read or not. The
``*_like`` (``varchar_pattern_ops``) twins Django makes beside a unique or indexed
``CharField`` serve only ``LIKE 'prefix%'``, and a single-column index is redundant
beside one that starts with the same column: such indexes are dropped by name. A
foreign key whose own index goes says ``db_index=False`` in the migration's state
only (Django's ``AlterField`` would drop and re-validate its constraint).
"""

from django.db import migrations


def indexes_drop(indexes: dict[str, tuple[str, str, bool]]) -> migrations.RunPython:
    """Drop ``indexes`` (name -> (table, column, is a ``*_like`` twin)); reversed, make them.

    The ``*_like`` twins exist on PostgreSQL only; elsewhere they are not made again.
    """

    def drop(apps, schema_editor):
        for name in indexes:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')

    def create(apps, schema_editor):
        postgresql = schema_editor.connection.vendor == "postgresql"
        for name, (table, column, like) in indexes.items():
            if like and not postgresql:
                continue
            ops = " varchar_pattern_ops" if like else ""
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}"{ops})'
            )

    return migrations.RunPython(drop, create)
