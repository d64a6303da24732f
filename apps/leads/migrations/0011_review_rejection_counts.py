"""``RejectionCount``, the review queue's bars, kept by triggers on the lead table.

See ``apps/leads/triggers.py``; the leads rejected today are counted once, here.
"""

from django.db import migrations, models

from apps.leads import triggers


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0010_list_created_and_stage_score_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="RejectionCount",
            fields=[
                ("reason", models.CharField(max_length=40, primary_key=True, serialize=False)),
                ("leads", models.IntegerField(default=0)),
            ],
        ),
        migrations.RunPython(triggers.install, triggers.uninstall),
    ]
