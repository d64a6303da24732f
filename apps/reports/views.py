"""The reports pages (SPEC §6, §7): the dashboard and its CSV download, the conversion
drivers and the suggested criteria, for marketers, sales managers and admins."""

import csv
import math

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views import View

from apps.accounts.permissions import can_draft_mql_criteria, can_view_reports
from apps.criteria.models import MQLCriteria
from apps.leads.views import PageMixin
from apps.reports.admin import criteria_draft_whatif_view
from apps.reports.dashboard import dashboard_context
from apps.reports.drivers import SMALL_SAMPLE, conversion_drivers
from apps.reports.forms import (
    CriteriaDraftForm,
    DashboardFilterForm,
    SuggestionsForm,
    WindowForm,
)
from apps.reports.models import ReportSettings
from apps.reports.selectors import CSV_COLUMNS, report_csv_row
from apps.reports.services import (
    weekly_reports_filtered,
    weekly_reports_for,
)
from apps.reports.suggest import (
    DEFAULT_BAND,
    MIN_CANDIDATE_MQLS,
    MIN_HISTORY_MQLS,
    MIN_HISTORY_SQLS,
    suggestions_for_window,
)
from apps.reports.suggestions_page import suggestions_page_context
from apps.reports.weeks import WeekWindow
from apps.reports.whatif import MAX_WEEKS

# Raised untranslated; the 403 page shows it in the reader's language.
REPORTS_FORBIDDEN = gettext_noop("Reports are for marketing and sales managers.")
DRAFTS_FORBIDDEN = gettext_noop("Only admins who edit the MQL criteria may make a draft.")


class ReportsAccessMixin(PageMixin):
    """Signed in, in a role, and allowed to see reports (marketing, sales managers); reps get 403."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not can_view_reports(request.user):
            raise PermissionDenied(REPORTS_FORBIDDEN)
        return super().dispatch(request, *args, **kwargs)


def weeks_from_first_data(weeks):
    """The window from its first week with an MQL (a young install has no empty months to chart)."""
    first = next((i for i, row in enumerate(weeks) if row.document.get("mqls")), len(weeks) - 1)
    return list(weeks[max(first, 0) :])


def dashboard_weeks(form: DashboardFilterForm, *, now) -> list:
    """The weeks of a valid dashboard filter form's window: the page's and the CSV's figures.

    For everyone, the stored reports; for one rep, source or criteria version, the
    same figures counted now.
    """
    cohort, window = form.cleaned_data["cohort"], form.cleaned_data["window"]
    if cohort:
        return weekly_reports_filtered(window.weeks, now=now, cohort=cohort)
    return weekly_reports_for(window.weeks, now=now)


def dashboard_filter_query(form: DashboardFilterForm) -> dict[str, str]:
    """The filters given to ``form``, as the query string that gives them again."""
    return {name: form.data[name] for name in form.fields if form.data.get(name)}


class DashboardView(ReportsAccessMixin, View):
    """The weeks' figures, for everyone (the stored reports) or one rep, source or criteria
    version (GET ?rep&source&criteria&from&to; a value the form refuses answers 400)."""

    def get(self, request):
        now = timezone.now()
        form = DashboardFilterForm(request.GET, now=now)
        if not form.is_valid():
            return render(request, "reports/dashboard.html", {"form": form}, status=400)
        cohort = form.cleaned_data["cohort"]
        weeks = dashboard_weeks(form, now=now)
        if not form.cleaned_data["chosen_weeks"]:
            # Charted from the first week with data; the CSV keeps the whole window.
            weeks = weeks_from_first_data(weeks)
        report_settings = ReportSettings.load()
        query = dashboard_filter_query(form)
        context = {
            "form": form,
            "filtered": bool(cohort),
            # The download holds the page's figures: the same filters, the same window.
            "csv_url": reverse("reports:weekly_csv") + (f"?{urlencode(query)}" if query else ""),
        }
        context.update(
            dashboard_context(
                weeks,
                target_percent=report_settings.target_rate_percent,
                loose_percent=report_settings.too_loose_below_percent,
                strict_percent=report_settings.too_strict_above_percent,
                cohort=cohort,
                now=now,
            )
        )
        return render(request, "reports/dashboard.html", context)


class WeeklyCsvView(ReportsAccessMixin, View):
    """The dashboard's weeks as CSV, for the dashboard's filters (the same query string):
    a header and one row per week, oldest first; a filter the form refuses answers 400."""

    def get(self, request):
        now = timezone.now()
        form = DashboardFilterForm(request.GET, now=now)
        if not form.is_valid():
            problems = [str(m) for messages in form.errors.values() for m in messages]
            return HttpResponse(
                " ".join(problems), status=400, content_type="text/plain; charset=utf-8"
            )
        weeks = dashboard_weeks(form, now=now)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        filters = "".join(
            f"-{name}-{slugify(value)}"
            for name, value in dashboard_filter_query(form).items()
            if name not in ("from", "to")
        )
        filename = f"leadflow-weekly-{weeks[0].week}-{weeks[-1].week}{filters}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        writer = csv.writer(response)
        writer.writerow(CSV_COLUMNS)
        for row in weeks:
            writer.writerow(report_csv_row(row.document))
        return response


def _bound(form_class, request, *, defaults: dict, **kwargs):
    """The form bound to the query string, blank fields showing their defaults."""
    data = request.GET.copy()
    for key, value in defaults.items():
        if not data.get(key):
            data[key] = value
    return form_class(data, **kwargs)


def _window_defaults(now) -> dict:
    window = WeekWindow.default(now)
    return {"from": str(window.first), "to": str(window.last)}


def _band_defaults() -> dict:
    return {"low": f"{DEFAULT_BAND[0] * 100:g}", "high": f"{DEFAULT_BAND[1] * 100:g}"}


class DriversView(ReportsAccessMixin, View):
    """Which signals the window's MQLs that reached SQL share (GET ?from=YYYY-Www&to=YYYY-Www)."""

    def get(self, request):
        now = timezone.now()
        form = _bound(WindowForm, request, defaults=_window_defaults(now), now=now)
        context = {"form": form, "small_sample": SMALL_SAMPLE}
        if not form.is_valid():
            return render(request, "reports/drivers.html", context, status=400)
        report = conversion_drivers(window=form.window, now=now)
        context.update(
            report=report,
            suggestions_url=reverse("reports:suggestions")
            + "?"
            + urlencode({"from": str(form.window.first), "to": str(form.window.last)}),
        )
        return render(request, "reports/drivers.html", context)


class SuggestionsView(ReportsAccessMixin, View):
    """Criteria whose replayed MQL→SQL lands in the target band (GET ?from&to&low&high)."""

    def get(self, request):
        now = timezone.now()
        form = _bound(
            SuggestionsForm, request, defaults=_window_defaults(now) | _band_defaults(), now=now
        )
        context = {
            "form": form,
            "can_draft": can_draft_mql_criteria(request.user),
            "min_candidate_mqls": MIN_CANDIDATE_MQLS,
            "min_history_mqls": MIN_HISTORY_MQLS,
            "min_history_sqls": MIN_HISTORY_SQLS,
        }
        if not form.is_valid():
            return render(request, "reports/suggestions.html", context, status=400)
        window = form.window
        suggestions = suggestions_for_window(window=window, band=form.band, now=now)
        context.update(
            suggestions_page_context(suggestions),
            suggestions=suggestions,
            drivers_url=reverse("reports:drivers")
            + "?"
            + urlencode({"from": str(window.first), "to": str(window.last)}),
            whatif_weeks=_weeks_until_now(window, now),
            note_window=str(window),
        )
        return render(request, "reports/suggestions.html", context)


def _weeks_until_now(window: WeekWindow, now) -> int:
    """The what-if's "last N weeks" (which end with this week) that cover ``window``, at most 26."""
    days = (now - window.start).total_seconds() / 86400
    return max(1, min(MAX_WEEKS, math.ceil(days / 7)))


class CriteriaDraftCreateView(ReportsAccessMixin, View):
    """POST a suggested candidate: it becomes a draft version, opened in the what-if."""

    http_method_names = ["post"]

    def post(self, request):
        if not can_draft_mql_criteria(request.user):
            raise PermissionDenied(DRAFTS_FORBIDDEN)
        form = CriteriaDraftForm(request.POST)
        if form.is_valid():
            try:
                draft = MQLCriteria.create_draft(
                    values=form.criteria_values(),
                    fit_rule_change=form.cleaned_data["fit_rule_change"],
                    author=request.user,
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                target = reverse("reports:criteria_draft", args=[draft.pk])
                weeks = form.cleaned_data.get("weeks")
                return redirect(f"{target}?{urlencode({'weeks': weeks})}" if weeks else target)
        return render(
            request,
            "reports/draft_invalid.html",
            {"form": form, "message": _("This suggestion could not be made into a draft.")},
            status=400,
        )


class CriteriaDraftView(ReportsAccessMixin, View):
    """A draft version in Django admin's criteria form, with its what-if already run.

    The form posts to the admin's own change page, so **Save** is the admin's
    usual publishing action; **Preview** reruns the what-if there.
    """

    def get(self, request, pk):
        if not can_draft_mql_criteria(request.user):
            raise PermissionDenied(DRAFTS_FORBIDDEN)
        criteria = get_object_or_404(MQLCriteria, pk=pk)
        if not criteria.is_draft:
            # Published since: its admin page tells which version it became.
            return redirect(reverse("admin:criteria_mqlcriteria_change", args=[criteria.pk]))
        return criteria_draft_whatif_view(request, criteria, weeks=request.GET.get("weeks"))
