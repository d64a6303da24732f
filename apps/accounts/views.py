from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import translation
from django.views import View

from apps.accounts.redirects import safe_next


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
