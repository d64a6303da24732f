"""Filters of ``GET /api/v1/leads/``: the lead list's filters of the web UI, as query parameters."""

import datetime as dt

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.leads.filters import SLA_CHOICES, sla_condition
from apps.leads.models import Fit, Stage, email_normalize
from apps.leads.selectors import leads_matching

# Dates a time zone can still shift without leaving the calendar.
_EARLIEST_DAY, _LATEST_DAY = dt.date(1, 1, 2), dt.date(9999, 12, 30)


def _start_of_day(day: dt.date) -> dt.datetime:
    """Midnight of ``day`` in the site's time zone, so a date filter is an indexed range."""
    day = min(max(day, _EARLIEST_DAY), _LATEST_DAY)
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class LeadApiFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_search",
        help_text="Words to find in the name, email or company; every word must match.",
    )
    email = django_filters.CharFilter(method="filter_email", help_text="Exact email, any case.")
    stage = django_filters.MultipleChoiceFilter(
        choices=Stage.choices, help_text="Repeat for several stages."
    )
    source = django_filters.CharFilter(field_name="source_id", help_text="Lead source code.")
    owner = django_filters.CharFilter(
        method="filter_owner", help_text="The owner's username; `none` for leads without an owner."
    )
    fit = django_filters.ChoiceFilter(choices=Fit.choices)
    score_min = IntegerFilter(
        field_name="score", lookup_expr="gte", min_value=-(2**31), max_value=2**31 - 1
    )
    score_max = IntegerFilter(
        field_name="score", lookup_expr="lte", min_value=-(2**31), max_value=2**31 - 1
    )
    created_from = django_filters.DateFilter(
        method="filter_from",
        field_name="created_at",
        help_text="Created on or after this date (site time zone).",
    )
    created_to = django_filters.DateFilter(
        method="filter_to",
        field_name="created_at",
        help_text="Created on or before this date (site time zone).",
    )
    mql_from = django_filters.DateFilter(
        method="filter_from", field_name="mql_at", help_text="Became an MQL on or after this date."
    )
    mql_to = django_filters.DateFilter(
        method="filter_to", field_name="mql_at", help_text="Became an MQL on or before this date."
    )
    sla = django_filters.ChoiceFilter(
        choices=SLA_CHOICES,
        method="filter_sla",
        help_text="The running SLA clock: on time, due soon or overdue.",
    )

    def is_valid(self):
        # ?score_max=5&score_max=9 is ambiguous: only ``stage`` may repeat.
        repeated = [
            name
            for name, f in self.filters.items()
            if not isinstance(f, django_filters.MultipleChoiceFilter)
            and len(self.data.getlist(name)) > 1
        ]
        valid = super().is_valid()
        for name in repeated:
            self.form.add_error(name, _("Give %(name)s once.") % {"name": name})
        return valid and not repeated

    def filter_search(self, queryset, name, value):
        return leads_matching(queryset, value)

    def filter_email(self, queryset, name, value):
        return queryset.filter(email=email_normalize(value))

    def filter_owner(self, queryset, name, value):
        if value.lower() == "none":
            return queryset.filter(owner__isnull=True)
        return queryset.filter(owner__username=value)

    def filter_from(self, queryset, name, value):
        return queryset.filter(**{f"{name}__gte": _start_of_day(value)})

    def filter_to(self, queryset, name, value):
        next_day = min(value, _LATEST_DAY - dt.timedelta(days=1)) + dt.timedelta(days=1)
        return queryset.filter(**{f"{name}__lt": _start_of_day(next_day)})

    def filter_sla(self, queryset, name, value):
        return queryset.filter(sla_condition(value, now=timezone.now()))
