"""Stored weekly reports and the admin-edited alert thresholds (SPEC §6)."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.criteria.models import SingletonModel

PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


def percent_field(verbose_name, *, default, help_text):
    """A percentage (or percentage points) from 0 to 100, to two decimals."""
    return models.DecimalField(
        verbose_name,
        max_digits=5,
        decimal_places=2,
        default=Decimal(default),
        validators=PERCENT,
        help_text=help_text,
    )


class ReportSettings(SingletonModel):
    """The MQL→SQL targets the weekly alerts compare against (SPEC §6 defaults)."""

    target_rate_percent = percent_field(
        _("MQL→SQL target (%)"),
        default=20,
        help_text=_("Below this rate the report raises 'below target' (investigate)."),
    )
    too_loose_below_percent = percent_field(
        _("criteria too loose below (%)"),
        default=15,
        help_text=_("Below this rate the report says the MQL criteria may be too loose."),
    )
    too_strict_above_percent = percent_field(
        _("criteria too strict above (%)"),
        default=40,
        help_text=_(
            "Above this rate the report says the MQL criteria may be too strict (leads left on the table)."
        ),
    )
    drop_alert_points = percent_field(
        _("drop alert (points)"),
        default=5,
        help_text=_(
            "A fall of this many percentage points or more from the previous week raises 'dropped'."
        ),
    )

    class Meta:
        verbose_name = _("report settings")
        verbose_name_plural = _("report settings")

    def clean(self):
        errors = {}
        loose, target, strict = (
            self.too_loose_below_percent,
            self.target_rate_percent,
            self.too_strict_above_percent,
        )
        if None not in (loose, target) and loose > target:
            errors["too_loose_below_percent"] = _("Use a rate no higher than the target.")
        if None not in (target, strict) and strict <= target:
            errors["too_strict_above_percent"] = _("Use a rate above the target.")
        if self.drop_alert_points is not None and self.drop_alert_points <= 0:
            errors["drop_alert_points"] = _("Use more than 0 points.")
        if errors:
            raise ValidationError(errors)

    def thresholds(self) -> dict[str, str]:
        """The thresholds as plain strings (stored with each report, fed to ``alerts.report_alerts``)."""
        return {
            "target": str(self.target_rate_percent),
            "too_loose": str(self.too_loose_below_percent),
            "too_strict": str(self.too_strict_above_percent),
            "drop_points": str(self.drop_alert_points),
        }


class WeeklyReport(models.Model):
    """The §6 document of one complete ISO week, stored once (the unique week decides)."""

    week = models.CharField(
        _("ISO week"), max_length=8, unique=True, help_text=_("YYYY-Www, e.g. 2026-W47.")
    )
    document = models.JSONField(_("report"))
    as_of = models.DateTimeField(
        _("figures as of"), help_text=_("Conversions up to this moment are counted.")
    )
    # What the alerts were computed from, so they can be worded in each reader's language.
    thresholds = models.JSONField(_("thresholds used"), default=dict)
    previous_rate = models.DecimalField(
        _("previous week's MQL→SQL rate"), max_digits=4, decimal_places=3, null=True, blank=True
    )
    built_at = models.DateTimeField(_("built at"), auto_now_add=True)
    queued_at = models.DateTimeField(
        _("emails queued at"),
        null=True,
        blank=True,
        help_text=_("Set when its emails were put in the outbox; the claim that sends them once."),
    )
    emailed_at = models.DateTimeField(
        _("emailed at"),
        null=True,
        blank=True,
        help_text=_("Set when the first of its emails went out."),
    )

    class Meta:
        ordering = ["-week"]
        verbose_name = _("weekly report")
        verbose_name_plural = _("weekly reports")

    def __str__(self):
        return str(_("Weekly report %(week)s") % {"week": self.week})


class LiveWeekReport(models.Model):
    """The running week's report as it stood a moment ago, for the dashboard and its CSV.

    Counting a week that is not over reads that week's whole history (seconds at a
    million leads), so the dashboard shows this snapshot and has it recomputed in the
    background once it is a minute old (``services.live_week_report``). Unlike
    ``WeeklyReport`` it is rewritten as the week goes on; it is never emailed or served
    by the API.
    """

    week = models.CharField(_("ISO week"), max_length=8, unique=True)
    document = models.JSONField(_("report so far"))
    as_of = models.DateTimeField(_("figures as of"))
    thresholds = models.JSONField(_("thresholds used"), default=dict)
    previous_rate = models.DecimalField(
        _("previous week's MQL→SQL rate"), max_digits=4, decimal_places=3, null=True, blank=True
    )
    # Set when a refresh is queued, so a busy dashboard queues one, not one per reader.
    refresh_queued_at = models.DateTimeField(_("refresh queued at"), null=True, blank=True)

    class Meta:
        verbose_name = _("report of the running week")
        verbose_name_plural = _("reports of the running week")

    def __str__(self):
        return f"{self.week} @ {self.as_of:%Y-%m-%d %H:%M}"
