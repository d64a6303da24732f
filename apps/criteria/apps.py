from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CriteriaConfig(AppConfig):
    name = "apps.criteria"
    label = "criteria"
    verbose_name = _("Criteria and rules")
