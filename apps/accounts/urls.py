from django.urls import path

from apps.accounts import views

app_name = "accounts"
urlpatterns = [
    path("language/", views.LanguageView.as_view(), name="language"),
    path("time-zone/", views.TimeZoneView.as_view(), name="time_zone"),
]
