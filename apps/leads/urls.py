from django.urls import path

from apps.leads import import_views, queue_views, views

app_name = "leads"
urlpatterns = [
    path("", views.LeadListView.as_view(), name="list"),
    path("inbox/", views.InboxView.as_view(), name="inbox"),
    path("to-qualify/", queue_views.ToQualifyView.as_view(), name="to_qualify"),
    path("import/", import_views.ImportUploadView.as_view(), name="import"),
    path("import/<int:pk>/", import_views.ImportJobView.as_view(), name="import_job"),
    path(
        "import/<int:pk>/confirm/",
        import_views.ImportConfirmView.as_view(),
        name="import_confirm",
    ),
    path("review/", views.ReviewQueueView.as_view(), name="review"),
    path("<int:pk>/", views.LeadDetailView.as_view(), name="detail"),
    path(
        "<int:pk>/transitions/<slug:name>/", views.LeadTransitionView.as_view(), name="transition"
    ),
]
