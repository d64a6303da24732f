import axes.apps
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = _("Accounts and roles")


class AxesConfig(axes.apps.AppConfig):
    """django-axes under a translated name: its own has none ("Axes" in every language)."""

    default = False  # apps.accounts itself is AccountsConfig; settings name this one
    verbose_name = _("Sign-in lockouts")
