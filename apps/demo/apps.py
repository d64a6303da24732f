from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """Demo data (``manage.py seed_demo``): a client of the product's services, like the API."""

    name = "apps.demo"
    label = "demo"
    verbose_name = _("Demo data")
