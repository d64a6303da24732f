from django.urls import path

from apps.leads import queue_views, views

app_name = "leads"
urlpatterns = [
    path("", views.LeadListView.as_view(), name="list"),
    path("inbox/", views.InboxView.as_view(), name="inbox"),
    path("to-qualify/", queue_views.ToQualifyView.as_view(), name="to_qualify"),
    path("review/", views.ReviewQueueView.as_view(), name="review"),
    path("<int:pk>/", views.LeadDetailView.as_view(), name="detail"),
    path(
        "<int:pk>/transitions/<slug:name>/", views.LeadTransitionView.as_view(), name="transition"
    ),
]
