"""Marketers import leads from a CSV file in the UI: upload, preview, confirm (issue 12).

Access is decided here, on the server: only users who may create leads (marketing)
import, and each sees only the imports they started (another's is a 404).
"""

import re
from collections import Counter

from django import forms
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import capfirst
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views import View

from apps.accounts.permissions import can_create_leads, has_role
from apps.leads.import_jobs import ImportRefused, lead_import_confirm, lead_import_start
from apps.leads.imports import (
    CREATE,
    LEAD_COLUMNS,
    MERGE,
    REJECT,
    ROW_ACTIONS,
    UPDATE,
)
from apps.leads.models import Lead, LeadImport
from apps.leads.views import PageMixin
from leadflow.text import names_join

#: The encodings ``imports.CSV_ENCODINGS`` names, as a person calls them.
ENCODING_NAMES = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "cp932": "Shift_JIS"}
#: The row actions as the preview's filter and table name them.
ACTION_LABELS = {
    CREATE: pgettext_lazy("import row", "Create"),
    UPDATE: pgettext_lazy("import row", "Update"),
    MERGE: pgettext_lazy("import row", "Merge"),
    REJECT: pgettext_lazy("import row", "Reject"),
}
#: "email: Enter a valid email address." - a column's name opening a rejection reason.
COLUMN_PREFIX = re.compile(r"(^|; )(" + "|".join(map(re.escape, LEAD_COLUMNS)) + r"): ")


def column_label(column: str) -> str:
    """The translated name of a CSV column (the lead field it fills): "email" -> "Email"."""
    try:
        return capfirst(Lead._meta.get_field(column).verbose_name)
    except FieldDoesNotExist:  # a column that is no lead field keeps its name
        return column


def rejection_reason_readable(reason: str) -> str:
    """A rejection reason with each column name replaced by its translated label."""
    return COLUMN_PREFIX.sub(lambda m: f"{m.group(1)}{column_label(m.group(2))}: ", reason)


def summary_for_page(summary: dict) -> dict:
    """A stored summary (``import_jobs.summary_as_dict``), worded for people.

    The encoding's name, readable reasons, and the row-by-row plan with what happens
    to each row (``plan``); the rejected rows listed apart are those below the plan's
    last line (``rejections``), the rest only counted (``rejected_unlisted``). The
    marketer's preview page and the admin's import page both show it.
    """
    summary = dict(summary or {})
    encoding = summary.get("encoding") or ""
    summary["encoding_name"] = ENCODING_NAMES.get(encoding.lower(), encoding.upper())
    plan = import_plan_for_page(summary)
    summary["plan"] = plan
    summary["rejections"] = [
        {**row, "reason": rejection_reason_readable(str(row.get("reason", "")))}
        for row in summary.get("rejections") or []
        if row.get("line", 0) > plan["last_line"]
    ]
    summary["rejected_unlisted"] = (
        (summary.get("rejected") or 0) - plan["counts"][REJECT] - len(summary["rejections"])
    )
    summary["valid"] = (summary.get("created") or 0) + (summary.get("updated") or 0)
    return summary


def import_plan_for_page(summary: dict) -> dict:
    """The listed rows, each with its action's label and a sentence on what happens to it."""
    rows = [
        {**row, "label": ACTION_LABELS.get(row.get("action"), ""), "detail": _row_detail(row)}
        for row in summary.get("plan") or []
    ]
    counts = Counter(row.get("action") for row in rows)
    return {
        "rows": rows,
        "counts": counts,
        "groups": [
            {"action": action, "label": ACTION_LABELS[action], "count": counts[action]}
            for action in ROW_ACTIONS
        ],
        # Every row read is listed: nothing of the file is left out of the table.
        "complete": len(rows) >= (summary.get("rows") or 0),
        "last_line": rows[-1]["line"] if rows else 0,
    }


def _row_detail(row: dict) -> str:
    action = row.get("action")
    if action == REJECT:
        return rejection_reason_readable(str(row.get("reason", "")))
    if action == MERGE:
        return gettext(
            "Same email as line %(line)s: merged into one lead; this row's non-blank values "
            "win, except source and campaign (the first touch stays)."
        ) % {"line": row.get("merged_into")}
    if action == UPDATE:
        changes = row.get("changes") or []
        if not changes:
            return gettext("No change: the lead already holds these values.")
        return gettext("Changes: %(columns)s.") % {
            "columns": names_join(column_label(c) for c in changes)
        }
    return gettext("A new lead.")


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
        help_text=_("UTF-8 or Shift_JIS, with a header row; email is required."),
    )
    skip_invalid = forms.BooleanField(label=_("Skip the invalid rows"), required=False)


class ImportAccessMixin(PageMixin):
    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and has_role(user) and not can_create_leads(user):
            raise PermissionDenied(_("Importing leads is for marketing."))
        return super().dispatch(request, *args, **kwargs)


def import_for_user(user, pk) -> LeadImport:
    job = LeadImport.objects.filter(pk=pk, created_by=user).first()
    if job is None:
        raise Http404("No such import.")
    return job


class ImportUploadView(ImportAccessMixin, View):
    """GET the form; POST a file: it is stored and checked (a dry run) before anything is written."""

    template_name = "leads/import_upload.html"

    def get(self, request):
        return self._page(request, ImportForm())

    def post(self, request):
        limit = settings.LEADFLOW_IMPORT_MAX_BYTES
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isascii() and length.isdigit() and int(length) > limit + 64 * 1024:
            # Refused on its declared size: nothing of it is kept (Django streamed it to a
            # temporary file for the CSRF check, never into memory).
            return HttpResponse(
                gettext("The file is larger than %(limit)s MB; split it and import the parts.")
                % {"limit": limit // (1024 * 1024)},
                status=413,
                content_type="text/plain; charset=utf-8",
            )
        form = ImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._page(request, form, status=400)
        try:
            job = lead_import_start(
                user=request.user,
                upload=form.cleaned_data["file"],
                skip_invalid=form.cleaned_data["skip_invalid"],
            )
        except ImportRefused as exc:
            form.add_error("file", str(exc))
            return self._page(request, form, status=400)
        return redirect("leads:import_job", job.pk)

    def _page(self, request, form, status=200):
        recent = (
            LeadImport.objects.filter(created_by=request.user)
            .annotate(imported=Exists(LeadImport.objects.filter(preview=OuterRef("pk"))))
            .order_by("-created_at")[:10]
        )
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "columns": LEAD_COLUMNS,
                "recent": recent,
                "max_mb": settings.LEADFLOW_IMPORT_MAX_BYTES // (1024 * 1024),
            },
            status=status,
        )


class ImportJobView(ImportAccessMixin, View):
    """A preview or an import: its progress while it runs (htmx polls it), then what it found."""

    def get(self, request, pk):
        job = import_for_user(request.user, pk)
        confirmed = job.confirmations.order_by("-pk").first() if job.dry_run else None
        return render(
            request,
            "leads/import_job.html",
            {"job": job, "summary": summary_for_page(job.summary), "confirmed": confirmed},
        )


class ImportConfirmView(ImportAccessMixin, View):
    """POST: write the leads a finished preview checked."""

    def post(self, request, pk):
        preview = import_for_user(request.user, pk)
        try:
            job = lead_import_confirm(
                preview=preview,
                user=request.user,
                skip_invalid=request.POST.get("skip_invalid") == "on",
            )
        except ImportRefused as exc:
            return render(
                request,
                "leads/import_job.html",
                {
                    "job": preview,
                    "summary": summary_for_page(preview.summary),
                    "confirmed": preview.confirmations.order_by("-pk").first(),
                    "refused": str(exc),
                },
                status=409,
            )
        return redirect("leads:import_job", job.pk)
