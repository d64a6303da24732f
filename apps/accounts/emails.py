"""Emails to one user, in that user's language and time zone."""

from collections.abc import Callable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation

from apps.accounts.timezones import zone_is_known


def email_in_users_language(
    *, recipient, templates: str, context: Callable[[], dict]
) -> EmailMultiAlternatives:
    """HTML with a text part from ``<templates>/email_subject.txt``, ``email.txt`` and ``email.html``.

    ``context`` is called with the recipient's language and time zone active (blank: the
    site's), so the sentences and dates it builds read as the recipient's pages do.
    """
    zone = getattr(recipient, "time_zone", "") or settings.TIME_ZONE
    if not zone_is_known(zone):
        zone = settings.TIME_ZONE
    with (
        translation.override(recipient.language or settings.LANGUAGE_CODE),
        timezone.override(zone),
    ):
        values = {"recipient": recipient, **context()}
        subject = " ".join(render_to_string(f"{templates}/email_subject.txt", values).split())
        text = render_to_string(f"{templates}/email.txt", values)
        html = render_to_string(f"{templates}/email.html", values)
    email = EmailMultiAlternatives(subject=subject, body=text, to=[recipient.email])
    email.attach_alternative(html, "text/html")
    return email
