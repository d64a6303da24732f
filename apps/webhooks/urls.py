from django.urls import path

from apps.webhooks import views

app_name = "events"
urlpatterns = [path("", views.EventFeedView.as_view(), name="feed")]
