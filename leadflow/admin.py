"""Admin pieces every app shares; the project package sits below all apps, the outbox included."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the product writes and nobody adds, edits or deletes by hand.

    History, SLA events, stored reports, outgoing messages, webhook events and
    deliveries. Actions with their own permission (such as resending) still run.
    """

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """A read-only table of a row's children (history, engagements, delivery attempts)."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
