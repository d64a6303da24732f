from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils import formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_celery_beat import admin as celery_beat_admin
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

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


# The periodic tasks our migrations seed, named in English in the database (the beat scheduler
# finds them by name): shown in the reader's language.
SEEDED_TASK_NAMES = {
    name: label
    for name, label in (
        (
            "SLA sweep: reminders, breaches, escalations",
            _("SLA sweep: reminders, breaches, escalations"),
        ),
        ("Nightly score decay", _("Nightly score decay")),
        ("Weekly conversion report", _("Weekly conversion report")),
        ("Outbox: deliver due emails and retries", _("Outbox: deliver due emails and retries")),
        (
            "Daily digest of rejected MQLs to marketing",
            _("Daily digest of rejected MQLs to marketing"),
        ),
    )
}


def periodic_task_name(name: str) -> str:
    return str(SEEDED_TASK_NAMES.get(name, name))


def crontab_words(crontab) -> str:
    """A crontab as a reader reads it: cron_descriptor's sentence in English; elsewhere each
    field named (its Japanese sentence mixes in English day names)."""
    if (get_language() or "en").startswith("en"):
        return crontab.human_readable
    return _("minute %(m)s, hour %(h)s, day %(d)s, month %(mo)s, weekday %(w)s (%(tz)s)") % {
        "m": crontab.minute,
        "h": crontab.hour,
        "d": crontab.day_of_month,
        "mo": crontab.month_of_year,
        "w": crontab.day_of_week,
        "tz": crontab.timezone,
    }


class TaskNameFilter(admin.AllValuesFieldListFilter):
    """The task filter under a translated title (the model's field is named in English only)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = _("task name")


class PeriodicTaskInline(celery_beat_admin.PeriodicTaskInline):
    fields = ("name_text", "task_name", "args", "kwargs")
    readonly_fields = fields

    @admin.display(description=_("name"))
    def name_text(self, task):
        return periodic_task_name(task.name)

    @admin.display(description=_("task name"))
    def task_name(self, task):
        return task.task


class PeriodicTaskAdmin(celery_beat_admin.PeriodicTaskAdmin):
    list_display = [
        "name_text",
        "enabled",
        "schedule_text",
        "start_time",
        "last_run_at",
        "one_off",
    ]
    list_filter = ["enabled", "one_off", ("task", TaskNameFilter), "start_time", "last_run_at"]
    enable_tasks, disable_tasks, toggle_tasks, run_tasks = (
        _action_requiring("change", celery_beat_admin.PeriodicTaskAdmin, name, description)
        for name, description in (
            ("enable_tasks", _("Enable selected tasks")),
            ("disable_tasks", _("Disable selected tasks")),
            ("toggle_tasks", _("Toggle activity of selected tasks")),
            ("run_tasks", _("Run selected tasks")),
        )
    )

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "task" in form.base_fields:
            form.base_fields["task"].label = _("task name")
        return form

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        task = self.get_object(request, object_id) if object_id else None
        if task is not None:
            extra_context = {**(extra_context or {}), "subtitle": periodic_task_name(task.name)}
        return super().changeform_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("name"), ordering="name")
    def name_text(self, task):
        return periodic_task_name(task.name)

    @admin.display(description=_("Schedule"))
    def schedule_text(self, task):
        schedule = task.scheduler
        return crontab_words(schedule) if isinstance(schedule, CrontabSchedule) else schedule

    @admin.display(description=_("crontab in words"))
    def crontab_translation(self, task):
        return crontab_words(task.crontab) if task.crontab else "—"


class CrontabScheduleAdmin(celery_beat_admin.CrontabScheduleAdmin):
    list_display = ["__str__", "in_words"]
    fields = [
        "in_words",
        "minute",
        "hour",
        "day_of_month",
        "month_of_year",
        "day_of_week",
        "timezone",
    ]
    readonly_fields = ["in_words"]
    inlines = [PeriodicTaskInline]

    @admin.display(description=_("in words"))
    def in_words(self, crontab):
        return crontab_words(crontab) if crontab.pk else "—"


def _with_translated_inline(parent):
    return type(parent.__name__, (parent,), {"inlines": [PeriodicTaskInline]})


class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
    """Login lockouts: deleting an attempt lifts its lock (Django's "delete selected")."""

    cleanup_expired_attempts = _action_requiring(
        "delete",
        axes_admin.AccessAttemptAdmin,
        "cleanup_expired_attempts",
        _("Clean up expired attempts"),
    )

    @admin.display(description=_("status"))
    def status(self, attempt):
        return super().status(attempt)


# --- Third-party rows by name, in the reader's language -----------------------------------
# Their ``__str__`` is English ("Attempted Access: …", "Access Log for …") and titles their
# admin pages, breadcrumbs and inline rows; the models' fields and migrations are untouched.


def _when(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT") if moment else "—"


def _periodic_task_str(task) -> str:
    schedule = task.scheduler
    if isinstance(schedule, CrontabSchedule):
        schedule = crontab_words(schedule)
    return f"{periodic_task_name(task.name)}: {schedule if schedule else _('no schedule')}"


PeriodicTask.__str__ = _periodic_task_str
AccessAttempt.__str__ = lambda attempt: (
    _("Access attempt by %(user)s at %(when)s")
    % {
        "user": attempt.username or "—",
        "when": _when(attempt.attempt_time),
    }
)
AccessFailureLog.__str__ = lambda failure: (
    _("Failed sign-in by %(user)s at %(when)s from %(ip)s")
    % {
        "user": failure.username or "—",
        "when": _when(failure.attempt_time),
        "ip": failure.ip_address,
    }
)
AccessLog.__str__ = lambda log: (
    _("Sign-in by %(user)s at %(when)s")
    % {
        "user": log.username or "—",
        "when": _when(log.attempt_time),
    }
)


for model, model_admin in (
    (PeriodicTask, PeriodicTaskAdmin),
    (CrontabSchedule, CrontabScheduleAdmin),
    (IntervalSchedule, _with_translated_inline(celery_beat_admin.IntervalScheduleAdmin)),
    (SolarSchedule, _with_translated_inline(celery_beat_admin.SolarScheduleAdmin)),
    (ClockedSchedule, _with_translated_inline(celery_beat_admin.ClockedScheduleAdmin)),
    (AccessAttempt, AccessAttemptAdmin),
):
    admin.site.unregister(model)
    admin.site.register(model, model_admin)
