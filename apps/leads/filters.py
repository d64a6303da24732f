"""The filters of the lead list and the marketing review queue (django-filter).

Both filter sets narrow a queryset the selectors already scoped to the user, so
a filter can only ever hide leads, never reveal one.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import django_filters
from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_filters.constants import EMPTY_VALUES

from apps.accounts.selectors import sales_people, sales_reps
from apps.criteria.models import LeadSource, RejectReason
from apps.leads.models import Stage, StageTransition, running_deadline_fields
from apps.leads.selectors import BY_HAND, first_promotions, leads_matching, promotions_narrowed

# A deadline this close counts as "due soon": in the SLA filter, the lists' SLA column and
# the live countdowns (the pages hand it to leadflow.js as ``data-due-soon-seconds``).
DUE_SOON_HOURS = 4
DUE_SOON = dt.timedelta(hours=DUE_SOON_HOURS)

DATE_INPUT = forms.DateInput(attrs={"type": "date"})


class DayFilter(django_filters.DateFilter):
    """A date box on a timestamp: ``lookup_expr`` compares the day it falls on (``gte``, ``lte``)."""

    def __init__(self, *, lookup_expr, **kwargs):
        super().__init__(lookup_expr=f"date__{lookup_expr}", widget=DATE_INPUT, **kwargs)


def _due_soon_label() -> str:
    return ngettext("Due within %(hours)s hour", "Due within %(hours)s hours", DUE_SOON_HOURS) % {
        "hours": DUE_SOON_HOURS
    }


SLA_ON_TIME, SLA_DUE_SOON, SLA_OVERDUE = "on_time", "due_soon", "overdue"
SLA_CHOICES = [
    (SLA_ON_TIME, _("On time")),
    (SLA_DUE_SOON, lazy(_due_soon_label, str)()),
    (SLA_OVERDUE, _("Overdue")),
]


def deadline_state(deadline: dt.datetime | None, now: dt.datetime) -> str:
    """``overdue``, ``due_soon``, ``on_time``, or ``none`` without a deadline."""
    if deadline is None:
        return "none"
    if deadline <= now:
        return SLA_OVERDUE
    if deadline <= now + DUE_SOON:
        return SLA_DUE_SOON
    return SLA_ON_TIME


def sla_condition(status: str, *, now: dt.datetime) -> Q:
    """Leads whose running SLA deadline (``Lead.running_deadline``) is in ``status``.

    Leads in a stage without a clock running match no status.
    """
    condition = Q(pk__in=[])
    for stage, field in running_deadline_fields().items():
        if status == SLA_OVERDUE:
            due = Q(**{f"{field}__lte": now})
        elif status == SLA_DUE_SOON:
            due = Q(**{f"{field}__gt": now, f"{field}__lte": now + DUE_SOON})
        else:
            due = Q(**{f"{field}__gt": now + DUE_SOON})
        condition |= Q(stage=stage) & due
    return condition


class FetchedChoiceIterator(django_filters.fields.ModelChoiceIterator):
    """A select's handful of rows read with one plain query.

    Django reads choices with ``iterator()``, which on PostgreSQL opens a server-side
    cursor: three round trips for each select of each list page.
    """

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        if self.field.null_label is not None:
            yield (self.field.null_value, self.field.null_label)
        for obj in self.queryset:
            yield self.choice(obj)


class TranslatedLabelChoiceField(django_filters.fields.ModelChoiceField):
    """Admin-edited list entries shown in the user's language when the label is a known default."""

    iterator = FetchedChoiceIterator

    def label_from_instance(self, obj):
        return gettext(obj.label)


class TranslatedLabelFilter(django_filters.ModelChoiceFilter):
    field_class = TranslatedLabelChoiceField


class PersonChoiceField(django_filters.fields.ModelChoiceField):
    iterator = FetchedChoiceIterator

    def label_from_instance(self, obj):
        return str(obj)


class SourceFilter(TranslatedLabelFilter):
    """The lead source, by code."""

    def __init__(self, **kwargs):
        super().__init__(
            label=_("Source"),
            queryset=LeadSource.objects.all(),
            to_field_name="code",
            empty_label=_("Any source"),
            **kwargs,
        )


class PersonFilter(django_filters.ModelChoiceFilter):
    """A person by username: anyone who may own a lead (``people``), or only sales reps."""

    field_class = PersonChoiceField

    def __init__(self, people=sales_people, **kwargs):
        super().__init__(queryset=people(), to_field_name="username", **kwargs)


class LeadFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_search")
    stage = django_filters.ChoiceFilter(
        label=_("Stage"), choices=Stage.choices, empty_label=_("Any stage")
    )
    source = SourceFilter()
    owner = PersonFilter(
        label=_("Owner"),
        empty_label=_("Anyone"),
        null_label=_("Unassigned"),
    )
    score_min = django_filters.NumberFilter(
        label=_("Score from"), field_name="score", lookup_expr="gte"
    )
    score_max = django_filters.NumberFilter(
        label=_("Score to"), field_name="score", lookup_expr="lte"
    )
    created_from = DayFilter(label=_("Created from"), field_name="created_at", lookup_expr="gte")
    created_to = DayFilter(label=_("Created to"), field_name="created_at", lookup_expr="lte")
    mql_from = DayFilter(label=_("MQL from"), field_name="mql_at", lookup_expr="gte")
    mql_to = DayFilter(label=_("MQL to"), field_name="mql_at", lookup_expr="lte")
    sla = django_filters.ChoiceFilter(
        label=_("SLA"), choices=SLA_CHOICES, method="filter_sla", empty_label=_("Any SLA status")
    )
    # The leads behind a report's figure (its links): promoted to MQL in the dates, counted
    # as the report counts them (``first_promotions``). Applied together in filter_queryset.
    promoted_from = django_filters.DateFilter(
        label=_("Promoted from"), method="filter_by_report", widget=DATE_INPUT
    )
    promoted_to = django_filters.DateFilter(
        label=_("Promoted to"), method="filter_by_report", widget=DATE_INPUT
    )
    promoted_owner = django_filters.CharFilter(
        label=_("Promoted for rep"), method="filter_by_report", widget=forms.HiddenInput
    )
    promoted_criteria = django_filters.CharFilter(
        label=_("Promoted by criteria version"),
        method="filter_by_report",
        widget=forms.HiddenInput,
        validators=[
            RegexValidator(rf"^(\d+|{BY_HAND})$", _("A criteria version is a number, or “manual”."))
        ],
    )
    # The dashboard's "Other sources": every source but the ones it lists (codes, comma-separated).
    source_other = django_filters.CharFilter(
        label=_("Other sources than"), method="filter_source_other", widget=forms.HiddenInput
    )
    sql_by = django_filters.IsoDateTimeFilter(
        label=_("Reached SQL by"), method="filter_by_report", widget=forms.HiddenInput
    )
    sort = django_filters.OrderingFilter(
        label=_("Sort by"),
        fields=(
            ("created_at", "created"),
            ("last_name", "name"),
            ("company", "company"),
            ("stage", "stage"),
            ("score", "score"),
            ("accept_due_at", "due"),
        ),
        field_labels={
            "created_at": _("Created"),
            "last_name": _("Name"),
            "company": _("Company"),
            "stage": _("Stage"),
            "score": _("Score"),
            "accept_due_at": _("Accept by"),
        },
    )

    def filter_search(self, queryset, name, value):
        return leads_matching(queryset, value)

    def filter_sla(self, queryset, name, value):
        return queryset.filter(sla_condition(value, now=timezone.now()))

    def filter_source_other(self, queryset, name, value):
        return queryset.exclude(source_id__in=[code for code in value.split(",") if code])

    def filter_by_report(self, queryset, name, value):
        return queryset  # see report_filter_apply, which reads the five fields together

    def report_filter_apply(self, queryset):
        """The leads a report figure counts: first promoted in the dates to the rep and criteria
        version given, and (``sql_by``) qualified by then."""
        data = self.form.cleaned_data
        start, end = data.get("promoted_from"), data.get("promoted_to")
        owner, criteria = data.get("promoted_owner"), data.get("promoted_criteria")
        if not (start or end or owner or criteria):
            promotions = None
        else:
            zone = ZoneInfo(settings.TIME_ZONE)  # the reports' weeks
            promotions = first_promotions(
                dt.datetime.combine(start or dt.date(1970, 1, 1), dt.time(0), tzinfo=zone),
                dt.datetime.combine(
                    (end or dt.date(9998, 12, 30)) + dt.timedelta(days=1), dt.time(0), tzinfo=zone
                ),
            )
            promotions = promotions_narrowed(promotions, owner=owner, criteria=criteria)
            queryset = queryset.filter(pk__in=promotions.values("lead_id"))
        if data.get("sql_by"):
            queryset = queryset.filter(
                Exists(
                    StageTransition.objects.filter(
                        lead=OuterRef("pk"), transition="qualify", at__lte=data["sql_by"]
                    )
                )
            )
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        queryset = self.report_filter_apply(queryset)
        if not self.form.cleaned_data.get("sort"):
            queryset = queryset.order_by("-created_at", "-id")
        else:
            # A stable tie-breaker keeps pages from overlapping.
            queryset = queryset.order_by(*queryset.query.order_by, "-id")
        return queryset


class ReviewFilter(django_filters.FilterSet):
    """The marketing review queue: rejected MQLs by reason, source, rep and date."""

    reason = TranslatedLabelFilter(
        label=_("Reason"),
        field_name="last_reject_reason",
        queryset=RejectReason.objects.all(),
        to_field_name="code",
        empty_label=_("Any reason"),
    )
    source = SourceFilter()
    rep = PersonFilter(
        sales_reps,  # the Rep filter of every page: sales reps (team_filter in leads.views)
        label=_("Rep"),
        field_name="owner",
        empty_label=_("Any rep"),
    )
    rejected_from = DayFilter(label=_("Rejected from"), field_name="rejected_at", lookup_expr="gte")
    rejected_to = DayFilter(label=_("Rejected to"), field_name="rejected_at", lookup_expr="lte")

    def narrows(self) -> bool:
        """Whether a filter holds a value (the ones the form accepted: the others are not applied)."""
        if not self.is_bound:
            return False
        self.is_valid()  # cleans the form, as ``qs`` does
        return any(value not in EMPTY_VALUES for value in self.form.cleaned_data.values())

    @property
    def qs(self):
        # Newest rejection first, filtered or not: lead_review_idx (and, for one reason,
        # lead_review_reason_idx) read backwards, so the page is an ordered index scan.
        return super().qs.order_by("-rejected_at", "-id")
