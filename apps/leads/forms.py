"""Input of each transition, shared by the web UI, the API and the admin.

Each entry of ``apps.leads.transitions`` names its form; every door (page,
API, admin, commands) validates with it before calling ``lead_transition``, so
the same mistake gets the same message everywhere.
"""

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.selectors import sales_reps
from apps.criteria import rules
from apps.criteria.models import (
    Authority,
    DisqualifyReason,
    RejectReason,
    SQLCriteria,
    currency_validator,
)
from apps.leads.models import StageTransition


class CurrencyField(forms.CharField):
    """A three-letter currency code, any case; blank means the account currency."""

    def __init__(self, **kwargs):
        super().__init__(max_length=3, required=False, validators=[currency_validator], **kwargs)

    def to_python(self, value):
        return super().to_python(value).strip().upper()

    def clean(self, value):
        return super().clean(value) or SQLCriteria.load().account_currency


class TransitionForm(forms.Form):
    """A transition's input; ``at`` is when it happens (BANT judges the timeline from that day)."""

    def __init__(self, *args, at: dt.datetime | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.at = at

    @property
    def today(self) -> dt.date:
        return timezone.localdate(self.at) if self.at else timezone.localdate()


class NoteForm(TransitionForm):
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


class SalesRepChoiceField(forms.ModelChoiceField):
    """An active sales rep, posted by username."""

    def __init__(self, *, error_messages=None, **kwargs):
        super().__init__(
            queryset=sales_reps(),
            to_field_name="username",
            error_messages={
                "invalid_choice": _("'%(value)s' is not an active sales rep."),
                **(error_messages or {}),
            },
            **kwargs,
        )


class WrittenReasonField(forms.CharField):
    """A reason in the user's own words, no longer than the history keeps."""

    def __init__(self, **kwargs):
        super().__init__(max_length=StageTransition._meta.get_field("reason").max_length, **kwargs)


class PromoteForm(NoteForm):
    reason = WrittenReasonField(
        label=_("Why promote by hand"),
        error_messages={"required": _("A reason is required to promote a lead by hand.")},
    )


class RejectForm(NoteForm):
    reason = ReasonChoiceField(
        RejectReason,
        label=_("Reason"),
        error_messages={"required": _("Choose a reject reason.")},
    )


class ResubmitForm(TransitionForm):
    note = forms.CharField(
        label=_("Why this lead deserves another look"),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("A note is required to resubmit a rejected lead.")},
    )
    owner = SalesRepChoiceField(
        label=_("Owner"),
        required=False,
        help_text=_("Blank keeps the previous owner when they still take leads, else round-robin."),
    )


class DisqualifyForm(NoteForm):
    reason = ReasonChoiceField(
        DisqualifyReason,
        label=_("Reason"),
        error_messages={"required": _("Choose a disqualify reason.")},
    )


def bant_failures(values: Mapping[str, Any], *, today: dt.date) -> dict[str, str]:
    """The BANT items of ``values`` that miss the SQL criteria, keyed by field (see ``rules``)."""
    return rules.bant_failures(
        SQLCriteria.load().as_rule(),
        budget_amount=values.get("budget_amount"),
        budget_currency=values.get("budget_currency") or "",
        authority=values.get("authority") or "",
        need=values.get("need") or "",
        timeline=values.get("timeline"),
        today=today,
    )


class QualifyForm(TransitionForm):
    """A BANT qualification; it validates only when it meets the SQL criteria."""

    budget_amount = forms.DecimalField(
        label=_("Budget"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        error_messages={"required": _("Budget is required.")},
    )
    budget_currency = CurrencyField(
        label=_("Currency"), help_text=_("Blank: the account currency.")
    )
    authority = forms.ChoiceField(label=_("Authority"), choices=Authority.choices)
    need = forms.CharField(
        label=_("Need"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    timeline = forms.DateField(
        label=_("Expected decision date"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("The expected decision date is required.")},
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The form says what the criteria ask: a need is not "optional" when one must be stated,
        # and the authority levels an SQL accepts are named before anyone picks one.
        criteria = SQLCriteria.load()
        need = self.fields["need"]
        need.required = criteria.need_required
        need.error_messages["required"] = _("The need must be stated.")
        self.fields["authority"].help_text = _("Accepted for an SQL: %(levels)s.") % {
            "levels": rules.authority_names(criteria.accepted_authorities or [])
        }

    def clean(self):
        """Every failing item at once: a blank or malformed field keeps its own message, and the
        criteria judge the others (a budget in a currency that is itself wrong is not judged)."""
        cleaned = super().clean()
        judged_elsewhere = set(self.errors)
        if "budget_currency" in judged_elsewhere:
            judged_elsewhere.add("budget_amount")
        for field, message in bant_failures(cleaned, today=self.today).items():
            if field not in judged_elsewhere:
                self.add_error(field, message)
        return cleaned


class ConvertForm(NoteForm):
    amount = forms.DecimalField(
        label=_("Amount"), max_digits=14, decimal_places=2, min_value=Decimal("0")
    )
    currency = CurrencyField(label=_("Currency"), help_text=_("Blank: the account currency."))
    expected_close_date = forms.DateField(
        label=_("Expected close date"), widget=forms.DateInput(attrs={"type": "date"})
    )


class LoseForm(NoteForm):
    reason = WrittenReasonField(
        label=_("Why was it lost"),
        error_messages={"required": _("A reason is required to close a lead as lost.")},
    )


class ReassignForm(NoteForm):
    owner = SalesRepChoiceField(
        label=_("New owner"),
        error_messages={"required": _("Choose the sales rep who takes the lead.")},
    )
    reason = WrittenReasonField(label=_("Reason"), required=False)
