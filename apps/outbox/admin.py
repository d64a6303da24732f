from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.outbox.models import OutboxMessage
from apps.outbox.services import outbox_resend
from leadflow.admin import ReadOnlyAdmin


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    """What left (or is leaving) the database: read-only, with "send again" for failures."""

    list_display = [
        "created_at",
        "kind",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "short_error",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["key"]
    date_hierarchy = "created_at"
    fields = [
        "kind",
        "key",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "lease_expires_at",
        "last_error",
        "created_at",
        "sent_at",
    ]
    readonly_fields = fields
    actions = ["resend"]

    def has_resend_permission(self, request):
        return request.user.has_perm("outbox.resend_outboxmessage")

    @admin.display(description=_("last error"))
    def short_error(self, obj):
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error

    @admin.action(permissions=["resend"], description=_("Send the selected failed messages again"))
    def resend(self, request, queryset):
        selected = list(queryset.values_list("pk", flat=True))
        n = outbox_resend(ids=selected)
        if n:
            self.message_user(
                request,
                ngettext(
                    "%(n)s message queued to be sent again.",
                    "%(n)s messages queued to be sent again.",
                    n,
                )
                % {"n": n},
                messages.SUCCESS,
            )
        if len(selected) > n:
            self.message_user(
                request,
                _("Only failed or skipped messages are sent again; %(n)s left as they are.")
                % {"n": len(selected) - n},
                messages.WARNING,
            )
