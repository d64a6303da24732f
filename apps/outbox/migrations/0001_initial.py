import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="OutboxMessage",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("kind", models.CharField(max_length=64, verbose_name="kind")),
                (
                    "key",
                    models.CharField(max_length=200, unique=True, verbose_name="idempotency key"),
                ),
                ("payload", models.JSONField(blank=True, default=dict, verbose_name="payload")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("sending", "Sending"),
                            ("sent", "Sent"),
                            ("failed", "Failed"),
                            ("skipped", "Skipped"),
                        ],
                        default="pending",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                ("attempts", models.PositiveSmallIntegerField(default=0, verbose_name="attempts")),
                (
                    "next_attempt_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="next attempt at"
                    ),
                ),
                (
                    "lease_expires_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="lease expires at"),
                ),
                (
                    "claim",
                    models.UUIDField(blank=True, editable=False, null=True, verbose_name="claim"),
                ),
                ("last_error", models.TextField(blank=True, verbose_name="last error")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                ("sent_at", models.DateTimeField(blank=True, null=True, verbose_name="sent at")),
            ],
            options={
                "verbose_name": "outgoing message",
                "verbose_name_plural": "outgoing messages",
                "ordering": ["-created_at", "-id"],
                "permissions": [
                    ("resend_outboxmessage", "Can send a failed outgoing message again")
                ],
                "indexes": [
                    models.Index(
                        condition=models.Q(("status__in", ["pending", "sending"])),
                        fields=["next_attempt_at"],
                        name="outbox_due_idx",
                    ),
                    models.Index(fields=["status", "created_at"], name="outbox_status_idx"),
                ],
            },
        ),
    ]
