from django.contrib import admin

from apps.sla.models import Notification, SLAEvent
from leadflow.admin import ReadOnlyAdmin


@admin.register(SLAEvent)
class SLAEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "lead", "deadline", "owner"]
    list_filter = ["kind"]
    list_select_related = ["lead", "owner"]
    search_fields = ["lead__email"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "recipient",
        "kind",
        "lead",
        "read_at",
        "emailed_at",
    ]
    list_filter = ["kind"]
    list_select_related = ["recipient", "lead"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
