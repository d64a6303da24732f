"""The lead import of Django admin (django-import-export), on the same rules as ``import_leads``.

The admin uploads a CSV, sees a dry-run preview (each row new, updated or
invalid with its reasons) and confirms. Each row is validated by
``imports.lead_row_clean`` and written by ``imports.lead_intake``, exactly as
the command does; a file with an invalid row cannot be confirmed.
"""

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from import_export import fields, resources
from import_export.admin import ImportMixin
from import_export.formats import base_formats

from apps.leads.imports import (
    LEAD_COLUMNS,
    ImportFileError,
    active_source_codes,
    csv_bytes_as_utf8,
    lead_intake,
    lead_row_clean,
    normalize_column,
)
from apps.leads.models import Lead


class LeadResource(resources.ModelResource):
    # Declared so every column maps to a plain attribute (source by its code, not a lookup).
    email = fields.Field(attribute="email", column_name="email")
    source = fields.Field(attribute="source_id", column_name="source")

    class Meta:
        model = Lead
        fields = LEAD_COLUMNS
        import_id_fields = ["email"]
        use_transactions = True
        clean_model_instances = False
        skip_unchanged = False

    def before_import(self, dataset, **kwargs):
        dataset.headers = [normalize_column(name) for name in dataset.headers or []]
        if "email" not in dataset.headers:
            raise ImportFileError(_("The first row must name the columns, one of them email."))
        self.active_sources = active_source_codes()

    def before_import_row(self, row, **kwargs):
        # Stored emails are lower-case; match them whatever case the file uses.
        row["email"] = str(row.get("email") or "").strip().lower()

    def import_instance(self, instance, row, **kwargs):
        values, errors = lead_row_clean(row, active_sources=self.active_sources)
        if errors:
            raise ValidationError(errors)
        instance.intake_values = values
        for name, value in values.items():
            if value not in (None, ""):
                setattr(instance, "source_id" if name == "source" else name, value)

    def save_instance(self, instance, is_create, row, **kwargs):
        if kwargs.get("dry_run") and not kwargs.get("using_transactions"):
            return  # no transaction to roll the preview back: write nothing
        values = dict(instance.intake_values)
        lead, _created = lead_intake(email=values.pop("email"), values=values)
        instance.pk = lead.pk
        instance.refresh_from_db()


class LeadImportAdminMixin(ImportMixin):
    """ImportMixin for ``LeadAdmin``: CSV only, Shift_JIS accepted, all-or-nothing."""

    resource_classes = [LeadResource]
    import_formats = [base_formats.CSV]

    def write_to_tmp_storage(self, import_file, input_format):
        # The preview and the confirm step both read the stored copy as UTF-8.
        data = b"".join(import_file.chunks())
        return super().write_to_tmp_storage(ContentFile(csv_bytes_as_utf8(data)), input_format)

    def get_import_data_kwargs(self, **kwargs):
        # A row that went bad between preview and confirm rolls the whole import back.
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}
