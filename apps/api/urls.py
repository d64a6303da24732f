from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from apps.api import views
from apps.leads.transitions import TRANSITIONS

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", views.APIDocsView.as_view(url_name="api:schema"), name="docs"),
    path("v1/leads/", views.LeadCollectionView.as_view(), name="leads"),
    path("v1/leads/<int:pk>/", views.LeadDetailView.as_view(), name="lead"),
    *[
        path(
            f"v1/leads/<int:pk>/transitions/{name}/",
            views.transition_view(name).as_view(),
            name=f"lead-{name}",
        )
        for name in TRANSITIONS
    ],
    path(
        "v1/leads/<int:pk>/transitions/<str:name>/",
        views.unknown_transition,
        name="lead-transition-unknown",
    ),
    path("v1/engagements/", views.EngagementIntakeView.as_view(), name="engagements"),
    path("v1/reports/weekly/<str:week>/", views.WeeklyReportView.as_view(), name="weekly-report"),
    path("v1/reports/drivers/", views.DriversView.as_view(), name="drivers"),
    path("v1/reports/suggestions/", views.SuggestionsView.as_view(), name="suggestions"),
    # Anything else under /api/ answers a JSON 404, as the endpoints do.
    re_path(r"^(?P<path>[\s\S]*)$", views.api_not_found),
]
