from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.criteria.models import (
    Authority,
    CurrencyRate,
    DisqualifyReason,
    EngagementKind,
    FitRule,
    LeadSource,
    MQLCriteria,
    RejectReason,
    ScoringRule,
    ScoringSettings,
    SLAPolicy,
    SQLCriteria,
)


class SingletonAdmin(admin.ModelAdmin):
    """One row, edited in place: the list page goes straight to it."""

    def has_add_permission(self, request):
        return not self.model.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        obj = self.model.load()
        return redirect(
            reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
        )


class LabelledListEditable:
    """Inputs of ``list_editable`` named for screen readers ("Points — Demo request"): the
    admin draws them in table cells with no label of their own."""

    def get_changelist_form(self, request, **kwargs):
        form_class = super().get_changelist_form(request, **kwargs)

        class LabelledForm(form_class):
            def __init__(self, *args, **form_kwargs):
                super().__init__(*args, **form_kwargs)
                for field in self.fields.values():
                    field.widget.attrs["aria-label"] = f"{field.label} — {self.instance}"

        return LabelledForm


@admin.register(ScoringRule)
class ScoringRuleAdmin(LabelledListEditable, admin.ModelAdmin):
    list_display = ["kind", "points"]
    list_editable = ["points"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ScoringSettings)
class ScoringSettingsAdmin(SingletonAdmin):
    fieldsets = [
        (None, {"fields": ["score_cap"]}),
        (
            _("Decay"),
            {
                "fields": ["decay_after_days", "decayed_points_percent"],
                "description": _("The nightly job and recompute_scores apply decay to every lead."),
            },
        ),
    ]


@admin.register(FitRule)
class FitRuleAdmin(SingletonAdmin):
    fields = ["employees_min", "employees_max", "allowed_industries", "allowed_countries"]


class MQLCriteriaForm(forms.ModelForm):
    required_kinds = forms.MultipleChoiceField(
        label=_("Required engagement kinds"),
        choices=EngagementKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The lead must have done each ticked kind at least once."),
    )

    class Meta:
        model = MQLCriteria
        fields = ["score_threshold", "min_engagements", "required_kinds", "fit_required", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["note"] = self.instance.note_text


@admin.register(MQLCriteria)
class MQLCriteriaAdmin(admin.ModelAdmin):
    """Saving never edits a version: it publishes the form as the next, active one.

    ``apps.reports.admin`` registers its subclass in this one's place, adding the
    what-if preview and the offer to promote the leads a new version lets in.
    """

    form = MQLCriteriaForm
    list_display = [
        "version",
        "is_active",
        "score_threshold",
        "min_engagements",
        "fit_required",
        "created_at",
        "created_by",
        "note_text",
    ]
    readonly_fields = ["version", "is_active", "created_at", "created_by"]

    def get_fields(self, request, obj=None):
        base = ["score_threshold", "min_engagements", "required_kinds", "fit_required", "note"]
        return (["version", "is_active", "created_at", "created_by"] if obj else []) + base

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("why this version"), ordering="note")
    def note_text(self, obj):
        return obj.note_text

    def save_model(self, request, obj, form, change):
        """Publish the form as the next version; ``obj`` becomes it."""
        values = {
            k: form.cleaned_data[k]
            for k in ("score_threshold", "min_engagements", "required_kinds", "fit_required")
        }
        published = MQLCriteria.publish(
            values=values,
            author=request.user,
            note=form.cleaned_data.get("note", ""),
            # Saving a draft (made from a suggestion) publishes that draft itself.
            draft=obj if change and obj.is_draft else None,
        )
        obj.pk, obj.version, obj.is_active = published.pk, published.version, True
        messages.info(
            request,
            _("Saved as version %(v)s, now active. Earlier versions are kept for the reports.")
            % {"v": published.version},
        )


class SQLCriteriaForm(forms.ModelForm):
    accepted_authorities = forms.MultipleChoiceField(
        label=_("Accepted authority levels"),
        choices=Authority.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = SQLCriteria
        fields = [
            "min_budget",
            "account_currency",
            "max_timeline_months",
            "accepted_authorities",
            "need_required",
        ]


@admin.register(SQLCriteria)
class SQLCriteriaAdmin(SingletonAdmin):
    form = SQLCriteriaForm


@admin.register(CurrencyRate)
class CurrencyRateAdmin(admin.ModelAdmin):
    list_display = ["currency", "rate"]


@admin.register(SLAPolicy)
class SLAPolicyAdmin(SingletonAdmin):
    pass


class CodedChoiceAdmin(LabelledListEditable, admin.ModelAdmin):
    list_display = ["code", "label", "is_active", "position"]
    list_editable = ["label", "is_active", "position"]

    def get_readonly_fields(self, request, obj=None):
        # Codes are stored on leads and in reports; renaming one would orphan them.
        return ["code"] if obj else []

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.register(LeadSource, CodedChoiceAdmin)
admin.site.register(RejectReason, CodedChoiceAdmin)
admin.site.register(DisqualifyReason, CodedChoiceAdmin)
