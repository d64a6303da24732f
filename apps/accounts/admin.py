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


def _action_requiring(permission, parent_admin, name, description):
    """``parent_admin``'s action ``name``, offered only to who holds ``permission`` on the model."""

    def action(self, request, queryset):
        return getattr(parent_admin, name)(self, request, queryset)

    action.__name__ = action.__qualname__ = name
    return admin.action(permissions=[permission], description=description)(action)


class PeriodicTaskAdmin(celery_beat_admin.PeriodicTaskAdmin):
    enable_tasks, disable_tasks, toggle_tasks, run_tasks = (
        _action_requiring("change", celery_beat_admin.PeriodicTaskAdmin, name, description)
        for name, description in (
            ("enable_tasks", _("Enable selected tasks")),
            ("disable_tasks", _("Disable selected tasks")),
            ("toggle_tasks", _("Toggle activity of selected tasks")),
            ("run_tasks", _("Run selected tasks")),
        )
    )


class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
    """Login lockouts: deleting an attempt lifts its lock (Django's "delete selected")."""

    cleanup_expired_attempts = _action_requiring(
        "delete",
        axes_admin.AccessAttemptAdmin,
        "cleanup_expired_attempts",
        _("Clean up expired attempts"),
    )


for model, model_admin in ((PeriodicTask, PeriodicTaskAdmin), (AccessAttempt, AccessAttemptAdmin)):
    admin.site.unregister(model)
    admin.site.register(model, model_admin)
