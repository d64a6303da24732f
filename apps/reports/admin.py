from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from apps.criteria.admin import MQLCriteriaAdmin, SingletonAdmin
from apps.criteria.models import MQLCriteria
from apps.leads.selectors import new_leads_meeting
from apps.leads.services import leads_promote_meeting
from apps.reports.models import ReportSettings, WeeklyReport
from apps.reports.whatif import criteria_whatif, preview_weeks
from leadflow.admin import ReadOnlyAdmin

# Leads the promotion page lists by name before the admin confirms (it counts them all).
PROMOTE_SAMPLE = 20


@admin.register(ReportSettings)
class ReportSettingsAdmin(SingletonAdmin):
    fieldsets = [
        (
            _("Weekly alerts on the MQL→SQL rate"),
            {
                "fields": [
                    "target_rate_percent",
                    "too_loose_below_percent",
                    "too_strict_above_percent",
                    "drop_alert_points",
                ],
                "description": _(
                    "Each stored report keeps the thresholds it was built with; changes apply to "
                    "reports built from now on and to the dashboard's target line."
                ),
            },
        ),
    ]


@admin.register(WeeklyReport)
class WeeklyReportAdmin(ReadOnlyAdmin):
    """Stored reports are read-only: they are what was reported that week."""

    list_display = ["week", "mqls", "mql_to_sql_rate", "alert_codes", "as_of", "emailed_at"]
    fields = [
        "week",
        "as_of",
        "built_at",
        "queued_at",
        "emailed_at",
        "thresholds",
        "previous_rate",
        "document",
    ]
    readonly_fields = fields

    @admin.display(description=_("MQLs"))
    def mqls(self, obj):
        return obj.document.get("mqls")

    @admin.display(description=_("MQL→SQL"))
    def mql_to_sql_rate(self, obj):
        rate = obj.document.get("mql_to_sql_rate")
        return "—" if rate is None else format_html("{}%", round(rate * 100, 1))

    @admin.display(description=_("alerts"))
    def alert_codes(self, obj):
        return ", ".join(alert["code"] for alert in obj.document.get("alerts", [])) or "—"


admin.site.unregister(MQLCriteria)


@admin.register(MQLCriteria)
class MQLCriteriaWhatIfAdmin(MQLCriteriaAdmin):
    """The criteria admin with the reports' tools: the what-if and the promotion offer (SPEC §3).

    "Preview" re-renders the form with the what-if beside it and saves nothing.
    Publishing a version promotes nobody; when new leads meet it, the admin is
    offered to promote them as one batch.
    """

    change_form_template = "admin/reports/mqlcriteria_change_form.html"

    def get_urls(self):
        return [
            path(
                "<int:pk>/promote/",
                self.admin_site.admin_view(self.promote_view),
                name="criteria_mqlcriteria_promote",
            ),
        ] + super().get_urls()

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and "_preview" in request.POST:
            return self.preview_view(request, object_id, form_url, extra_context)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        waiting = new_leads_meeting(obj.as_rule()).count()
        if waiting:
            messages.warning(
                request,
                format_html(
                    '{} <a href="{}">{}</a>',
                    ngettext(
                        "%(n)s new lead meets version %(v)s now; publishing promoted nobody.",
                        "%(n)s new leads meet version %(v)s now; publishing promoted nobody.",
                        waiting,
                    )
                    % {"n": waiting, "v": obj.version},
                    reverse("admin:criteria_mqlcriteria_promote", args=[obj.pk]),
                    gettext("Promote them to MQL…"),
                ),
            )

    def promote_view(self, request, pk):
        """Confirm (GET), then promote as one batch (POST) the new leads the active version lets in."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        criteria = get_object_or_404(MQLCriteria, pk=pk)
        back = reverse("admin:criteria_mqlcriteria_change", args=[criteria.pk])
        if not criteria.is_active:
            self.message_user(
                request,
                gettext("Version %(v)s is no longer the active one; it promotes nobody.")
                % {"v": criteria.version},
                messages.ERROR,
            )
            return redirect(back)
        if request.method == "POST":
            promoted = leads_promote_meeting(criteria=criteria)
            self.message_user(
                request,
                ngettext(
                    "%(n)s lead promoted to MQL by version %(v)s.",
                    "%(n)s leads promoted to MQL by version %(v)s.",
                    len(promoted),
                )
                % {"n": len(promoted), "v": criteria.version},
                messages.SUCCESS,
            )
            return redirect(back)
        waiting = new_leads_meeting(criteria.as_rule()).order_by("-score", "pk")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": criteria,
            "criteria": criteria,
            "count": waiting.count(),
            "sample": list(waiting[:PROMOTE_SAMPLE]),
            "title": gettext("Promote the leads that meet %(criteria)s") % {"criteria": criteria},
        }
        return TemplateResponse(request, "admin/reports/mqlcriteria_promote.html", context)

    def preview_view(
        self, request, object_id, form_url="", extra_context=None, *, data=None, weeks=None
    ):
        """The form posted with "Preview": validate, replay, re-render; never save.

        ``data`` (default: the POST) and ``weeks`` let a draft open with its preview run.
        """
        add = object_id is None
        obj = None
        if add:
            if not self.has_add_permission(request):
                raise PermissionDenied
        else:
            obj = self.get_object(request, unquote(object_id))
            if obj is None:
                return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
            if not self.has_change_permission(request, obj):
                raise PermissionDenied
        fieldsets = self.get_fieldsets(request, obj)
        form_class = self.get_form(
            request, obj, change=not add, fields=flatten_fieldsets(fieldsets)
        )
        form = form_class(request.POST if data is None else data, request.FILES, instance=obj)
        weeks = preview_weeks(
            weeks
            if weeks is not None
            else request.POST.get("preview_weeks", request.GET.get("weeks"))
        )
        whatif = None
        if form.is_valid():
            # is_valid() copied the proposed values onto the (unsaved) instance; a draft made
            # from a suggestion may also bring a fit rule.
            whatif = criteria_whatif(
                proposed=form.instance.as_rule(),
                proposed_fit=form.instance.proposed_fit_rule(),
                weeks=weeks,
            )
        admin_form = helpers.AdminForm(
            form,
            list(fieldsets),
            self.get_prepopulated_fields(request, obj),
            self.get_readonly_fields(request, obj),
            model_admin=self,
        )
        # Django's own words, translated by its catalogue.
        title = gettext("Add %s") if add else gettext("Change %s")
        context = {
            **self.admin_site.each_context(request),
            "title": title % self.opts.verbose_name,
            "subtitle": str(obj) if obj else None,
            "adminform": admin_form,
            "object_id": object_id,
            "original": obj,
            "is_popup": False,
            "to_field": None,
            "media": self.media + admin_form.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),
            "preserved_filters": self.get_preserved_filters(request),
            "whatif": whatif,
            "preview_weeks": weeks,
            **(extra_context or {}),
        }
        return self.render_change_form(
            request, context, add=add, change=not add, obj=obj, form_url=form_url
        )


def criteria_draft_whatif_view(request, draft: MQLCriteria, *, weeks=None):
    """The change form of ``draft`` with its what-if already run, posting to the admin's own page.

    Reached from the suggested criteria (``reports:criteria_draft``); Save on it
    is the admin's usual save, which publishes the draft.
    """
    model_admin = admin.site.get_model_admin(MQLCriteria)
    data = QueryDict(mutable=True)
    data.update(
        {
            "score_threshold": str(draft.score_threshold),
            "min_engagements": str(draft.min_engagements),
            "note": draft.note,
        }
    )
    data.setlist("required_kinds", list(draft.required_kinds or []))
    if draft.fit_required:
        data["fit_required"] = "on"
    return model_admin.preview_view(
        request,
        str(draft.pk),
        form_url=reverse("admin:criteria_mqlcriteria_change", args=[draft.pk]),
        data=data,
        weeks=weeks if weeks is not None else request.GET.get("weeks"),
    )
