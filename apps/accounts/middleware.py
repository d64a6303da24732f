import zoneinfo

from django.conf import settings
from django.utils import timezone, translation

from apps.accounts.timezones import zone_for_request


class UserLanguageMiddleware:
    """A signed-in user's chosen language wins over the browser's.

    Runs after ``LocaleMiddleware`` (which picked the cookie's or the browser's
    language) and ``AuthenticationMiddleware``; a blank ``User.language``
    leaves that choice alone.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.languages = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        user = getattr(request, "user", None)
        language = (
            getattr(user, "language", "") if user is not None and user.is_authenticated else ""
        )
        if language in self.languages:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


class UserTimeZoneMiddleware:
    """Every date on the page in the reader's time zone (see ``timezones.zone_for_request``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.time_zone = zone_for_request(request)
        timezone.activate(zoneinfo.ZoneInfo(request.time_zone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
