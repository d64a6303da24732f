from django.db import migrations, models
from django.db.models import F


def claimed_reports_are_queued(apps, schema_editor):
    # Before the outbox, emailed_at was the claim: a report that has it was already sent.
    WeeklyReport = apps.get_model("reports", "WeeklyReport")
    WeeklyReport.objects.filter(emailed_at__isnull=False).update(queued_at=F("emailed_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_weekly_report_periodic_task"),
    ]

    operations = [
        migrations.AddField(
            model_name="weeklyreport",
            name="queued_at",
            field=models.DateTimeField(
                blank=True,
                help_text="Set when its emails were put in the outbox; the claim that sends them once.",
                null=True,
                verbose_name="emails queued at",
            ),
        ),
        migrations.AlterField(
            model_name="weeklyreport",
            name="emailed_at",
            field=models.DateTimeField(
                blank=True,
                help_text="Set when the first of its emails went out.",
                null=True,
                verbose_name="emailed at",
            ),
        ),
        migrations.RunPython(claimed_reports_are_queued, migrations.RunPython.noop),
    ]
