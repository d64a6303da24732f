from django.db import models
from django.utils.translation import gettext_lazy as _


class RateLimitWindow(models.Model):
    """Requests one API client made in one minute, when the counters live in the database.

    Used only when no Redis is configured (the embedded default). One row per
    (client, minute), incremented by a single ``INSERT … ON CONFLICT DO UPDATE``
    so concurrent requests cannot both read the same count.
    """

    key = models.CharField(_("client"), max_length=100)
    minute = models.BigIntegerField(_("minute"), help_text=_("Minutes since the Unix epoch."))
    hits = models.PositiveIntegerField(_("requests"), default=0)

    class Meta:
        verbose_name = _("rate-limit window")
        verbose_name_plural = _("rate-limit windows")
        constraints = [
            models.UniqueConstraint(fields=["key", "minute"], name="api_rate_window_unique")
        ]

    def __str__(self):
        return f"{self.key} @ {self.minute}: {self.hits}"
