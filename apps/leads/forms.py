"""Input of each transition, shared by the web UI, the API and the admin actions.

``lead_transition`` validates its data with the form named in
``TRANSITION_FORMS`` so every door gives the same messages for the same mistake.
"""

from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from apps.criteria.models import (
    Authority,
    DisqualifyReason,
    RejectReason,
    SQLCriteria,
    currency_validator,
)


class CurrencyField(forms.CharField):
    """A three-letter currency code, any case; blank means the account currency."""

    def __init__(self, **kwargs):
        super().__init__(max_length=3, required=False, validators=[currency_validator], **kwargs)

    def to_python(self, value):
        return super().to_python(value).strip().upper()

    def clean(self, value):
        return super().clean(value) or SQLCriteria.load().account_currency


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReasonChoiceField(forms.ModelChoiceField):
    """A choice among the active entries of an admin-edited list, posted by code."""

    def __init__(self, model, *, error_messages=None, **kwargs):
        super().__init__(
            queryset=model.objects.filter(is_active=True),
            to_field_name="code",
            error_messages={
                "invalid_choice": _("Choose one of the listed reasons; '%(value)s' is not one."),
                **(error_messages or {}),
            },
            **kwargs,
        )


class PromoteForm(NoteForm):
    reason = forms.CharField(
        label=_("Why promote by hand"),
        max_length=255,
        error_messages={"required": _("A reason is required to promote a lead by hand.")},
    )


class RejectForm(NoteForm):
    reason = ReasonChoiceField(
        RejectReason,
        label=_("Reason"),
        error_messages={"required": _("Choose a reject reason.")},
    )


class ResubmitForm(forms.Form):
    note = forms.CharField(
        label=_("Why this lead deserves another look"),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("A note is required to resubmit a rejected lead.")},
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        required=False,
        to_field_name="username",
        queryset=get_user_model().objects.filter(is_active=True, groups__name="sales"),
        help_text=_("Blank keeps the previous owner when they still take leads, else round-robin."),
        error_messages={"invalid_choice": _("'%(value)s' is not an active sales rep.")},
    )


class DisqualifyForm(NoteForm):
    reason = ReasonChoiceField(
        DisqualifyReason,
        label=_("Reason"),
        error_messages={"required": _("Choose a disqualify reason.")},
    )


class QualifyForm(forms.Form):
    budget_amount = forms.DecimalField(
        label=_("Budget"), max_digits=14, decimal_places=2, min_value=Decimal("0")
    )
    budget_currency = CurrencyField(
        label=_("Currency"), help_text=_("Blank: the account currency.")
    )
    authority = forms.ChoiceField(label=_("Authority"), choices=Authority.choices)
    need = forms.CharField(
        label=_("Need"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    timeline = forms.DateField(
        label=_("Expected decision date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ConvertForm(NoteForm):
    amount = forms.DecimalField(
        label=_("Amount"), max_digits=14, decimal_places=2, min_value=Decimal("0")
    )
    currency = CurrencyField(label=_("Currency"), help_text=_("Blank: the account currency."))
    expected_close_date = forms.DateField(
        label=_("Expected close date"), widget=forms.DateInput(attrs={"type": "date"})
    )


class LoseForm(NoteForm):
    reason = forms.CharField(
        label=_("Why was it lost"),
        max_length=255,
        error_messages={"required": _("A reason is required to close a lead as lost.")},
    )


class ReassignForm(NoteForm):
    owner = forms.ModelChoiceField(
        label=_("New owner"),
        to_field_name="username",
        queryset=get_user_model().objects.filter(is_active=True, groups__name="sales"),
        error_messages={
            "required": _("Choose the sales rep who takes the lead."),
            "invalid_choice": _("'%(value)s' is not an active sales rep."),
        },
    )
    reason = forms.CharField(label=_("Reason"), max_length=255, required=False)


TRANSITION_FORMS = {
    "promote": PromoteForm,
    "accept": NoteForm,
    "reject": RejectForm,
    "qualify": QualifyForm,
    "convert": ConvertForm,
    "win": NoteForm,
    "lose": LoseForm,
    "recycle": NoteForm,
    "resubmit": ResubmitForm,
    "disqualify": DisqualifyForm,
    "reassign": ReassignForm,
}
