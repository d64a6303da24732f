from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SLAConfig(AppConfig):
    name = "apps.sla"
    label = "sla"
    verbose_name = _("SLA and notifications")

    def ready(self):
        from apps.sla import receivers  # noqa: F401  (connects receivers, registers outbox handlers)
