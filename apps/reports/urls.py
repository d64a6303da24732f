from django.urls import path

from apps.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("weekly.csv", views.WeeklyCsvView.as_view(), name="weekly_csv"),
]
