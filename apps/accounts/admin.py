from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

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
