"""Drop the lead and engagement indexes no query of the product uses.

A lead's score is indexed (``lead_stage_score_idx``), so every intake rewrite of a lead
is a new row version with an entry in each of the lead table's indexes: an index no
query reads still costs every intake, import and recompute. These have no reader:

- ``*_like`` (``varchar_pattern_ops``) on email, source, last_reject_reason and
  disqualify_reason: they serve only ``LIKE 'prefix%'``; the product compares these
  columns with ``=`` (their plain and unique indexes) and searches with ``LIKE '%word%'``
  on ``UPPER(…)`` (the trigram index).
- The plain index on ``leads_lead.source``: ``lead_source_created_idx`` (source,
  created_at) starts with the column and serves every lookup by source.
- The plain index on ``leads_engagement.lead_id``: ``engagement_lead_time_idx``
  (lead_id, occurred_at) starts with it.

The fields say ``db_index=False`` for the two plain ones; the ``*_like`` twins of the
others are made by Django beside them, so they are dropped by name. The foreign keys
are left as they are (Django's own ``AlterField`` would drop and re-validate them).
"""

from django.db import migrations, models

from leadflow.unused_indexes import indexes_drop

# Index name -> how it is made again when the migration is reversed (PostgreSQL only for
# the ``*_like`` ones, which SQLite never had).
DROPPED = {
    "leads_engagement_lead_id_c9502ec1": ("leads_engagement", "lead_id", False),
    "leads_lead_source_0fa8f25c": ("leads_lead", "source", False),
    "leads_lead_source_0fa8f25c_like": ("leads_lead", "source", True),
    "leads_lead_email_93d5b817_like": ("leads_lead", "email", True),
    "leads_lead_last_reject_reason_f8c07a25_like": ("leads_lead", "last_reject_reason", True),
    "leads_lead_disqualify_reason_8fc60256_like": ("leads_lead", "disqualify_reason", True),
}


class Migration(migrations.Migration):
    dependencies = [
        ("criteria", "0005_created_by_verbose_name"),
        ("leads", "0006_to_qualify_index_and_lead_import"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="engagement",
                    name="lead",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=models.deletion.PROTECT,
                        related_name="engagements",
                        to="leads.lead",
                        verbose_name="lead",
                    ),
                ),
                migrations.AlterField(
                    model_name="lead",
                    name="source",
                    field=models.ForeignKey(
                        db_column="source",
                        db_index=False,
                        on_delete=models.deletion.PROTECT,
                        related_name="+",
                        to="criteria.leadsource",
                        to_field="code",
                        verbose_name="source",
                    ),
                ),
            ],
            database_operations=[indexes_drop(DROPPED)],
        ),
    ]
