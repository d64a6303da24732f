import math

from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.views import View

from apps.accounts.redirects import safe_next
from apps.accounts.timezones import BROWSER_ZONE_COOKIE, zone_is_known


class LanguageView(View):
    """Choose the interface language: ``ja``, ``en``, or blank to follow the browser.

    A signed-in user's choice is saved on their account (``User.language``), so
    it follows them to any device; the cookie carries it for the login page.
    """

    def post(self, request):
        language = request.POST.get("language", "")
        if language not in dict(settings.LANGUAGES):
            language = ""
        target = safe_next(request, reverse("home"))
        if request.user.is_authenticated and request.user.language != language:
            request.user.language = language
            request.user.save(update_fields=["language"])
        response = HttpResponseRedirect(target)
        if language:
            translation.activate(language)
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        else:
            response.delete_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response


class TimeZoneView(View):
    """Choose the time zone dates are shown in; blank follows the browser (else the site's)."""

    def post(self, request):
        zone = request.POST.get("time_zone", "")
        if not zone_is_known(zone):
            zone = ""
        if request.user.is_authenticated and request.user.time_zone != zone:
            request.user.time_zone = zone
            request.user.save(update_fields=["time_zone"])
        response = HttpResponseRedirect(safe_next(request, reverse("home")))
        if zone:
            response.set_cookie(BROWSER_ZONE_COOKIE, zone, max_age=365 * 24 * 3600, samesite="Lax")
        return response


def login_locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a username + address locked out after too many failed sign-ins.

    429 with ``Retry-After`` and a page saying when to try again, the same for
    a username that exists and one that does not (nothing here looks at users).
    """
    now = timezone.now()
    cool_off = get_cool_off(request)
    last_failure = (
        AccessAttempt.objects.filter(
            username=get_client_username(request, credentials),
            ip_address=getattr(request, "axes_ip_address", None),
        )
        .order_by("-attempt_time")
        .values_list("attempt_time", flat=True)
        .first()
    )
    retry_at = (last_failure or now) + cool_off
    minutes = max(1, math.ceil((retry_at - now).total_seconds() / 60))
    response = render(
        request,
        "registration/locked_out.html",
        {"minutes": minutes, "retry_at": retry_at},
        status=429,
    )
    response["Retry-After"] = str(max(1, math.ceil((retry_at - now).total_seconds())))
    return response
