"""How report figures read on pages and in emails."""

from django import template

from apps.reports.alerts import ALERT_LABELS, rate_percent_text
from apps.reports.criteria_words import fit_rule_text as fit_rule_words
from apps.reports.criteria_words import kind_name as kind_words

register = template.Library()


def _dash_without_figure(format_figure):
    """A filter that reads "—" where there is no figure (None, or "" from a missing variable)."""

    def filter_(value):
        if value is None or value == "":
            return "—"
        return format_figure(value)

    return filter_


# How each kind of figure reads; the filter of the same name applies it.
FIGURE_FORMATS = {
    "percent": lambda rate: f"{rate_percent_text(rate)}%",  # 0.175 -> "17.5%"
    "percent1": lambda rate: f"{rate * 100:.1f}%",  # 0.16667 -> "16.7%" (rates not rounded)
    "hours": lambda value: f"{value:g} h",  # 4.5 -> "4.5 h"
    "lift": lambda value: f"×{value:.2f}",  # 2.1 -> "×2.10"
}
for _name, _format in FIGURE_FORMATS.items():
    register.filter(_name, _dash_without_figure(_format))


@register.filter
def alert_label(code):
    """A short name for an alert code, in the active language."""
    return ALERT_LABELS.get(code, code)


@register.filter
def span_percent(low, high):
    """The width, in percent of 0–100%, between two rates (an interval drawn as a bar)."""
    return f"{max((high or 0) - (low or 0), 0) * 100:.1f}"


@register.filter
def fit_rule_text(rule):
    """A fit rule in words: 'employees 50–500; any industry; any country'."""
    return fit_rule_words(rule) if rule is not None else ""


@register.filter
def kind_name(code):
    """An engagement kind's name in the active language ("pricing_page_view" -> its label)."""
    return kind_words(code)
