app_name = "sla"
urlpatterns = []
