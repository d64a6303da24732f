from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _

from apps.criteria.admin import SingletonAdmin
from apps.criteria.models import MQLCriteria
from apps.leads.admin import AppendOnlyAdmin
from apps.reports.models import ReportSettings, WeeklyReport
from apps.reports.whatif import criteria_whatif, preview_weeks


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
class WeeklyReportAdmin(AppendOnlyAdmin):
    """Stored reports are read-only: they are what was reported that week."""

    list_display = ["week", "mqls", "mql_to_sql_rate", "alert_codes", "as_of", "emailed_at"]
    fields = ["week", "as_of", "built_at", "emailed_at", "thresholds", "previous_rate", "document"]
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


def criteria_whatif_preview_view(
    model_admin, request, object_id, form_url="", extra_context=None, *, data=None, weeks=None
):
    """The MQL-criteria form posted with "Preview": validate, replay, re-render; never save.

    Called by ``MQLCriteriaAdmin.changeform_view``; renders the same change
    form (with its errors, or with the what-if table beside it). ``data``
    (default: the POST) and ``weeks`` let a draft open with its preview run.
    """
    add = object_id is None
    obj = None
    if add:
        if not model_admin.has_add_permission(request):
            raise PermissionDenied
    else:
        obj = model_admin.get_object(request, unquote(object_id))
        if obj is None:
            return model_admin._get_obj_does_not_exist_redirect(
                request, model_admin.opts, object_id
            )
        if not model_admin.has_change_permission(request, obj):
            raise PermissionDenied
    fieldsets = model_admin.get_fieldsets(request, obj)
    form_class = model_admin.get_form(
        request, obj, change=not add, fields=flatten_fieldsets(fieldsets)
    )
    form = form_class(request.POST if data is None else data, request.FILES, instance=obj)
    weeks = preview_weeks(
        weeks if weeks is not None else request.POST.get("preview_weeks", request.GET.get("weeks"))
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
        model_admin.get_prepopulated_fields(request, obj),
        model_admin.get_readonly_fields(request, obj),
        model_admin=model_admin,
    )
    title = _gettext("Add %s") if add else _gettext("Change %s")
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title % model_admin.opts.verbose_name,
        "subtitle": str(obj) if obj else None,
        "adminform": admin_form,
        "object_id": object_id,
        "original": obj,
        "is_popup": False,
        "to_field": None,
        "media": model_admin.media + admin_form.media,
        "inline_admin_formsets": [],
        "errors": helpers.AdminErrorList(form, []),
        "preserved_filters": model_admin.get_preserved_filters(request),
        "whatif": whatif,
        "preview_weeks": weeks,
        **(extra_context or {}),
    }
    return model_admin.render_change_form(
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
    return criteria_whatif_preview_view(
        model_admin,
        request,
        str(draft.pk),
        form_url=reverse("admin:criteria_mqlcriteria_change", args=[draft.pk]),
        data=data,
        weeks=weeks if weeks is not None else request.GET.get("weeks"),
    )
