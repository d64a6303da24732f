from axes import admin as axes_admin
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from django_celery_beat import admin as celery_beat_admin
from django_celery_beat.models import PeriodicTask

from apps.accounts.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "username",
        "email",
        "first_name",
        "last_name",
        "roles",
        "accepts_new_leads",
        "is_active",
        "is_staff",
    ]
    list_filter = ["groups", "is_active", "is_staff", "accepts_new_leads"]
    fieldsets = DjangoUserAdmin.fieldsets + (
        (_("Leadflow"), {"fields": ["language", "accepts_new_leads", "last_assigned_at"]}),
    )
    readonly_fields = ["last_assigned_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("roles"))
    def roles(self, user):
        return ", ".join(group.name for group in user.groups.all()) or "—"


# --- Third-party admins, held to the same rule: every action checks a model permission ------
# Their actions declare none, so anyone who may merely view the list could run them.


class PeriodicTaskAdmin(celery_beat_admin.PeriodicTaskAdmin):
    @admin.action(permissions=["change"], description=_("Enable selected tasks"))
    def enable_tasks(self, request, queryset):
        return super().enable_tasks(request, queryset)

    @admin.action(permissions=["change"], description=_("Disable selected tasks"))
    def disable_tasks(self, request, queryset):
        return super().disable_tasks(request, queryset)

    @admin.action(permissions=["change"], description=_("Toggle activity of selected tasks"))
    def toggle_tasks(self, request, queryset):
        return super().toggle_tasks(request, queryset)

    @admin.action(permissions=["change"], description=_("Run selected tasks"))
    def run_tasks(self, request, queryset):
        return super().run_tasks(request, queryset)


class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
    """Login lockouts: deleting an attempt lifts its lock (Django's "delete selected")."""

    @admin.action(permissions=["delete"], description=_("Clean up expired attempts"))
    def cleanup_expired_attempts(self, request, queryset):
        return super().cleanup_expired_attempts(request, queryset)


for model, model_admin in ((PeriodicTask, PeriodicTaskAdmin), (AccessAttempt, AccessAttemptAdmin)):
    admin.site.unregister(model)
    admin.site.register(model, model_admin)
