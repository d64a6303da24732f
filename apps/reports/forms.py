"""Inputs of the drivers and suggestions pages (and their API twins), and of a draft from a suggestion."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.accounts.selectors import sales_reps
from apps.criteria.models import EngagementKind, FitRule, LeadSource, MQLCriteria
from apps.leads.labels import translated_label
from apps.reports.selectors import MANUAL, UNASSIGNED, CohortFilter
from apps.reports.suggest import DEFAULT_BAND
from apps.reports.weeks import WEEK_FORMAT, IsoWeek, WeekWindow

WEEK_INPUT = forms.TextInput(attrs={"type": "week", "pattern": WEEK_FORMAT.pattern[1:-1]})


class WindowForm(forms.Form):
    """``from`` and ``to`` ISO weeks (either blank: the last 12 complete weeks)."""

    # "from" is a Python keyword: the field is declared under the name the URL uses.
    to = forms.CharField(label=gettext_lazy("to week"), required=False, widget=WEEK_INPUT)

    def __init__(self, *args, now=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now
        self.fields = {
            "from": forms.CharField(
                label=gettext_lazy("from week"), required=False, widget=WEEK_INPUT
            ),
            **self.fields,
        }

    def clean(self):
        cleaned = super().clean()
        try:
            cleaned["window"] = WeekWindow.parse(
                cleaned.get("from") or None, cleaned.get("to") or None, now=self.now
            )
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        return cleaned

    @property
    def window(self) -> WeekWindow:
        return self.cleaned_data["window"]


def _percent(label, default):
    return forms.FloatField(
        label=label,
        required=False,
        initial=default,
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs={"step": "0.5", "min": "0", "max": "100"}),
    )


class SuggestionsForm(WindowForm):
    """The window and the target band, in percent (default 20–30)."""

    low = _percent(gettext_lazy("target MQL→SQL from (percent)"), int(DEFAULT_BAND[0] * 100))
    high = _percent(gettext_lazy("to (percent)"), int(DEFAULT_BAND[1] * 100))

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("low"), cleaned.get("high")
        low = DEFAULT_BAND[0] * 100 if low is None else low
        high = DEFAULT_BAND[1] * 100 if high is None else high
        if low >= high:
            raise ValidationError(
                _(
                    "The target band must run from a lower to a higher rate (%(low)s%% to %(high)s%%)."
                )
                % {"low": f"{low:g}", "high": f"{high:g}"}
            )
        cleaned["band"] = (low / 100, high / 100)
        return cleaned

    @property
    def band(self) -> tuple[float, float]:
        return self.cleaned_data["band"]


class CriteriaDraftForm(forms.Form):
    """A suggested candidate, posted by its "Make a draft" button."""

    score_threshold = forms.IntegerField(min_value=0, max_value=100_000)
    min_engagements = forms.IntegerField(min_value=0, max_value=100_000)
    required_kinds = forms.MultipleChoiceField(choices=EngagementKind.choices, required=False)
    fit_required = forms.BooleanField(required=False)
    change_fit_rule = forms.BooleanField(required=False)
    employees_min = forms.IntegerField(min_value=0, required=False)
    employees_max = forms.IntegerField(min_value=0, required=False)
    allowed_industries = forms.CharField(required=False, max_length=2000)
    allowed_countries = forms.CharField(required=False, max_length=2000)
    note = forms.CharField(required=False, max_length=255)
    weeks = forms.IntegerField(min_value=1, max_value=26, required=False)

    def clean(self):
        cleaned = super().clean()
        cleaned["fit_rule_change"] = None
        if cleaned.get("change_fit_rule") and not self.errors:
            values = {name: cleaned.get(name) for name in FitRule.CHANGEABLE_FIELDS}
            values["allowed_industries"] = values["allowed_industries"] or ""
            values["allowed_countries"] = values["allowed_countries"] or ""
            FitRule(**values).clean()  # raises with the rule's own messages
            cleaned["fit_rule_change"] = values
        return cleaned

    def criteria_values(self) -> dict:
        return {
            "score_threshold": self.cleaned_data["score_threshold"],
            "min_engagements": self.cleaned_data["min_engagements"],
            "required_kinds": sorted(self.cleaned_data["required_kinds"]),
            "fit_required": self.cleaned_data["fit_required"],
        }


class DashboardFilterForm(forms.Form):
    """The dashboard's filters: one rep, source and criteria version, and a run of weeks.

    Every field may be blank: no rep, source or version shows everyone's MQLs (the stored
    weekly reports); no weeks, the last 12 up to the current one.
    """

    rep = forms.ChoiceField(label=gettext_lazy("Rep"), required=False)
    source = forms.ChoiceField(label=gettext_lazy("Source"), required=False)
    criteria = forms.ChoiceField(label=gettext_lazy("Criteria version"), required=False)
    to = forms.CharField(label=gettext_lazy("to week"), required=False, widget=WEEK_INPUT)

    def __init__(self, *args, now, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now
        # Sales reps, as on every page's Rep filter; "Unassigned" is the per-rep table's row
        # of MQLs promoted to no rep (to the pool), so it is a filter here too.
        people = [(user.username, str(user)) for user in sales_reps()]
        self.fields["rep"].choices = [
            ("", _("Every rep")),
            *people,
            (UNASSIGNED, _("Unassigned")),
        ]
        self.fields["source"].choices = [
            ("", _("Every source")),
            *(
                (code, translated_label(label))
                for code, label in LeadSource.objects.values_list("code", "label")
            ),
        ]
        versions = MQLCriteria.objects.filter(version__isnull=False).order_by("-version")
        self.fields["criteria"].choices = [
            ("", _("Every version")),
            *(
                (str(v), _("Criteria v%(version)s") % {"version": v})
                for v in versions.values_list("version", flat=True)
            ),
            (MANUAL, _("Promoted by hand")),
        ]
        self.fields = {
            **{k: v for k, v in self.fields.items() if k != "to"},
            "from": forms.CharField(
                label=gettext_lazy("from week"), required=False, widget=WEEK_INPUT
            ),
            "to": self.fields["to"],
        }

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("from") or None, cleaned.get("to") or None
        try:
            cleaned["window"] = WeekWindow.parse(
                first, last or str(IsoWeek.containing(self.now)), now=self.now
            )
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        cleaned["chosen_weeks"] = bool(first)
        cleaned["cohort"] = CohortFilter(
            owner=cleaned.get("rep") or "",
            source=cleaned.get("source") or "",
            criteria=cleaned.get("criteria") or "",
        )
        return cleaned
