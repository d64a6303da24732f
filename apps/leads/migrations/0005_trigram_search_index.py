"""PostgreSQL only: a trigram index for lead search.

Search (``selectors.leads_matching``) compares ``UPPER(first_name || ' ' || last_name || ' '
|| email || ' ' || company) LIKE UPPER('%word%')`` for each word; the GIN ``gin_trgm_ops``
index below is built on exactly that expression, so PostgreSQL answers a search from the
index instead of scanning every lead. SQLite (the embedded default) has no such index and
runs the same comparison as a plain scan, which is fine at its size.

Its expression also gets a finer statistics sample (1,000 instead of 100): with the
default, a name shared by 1% of the leads is as likely as not to miss the sample, and
PostgreSQL then thinks it rare and reads all its leads to sort them, instead of walking
the list's order until a page is full.

It is built without blocking writes (``CONCURRENTLY``), hence a non-atomic migration.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

SEARCH_INDEX = "lead_search_trgm_idx"
SEARCH_EXPRESSION = (
    "UPPER((first_name || ' ' || last_name || ' ' || email || ' ' || company)::text)"
)


def on_postgresql(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def create(apps, schema_editor):
    if not on_postgresql(schema_editor):
        return
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {SEARCH_INDEX} ON leads_lead "
        f"USING gin (({SEARCH_EXPRESSION}) gin_trgm_ops)"
    )
    schema_editor.execute(f"ALTER INDEX {SEARCH_INDEX} ALTER COLUMN 1 SET STATISTICS 1000")
    schema_editor.execute("ANALYZE leads_lead")


def drop(apps, schema_editor):
    if not on_postgresql(schema_editor):
        return
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {SEARCH_INDEX}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("leads", "0004_partial_indexes_for_inbox_and_review"),
    ]

    operations = [
        # Does nothing on SQLite; pg_trgm is a trusted extension (PostgreSQL 13+).
        TrigramExtension(),
        migrations.RunPython(create, drop),
    ]
