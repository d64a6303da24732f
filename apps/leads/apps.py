from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "apps.leads"
    label = "leads"
    verbose_name = _("Leads")

    def ready(self):
        from apps.leads import lookups  # noqa: F401  (registers ``__any_of``)
