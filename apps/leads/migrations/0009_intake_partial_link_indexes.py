"""Index the lead's optional links only where they are set.

Django gave each of ``owner``, ``mql_criteria``, ``last_reject_reason`` and
``disqualify_reason`` a plain index, with an entry for every lead, NULL or not. A lead's
score is indexed, so every intake rewrite of a lead writes an entry in each of the lead
table's indexes: at 1M leads the NULL entries were about one in seven of the index writes
of an intake list. Every lookup by a link (``= x``, ``IN (…)``, a PROTECT check) implies
it is set, so the partial indexes serve them all.

The fields say ``db_index=False``; their old indexes are dropped by name (Django's own
``AlterField`` would also drop and re-validate the foreign keys, a scan of the table).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from leadflow.unused_indexes import indexes_drop

# Index Django made for each link -> (table, column, is a ``*_like`` twin), to make it again
# on the way back.
DROPPED = {
    "leads_lead_owner_id_1f4568d0": ("leads_lead", "owner_id", False),
    "leads_lead_mql_criteria_id_51cf7baa": ("leads_lead", "mql_criteria_id", False),
    "leads_lead_last_reject_reason_f8c07a25": ("leads_lead", "last_reject_reason", False),
    "leads_lead_disqualify_reason_8fc60256": ("leads_lead", "disqualify_reason", False),
}


class Migration(migrations.Migration):
    dependencies = [
        ("criteria", "0005_created_by_verbose_name"),
        ("leads", "0008_list_indexes_new_and_score"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="lead",
                    name="disqualify_reason",
                    field=models.ForeignKey(
                        blank=True,
                        db_column="disqualify_reason",
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="criteria.disqualifyreason",
                        to_field="code",
                        verbose_name="disqualify reason",
                    ),
                ),
                migrations.AlterField(
                    model_name="lead",
                    name="last_reject_reason",
                    field=models.ForeignKey(
                        blank=True,
                        db_column="last_reject_reason",
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="criteria.rejectreason",
                        to_field="code",
                        verbose_name="last reject reason",
                    ),
                ),
                migrations.AlterField(
                    model_name="lead",
                    name="mql_criteria",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="criteria.mqlcriteria",
                        verbose_name="promoted by criteria",
                    ),
                ),
                migrations.AlterField(
                    model_name="lead",
                    name="owner",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="owned_leads",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="owner",
                    ),
                ),
            ],
            database_operations=[indexes_drop(DROPPED)],
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                condition=models.Q(("owner__isnull", False)),
                fields=["owner"],
                name="lead_owner_set_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                condition=models.Q(("mql_criteria__isnull", False)),
                fields=["mql_criteria"],
                name="lead_criteria_set_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                condition=models.Q(("last_reject_reason__isnull", False)),
                fields=["last_reject_reason"],
                name="lead_reject_reason_set_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                condition=models.Q(("disqualify_reason__isnull", False)),
                fields=["disqualify_reason"],
                name="lead_dq_reason_set_idx",
            ),
        ),
    ]
