"""What the pages tell leadflow.js about SLA clocks, from the one place the rule lives."""

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext

from apps.leads.filters import DUE_SOON, SLA_OVERDUE, deadline_state

register = template.Library()


@register.simple_tag
def due_soon_seconds() -> int:
    """The "due soon" window, for the live countdowns (``<body data-due-soon-seconds>``)."""
    return int(DUE_SOON.total_seconds())


@register.simple_tag
def sla_countdown(deadline) -> str:
    """``<time class="countdown">`` for ``deadline``: "3 hours left" or "overdue by 2 hours".

    leadflow.js keeps the text live; this is what a page without JavaScript shows. One
    tag rather than template logic: lists draw it on up to 70 cards or 50 rows a page.
    """
    state = deadline_state(deadline, timezone.now())
    if state == SLA_OVERDUE:
        text = gettext("overdue by %(time)s") % {"time": timesince(deadline)}
    else:
        text = gettext("%(time)s left") % {"time": timeuntil(deadline)}
    return format_html(
        '<time class="countdown is-{}" datetime="{}">{}</time>',
        state.replace("_", ""),
        timezone.localtime(deadline).isoformat(),
        text,
    )
