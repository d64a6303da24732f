from django.urls import path

from apps.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("weekly.csv", views.WeeklyCsvView.as_view(), name="weekly_csv"),
    path("drivers/", views.DriversView.as_view(), name="drivers"),
    path("suggestions/", views.SuggestionsView.as_view(), name="suggestions"),
    path("suggestions/draft/", views.CriteriaDraftCreateView.as_view(), name="suggestion_draft"),
    path("suggestions/drafts/<int:pk>/", views.CriteriaDraftView.as_view(), name="criteria_draft"),
]
