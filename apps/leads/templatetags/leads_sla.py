"""What the pages tell leadflow.js about SLA clocks, from the one place the rule lives."""

import functools

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import get_language, gettext

from apps.accounts.timezones import span_text
from apps.leads.filters import DUE_SOON, SLA_OVERDUE, deadline_state

register = template.Library()


@register.simple_tag
def due_soon_seconds() -> int:
    """The "due soon" window, for the live countdowns (``<body data-due-soon-seconds>``)."""
    return int(DUE_SOON.total_seconds())


@functools.cache
def countdown_words(language: str | None) -> tuple[str, str]:
    """The countdown's words, overdue and left, in ``language`` (the active one), looked up once."""
    return gettext("overdue by {time}"), gettext("{time} left")


@register.simple_tag
def sla_countdown(deadline) -> str:
    """``<time class="countdown">`` for ``deadline``: "3 h 5 min left" or "overdue by 2 h 0 min".

    leadflow.js keeps the text live; this is what a page without JavaScript shows. One
    tag rather than template logic: lists draw it on up to 70 cards or 50 rows a page.
    """
    now = timezone.now()
    state = deadline_state(deadline, now)
    # The words leadflow.js keeps live, so the countdown reads the same with JavaScript and without.
    overdue_words, left_words = countdown_words(get_language())
    if state == SLA_OVERDUE:
        text = overdue_words.format(time=span_text(now - deadline))
    else:
        text = left_words.format(time=span_text(deadline - now))
    return format_html(
        '<time class="countdown is-{}" datetime="{}">{}</time>',
        state.replace("_", ""),
        timezone.localtime(deadline).isoformat(),
        text,
    )
