"""How report figures read on pages and in emails."""

from django import template

from apps.reports.alerts import ALERT_LABELS, rate_percent_text

register = template.Library()


@register.filter
def percent(rate):
    """0.175 -> "17.5%"; None (nothing to divide by) -> "—"."""
    if rate is None or rate == "":
        return "—"
    return f"{rate_percent_text(rate)}%"


@register.filter
def hours(value):
    """4.5 -> "4.5 h"; None -> "—"."""
    if value is None:
        return "—"
    return f"{value:g} h"


@register.filter
def alert_label(code):
    """A short name for an alert code, in the active language."""
    return ALERT_LABELS.get(code, code)
