from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "apps.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks and events")

    def ready(self):
        # Registers the outbox handler and the receivers that turn changes into events.
        from apps.webhooks import receivers, services  # noqa: F401
