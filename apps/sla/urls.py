from django.urls import path

from apps.sla import views

app_name = "sla"
urlpatterns = [
    path("", views.NotificationListView.as_view(), name="list"),
    path("<int:pk>/", views.NotificationOpenView.as_view(), name="open"),
    path("<int:pk>/read/", views.NotificationReadView.as_view(), name="read"),
    path("live/", views.LivePollView.as_view(), name="live"),
    path("live/moves/", views.LiveMovesView.as_view(), name="live_moves"),
    path("read-all/", views.NotificationReadAllView.as_view(), name="read_all"),
]
