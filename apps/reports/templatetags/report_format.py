"""How report figures read on pages and in emails."""

import functools

from django import template

from apps.reports.alerts import ALERT_LABELS, rate_percent_text
from apps.reports.criteria_words import fit_rule_text as fit_rule_words

register = template.Library()


def _dash_without_figure(format_figure):
    """A filter that reads "—" where there is no figure (None, or "" from a missing variable)."""

    @functools.wraps(format_figure)
    def filter_(value):
        if value is None or value == "":
            return "—"
        return format_figure(value)

    return filter_


@register.filter
@_dash_without_figure
def percent(rate):
    """0.175 -> "17.5%"; None (nothing to divide by) -> "—"."""
    return f"{rate_percent_text(rate)}%"


@register.filter
@_dash_without_figure
def hours(value):
    """4.5 -> "4.5 h"; None -> "—"."""
    return f"{value:g} h"


@register.filter
def alert_label(code):
    """A short name for an alert code, in the active language."""
    return ALERT_LABELS.get(code, code)


@register.filter
@_dash_without_figure
def percent1(rate):
    """0.16667 -> "16.7%" (rates that are not rounded in the document)."""
    return f"{rate * 100:.1f}%"


@register.filter
@_dash_without_figure
def lift(value):
    """2.1 -> "×2.10"; None -> "—"."""
    return f"×{value:.2f}"


@register.filter
def span_percent(low, high):
    """The width, in percent of 0–100%, between two rates (an interval drawn as a bar)."""
    return f"{max((high or 0) - (low or 0), 0) * 100:.1f}"


@register.filter
def fit_rule_text(rule):
    """A fit rule in words: 'employees 50–500; any industry; any country'."""
    return fit_rule_words(rule) if rule is not None else ""
