"""The reports dashboard and its CSV download (SPEC §6, §7): marketers and sales managers."""

import csv

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.utils.translation import gettext_noop
from django.views import View
from django.views.generic import TemplateView

from apps.accounts.permissions import can_view_reports
from apps.leads.views import PageMixin
from apps.reports.dashboard import dashboard_context
from apps.reports.models import ReportSettings
from apps.reports.selectors import CSV_COLUMNS, report_csv_row
from apps.reports.services import weekly_reports_recent

DASHBOARD_WEEKS = 12
# Raised untranslated; the 403 page shows it in the reader's language.
REPORTS_FORBIDDEN = gettext_noop("Reports are for marketing and sales managers.")


class ReportsAccessMixin(PageMixin):
    """Signed in, in a role, and allowed to see reports (marketing, sales managers); reps get 403."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not can_view_reports(request.user):
            raise PermissionDenied(REPORTS_FORBIDDEN)
        return super().dispatch(request, *args, **kwargs)


class DashboardView(ReportsAccessMixin, TemplateView):
    template_name = "reports/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        weeks = weekly_reports_recent(count=DASHBOARD_WEEKS)
        context.update(
            dashboard_context(weeks, target_percent=ReportSettings.load().target_rate_percent)
        )
        return context


class WeeklyCsvView(ReportsAccessMixin, View):
    """The dashboard's weeks as CSV: a header and one row per week, oldest first."""

    def get(self, request):
        weeks = weekly_reports_recent(count=DASHBOARD_WEEKS)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        filename = f"leadflow-weekly-{weeks[0].week}-{weeks[-1].week}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        writer = csv.writer(response)
        writer.writerow(CSV_COLUMNS)
        for row in weeks:
            writer.writerow(report_csv_row(row.document))
        return response
