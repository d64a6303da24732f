"""Marketers import leads from a CSV file in the UI: upload, preview, confirm (issue 12).

Access is decided here, on the server: only users who may create leads (marketing)
import, and each sees only the imports they started (another's is a 404).
"""

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View

from apps.accounts.permissions import can_create_leads, has_role
from apps.leads.import_jobs import ImportRefused, lead_import_confirm, lead_import_start
from apps.leads.imports import LEAD_COLUMNS
from apps.leads.models import LeadImport
from apps.leads.views import PageMixin


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
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
        if length.isdigit() and int(length) > limit + 64 * 1024:
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
        recent = LeadImport.objects.filter(created_by=request.user).order_by("-created_at")[:10]
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
            {"job": job, "summary": job.summary, "confirmed": confirmed},
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
                {"job": preview, "summary": preview.summary, "refused": str(exc)},
                status=409,
            )
        return redirect("leads:import_job", job.pk)
