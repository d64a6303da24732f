from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path

from apps.leads import views as lead_views


def favicon(request):
    """To the static SVG, its address read per request (a manifest storage hashes it at deploy)."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


urlpatterns = [
    path("", lead_views.home, name="home"),
    # Browsers ask for /favicon.ico whatever the page's <link rel="icon"> says.
    path("favicon.ico", favicon, name="favicon"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("apps.accounts.urls")),
    path("leads/", include("apps.leads.urls")),
    path("notifications/", include("apps.sla.urls")),
    path("reports/", include("apps.reports.urls")),
    # Before the API's own routes, whose last pattern answers 404 for anything else under /api/.
    path("api/v1/events/", include("apps.webhooks.urls")),
    path("api/", include("apps.api.urls")),
    path("admin/", admin.site.urls),
]

handler403 = "apps.leads.views.permission_denied"
handler404 = "apps.leads.views.page_not_found"
