import tempfile
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.leads.import_jobs import summary_as_dict
from apps.leads.import_views import summary_for_page
from apps.leads.imports import ImportFileError, leads_import_csv
from apps.leads.labels import history_reason, transition_reason_labels
from apps.leads.models import Engagement, Lead, Qualification, StageTransition
from apps.leads.services import lead_fit_refresh, lead_transition, leads_promote_if_meeting
from apps.leads.transitions import (
    TRANSITIONS,
    LifecycleError,
    TransitionInvalid,
    available_transitions,
)
from leadflow.admin import ReadOnlyAdmin, ReadOnlyInline


class HistoryInWords:
    """A history row's transition and reason in the reader's language, as the lead page reads
    them (the stored ones are codes, and a scoring promotion's reason is English)."""

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("criteria")

    @admin.display(description=_("transition"), ordering="transition")
    def transition_text(self, row):
        entry = TRANSITIONS.get(row.transition)
        return entry.event if entry else row.transition

    @admin.display(description=_("reason"), ordering="reason")
    def reason_text(self, row):
        return history_reason(row, transition_reason_labels())


class TransitionFilter(admin.SimpleListFilter):
    """The history filtered by transition, each named as its event (not its code)."""

    title = _("transition")
    parameter_name = "transition"

    def lookups(self, request, model_admin):
        return [(name, entry.event) for name, entry in TRANSITIONS.items()]

    def queryset(self, request, queryset):
        return queryset.filter(transition=self.value()) if self.value() else queryset


class StageTransitionInline(HistoryInWords, ReadOnlyInline):
    model = StageTransition
    fields = [
        "at",
        "transition_text",
        "from_stage",
        "to_stage",
        "actor",
        "owner",
        "reason_text",
        "note",
        "criteria",
    ]
    readonly_fields = fields
    ordering = ["at", "id"]


class EngagementInline(ReadOnlyInline):
    model = Engagement
    fields = ["occurred_at", "kind", "points", "source", "campaign", "external_id"]
    readonly_fields = fields
    ordering = ["-occurred_at"]


class QualificationInline(ReadOnlyInline):
    model = Qualification
    fields = [
        "qualified_at",
        "qualified_by",
        "budget_amount",
        "budget_currency",
        "authority",
        "need",
        "timeline",
        "notes",
    ]
    readonly_fields = fields


def _transition_action(entry):
    """An admin action making ``entry`` (one whose only input is an optional note) on each selected lead."""

    def action(modeladmin, request, queryset):
        values = entry.clean({})
        done, refused = 0, []
        for lead in queryset:
            try:
                lead_transition(lead=lead.pk, name=entry.name, actor=request.user, values=values)
                done += 1
            except LifecycleError as exc:
                refused.append(f"{lead.email}: {exc}")
        if done:
            modeladmin.message_user(
                request,
                _("%(n)s lead(s): %(name)s done.") % {"n": done, "name": entry.label},
                messages.SUCCESS,
            )
        for line in refused:
            modeladmin.message_user(request, line, messages.WARNING)

    action.__name__ = f"transition_{entry.name}"
    # Lazy: made once at import, read in each request's language.
    action.short_description = lazy(
        lambda: gettext("Transition selected leads: %(name)s") % {"name": entry.label}, str
    )()
    # Offered to, and run for, only those who may change leads (the service then checks the role).
    action.allowed_permissions = ("change",)
    return action


IMPORT_SESSION_KEY = "leads_admin_import"


class LeadImportForm(forms.Form):
    import_file = forms.FileField(label=_("CSV file"))
    encoding = forms.CharField(
        label=_("Encoding"),
        required=False,
        max_length=40,
        help_text=_("Leave blank to detect UTF-8 or Shift_JIS; otherwise e.g. latin-1."),
    )
    skip_invalid = forms.BooleanField(
        label=_("Import the valid rows and skip the invalid ones"), required=False
    )


def _upload_to_temp_file(upload) -> Path | None:
    """The upload copied chunk by chunk to a temporary file; None when it is too large."""
    limit = settings.LEADFLOW_ADMIN_IMPORT_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        return None
    handle = tempfile.NamedTemporaryFile(prefix="lead-import-", suffix=".csv", delete=False)
    written = 0
    with handle:
        for chunk in upload.chunks():
            written += len(chunk)
            if written > limit:
                break
            handle.write(chunk)
    if written > limit:
        Path(handle.name).unlink(missing_ok=True)
        return None
    return Path(handle.name)


LIFECYCLE_FIELDS = [
    "stage",
    "owner",
    "score",
    "engagement_count",
    "fit",
    "fit_reason",
    "mql_criteria",
    "recycle_count",
    "last_reject_reason",
    "disqualify_reason",
    "assigned_at",
    "accept_due_at",
    "process_due_at",
]
OPPORTUNITY_FIELDS = [
    "opportunity_amount",
    "opportunity_currency",
    "expected_close_date",
    "close_reason",
]
TIMESTAMP_FIELDS = [
    "created_at",
    "updated_at",
    "mql_at",
    "accepted_at",
    "rejected_at",
    "sql_at",
    "opportunity_at",
    "closed_at",
    "disqualified_at",
    "recycled_at",
    "archived_at",
]


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    change_list_template = "admin/leads/lead/change_list.html"
    list_display = [
        "email",
        "full_name",
        "company",
        "source",
        "stage",
        "score",
        "fit",
        "owner",
        "created_at",
    ]
    list_filter = ["stage", "fit", "source", "owner"]
    search_fields = ["email", "first_name", "last_name", "company"]
    list_select_related = ["owner", "source"]
    date_hierarchy = "created_at"
    # What only the transitions and the system change: shown, never edited here.
    readonly_fields = [*LIFECYCLE_FIELDS, *OPPORTUNITY_FIELDS, *TIMESTAMP_FIELDS]
    fieldsets = [
        (_("Contact"), {"fields": ["email", "first_name", "last_name", "title", "phone"]}),
        (
            _("Company"),
            {"fields": ["company", "employees", "industry", "country", "source", "campaign"]},
        ),
        (_("Lifecycle (change it with the transitions above)"), {"fields": LIFECYCLE_FIELDS}),
        (_("Opportunity"), {"classes": ["collapse"], "fields": OPPORTUNITY_FIELDS}),
        (_("Timestamps"), {"classes": ["collapse"], "fields": TIMESTAMP_FIELDS}),
    ]
    inlines = [StageTransitionInline, QualificationInline, EngagementInline]
    actions = [_transition_action(entry) for entry in TRANSITIONS.values() if entry.note_only] + [
        "archive"
    ]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        lead_fit_refresh(obj)
        super().save_model(request, obj, form, change)
        # A profile edit can make the lead meet the MQL criteria: it is promoted then.
        leads_promote_if_meeting([obj.pk])

    @admin.action(
        permissions=["change"],
        description=_("Archive selected leads (hidden from lists, never deleted)"),
    )
    def archive(self, request, queryset):
        n = queryset.filter(archived_at__isnull=True).update(archived_at=timezone.now())
        self.message_user(request, _("%(n)s lead(s) archived.") % {"n": n}, messages.SUCCESS)

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="leads_lead_import",
            ),
            path(
                "<int:pk>/transition/<str:name>/",
                self.admin_site.admin_view(self.transition_view),
                name="leads_lead_transition",
            ),
        ] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        lead = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if lead is not None:
            extra_context["available_transitions"] = available_transitions(request.user, lead)
        return super().change_view(request, object_id, form_url, extra_context)

    def has_import_permission(self, request) -> bool:
        # An import creates leads and changes known ones.
        return self.has_add_permission(request) and self.has_change_permission(request)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "may_import": self.has_import_permission(request)}
        return super().changelist_view(request, extra_context)

    def import_view(self, request):
        """Upload a CSV, see a dry-run preview, confirm: ``leads_import_csv`` does both steps.

        The upload is streamed to a temporary file (refused past
        ``LEADFLOW_ADMIN_IMPORT_MAX_BYTES``); the session remembers which file
        the preview was of, so the confirm step imports exactly what was shown.
        """
        if not self.has_import_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import leads from a CSV file"),
            "form": LeadImportForm(),
            "max_mb": settings.LEADFLOW_ADMIN_IMPORT_MAX_BYTES // (1024 * 1024),
        }
        if request.method == "POST" and request.POST.get("confirm"):
            return self._import_confirm(request)
        if request.method == "POST":
            form = LeadImportForm(request.POST, request.FILES)
            context["form"] = form
            if form.is_valid():
                context.update(self._import_preview(request, form))
        return TemplateResponse(request, "admin/leads/lead/import.html", context)

    def _import_preview(self, request, form) -> dict:
        pending = request.session.pop(IMPORT_SESSION_KEY, None)
        if pending:
            Path(pending["path"]).unlink(missing_ok=True)
        path = _upload_to_temp_file(form.cleaned_data["import_file"])
        if path is None:
            form.add_error(
                "import_file",
                _("The file is larger than %(mb)s MB; import it with manage.py import_leads.")
                % {"mb": settings.LEADFLOW_ADMIN_IMPORT_MAX_BYTES // (1024 * 1024)},
            )
            return {}
        options = {
            "skip_invalid": form.cleaned_data["skip_invalid"],
            "encoding": form.cleaned_data["encoding"] or None,
        }
        try:
            summary = leads_import_csv(path=path, dry_run=True, **options)
        except ImportFileError as exc:
            path.unlink(missing_ok=True)
            form.add_error("import_file", str(exc))
            return {}
        confirmable = not (summary.rejected and not options["skip_invalid"])
        if confirmable:
            request.session[IMPORT_SESSION_KEY] = {"path": str(path), **options}
        else:
            path.unlink(missing_ok=True)
        # Worded as on the marketer's preview page, with the same row-by-row table.
        return {"summary": summary_for_page(summary_as_dict(summary)), "confirmable": confirmable}

    def _import_confirm(self, request):
        pending = request.session.pop(IMPORT_SESSION_KEY, None)
        if not pending or not Path(pending["path"]).exists():
            self.message_user(
                request, _("That import has expired; upload the file again."), messages.ERROR
            )
            return redirect(reverse("admin:leads_lead_import"))
        path = Path(pending.pop("path"))
        try:
            summary = leads_import_csv(path=path, **pending)
        except ImportFileError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return redirect(reverse("admin:leads_lead_import"))
        finally:
            path.unlink(missing_ok=True)
        self.message_user(
            request,
            _(
                "Imported: %(created)s created, %(updated)s updated, %(duplicates)s repeated "
                "emails merged, %(rejected)s rows skipped."
            )
            % {
                "created": summary.created,
                "updated": summary.updated,
                "duplicates": summary.duplicates,
                "rejected": summary.rejected,
            },
            messages.SUCCESS,
        )
        return redirect(reverse("admin:leads_lead_changelist"))

    def transition_view(self, request, pk, name):
        # The page shows the lead and makes a change: both need the change permission.
        if not self.has_change_permission(request):
            raise PermissionDenied
        lead = get_object_or_404(Lead, pk=pk)
        entry = TRANSITIONS.get(name)
        if entry is None:
            return redirect(reverse("admin:leads_lead_change", args=[pk]))
        form = entry.form(data=request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                lead_transition(
                    lead=pk,
                    name=name,
                    actor=request.user,
                    values=form.cleaned_data,
                    expected_stage=request.POST.get("expected_stage") or None,
                )
            except TransitionInvalid as exc:
                exc.add_to(form)
            except LifecycleError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return redirect(reverse("admin:leads_lead_change", args=[pk]))
            else:
                self.message_user(
                    request, _("%(name)s done.") % {"name": entry.label}, messages.SUCCESS
                )
                return redirect(reverse("admin:leads_lead_change", args=[pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": lead,
            "lead": lead,
            "form": form,
            "entry": entry,
            "title": _("%(name)s: %(lead)s") % {"name": entry.label, "lead": lead},
        }
        return TemplateResponse(request, "admin/leads/lead/transition.html", context)


@admin.register(Engagement)
class EngagementAdmin(ReadOnlyAdmin):
    """Engagements enter through the scoring service (API, import), never by hand."""

    list_display = ["occurred_at", "lead", "kind", "points", "source", "external_id"]
    list_filter = ["kind"]
    search_fields = ["lead__email", "external_id"]
    list_select_related = ["lead"]
    raw_id_fields = ["lead"]


@admin.register(StageTransition)
class StageTransitionAdmin(HistoryInWords, ReadOnlyAdmin):
    list_display = [
        "at",
        "lead",
        "transition_text",
        "from_stage",
        "to_stage",
        "actor",
        "reason_text",
    ]
    list_filter = [TransitionFilter, "to_stage"]
    search_fields = ["lead__email"]
    list_select_related = ["lead", "actor"]
