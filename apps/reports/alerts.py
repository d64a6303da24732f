"""The weekly alerts of SPEC §6 and the rounding every report figure shares: pure functions.

Rates are compared as the reader sees them (rounded to three decimals), so a
report never says "20.0% is below the 20% target". A rate exactly at a
threshold raises nothing, except a drop of exactly the alert's points, which
the SPEC counts ("a drop of 5 points or more").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

BELOW_TARGET = "below_target"
CRITERIA_TOO_LOOSE = "criteria_too_loose"
CRITERIA_TOO_STRICT = "criteria_too_strict"
DROPPED = "dropped"
ALERT_CODES = (BELOW_TARGET, CRITERIA_TOO_LOOSE, CRITERIA_TOO_STRICT, DROPPED)
ALERT_LABELS = {
    BELOW_TARGET: gettext_lazy("Below target"),
    CRITERIA_TOO_LOOSE: gettext_lazy("Criteria too loose"),
    CRITERIA_TOO_STRICT: gettext_lazy("Criteria too strict"),
    DROPPED: gettext_lazy("Dropped"),
}

# A rep's, a source's or a criteria version's week with fewer MQLs than this is not judged:
# one MQL more or less would swing its rate past every threshold.
MIN_JUDGED_MQLS = 10

DEFAULT_THRESHOLDS = {"target": "20", "too_loose": "15", "too_strict": "40", "drop_points": "5"}

RATE_PLACES = Decimal("0.001")
HOURS_PLACES = Decimal("0.01")
HUNDRED = Decimal(100)


def rounded_rate(part: int, whole: int) -> Decimal | None:
    """part / whole rounded half-up to 3 decimals; None when there is nothing to divide by."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATE_PLACES, ROUND_HALF_UP)


def rounded_hours(value: float | Decimal | None) -> Decimal | None:
    if value is None:
        return None
    return Decimal(repr(value) if isinstance(value, float) else value).quantize(
        HOURS_PLACES, ROUND_HALF_UP
    )


def as_json_number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def percent_text(value: Decimal | str | float) -> str:
    """0.175 -> '17.5', a threshold '20.00' -> '20' (percent figures without trailing zeros)."""
    number = Decimal(str(value))
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def rate_percent_text(value: Decimal | float) -> str:
    return percent_text(Decimal(str(value)) * HUNDRED)


@dataclass(frozen=True)
class Alert:
    code: str
    rate: Decimal
    threshold: Decimal  # percent for the level alerts, points for ``dropped``
    previous_rate: Decimal | None = None

    @property
    def message(self) -> str:
        """One sentence, in the active language."""
        values = {"rate": rate_percent_text(self.rate), "threshold": percent_text(self.threshold)}
        if self.code == BELOW_TARGET:
            return _("MQL→SQL %(rate)s%% is below the %(threshold)s%% target") % values
        if self.code == CRITERIA_TOO_LOOSE:
            return (
                _("MQL→SQL %(rate)s%% is below %(threshold)s%%: the MQL criteria may be too loose")
                % values
            )
        if self.code == CRITERIA_TOO_STRICT:
            return (
                _(
                    "MQL→SQL %(rate)s%% is above %(threshold)s%%: the MQL criteria may be too strict, "
                    "leaving leads on the table"
                )
                % values
            )
        return _("MQL→SQL fell %(points)s points, from %(previous)s%% last week to %(rate)s%%") % {
            **values,
            "previous": rate_percent_text(self.previous_rate),
            "points": percent_text((self.previous_rate - self.rate) * HUNDRED),
        }

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def report_alerts(
    *,
    rate: Decimal | None,
    previous_rate: Decimal | None,
    thresholds: Mapping[str, str] | None = None,
    whole_team: bool = True,
    mqls: int | None = None,
) -> list[Alert]:
    """The alerts for a week whose MQL→SQL rate is ``rate`` (rounded), after ``previous_rate``.

    The criteria alerts judge the whole funnel: for one rep, source or criteria version
    (``whole_team`` false) they are left out, and a week of fewer than ``MIN_JUDGED_MQLS``
    ``mqls`` raises nothing at all.
    """
    if rate is None or (not whole_team and (mqls or 0) < MIN_JUDGED_MQLS):
        return []
    limits = {
        key: Decimal(str(value))
        for key, value in {**DEFAULT_THRESHOLDS, **(thresholds or {})}.items()
    }
    percent = rate * HUNDRED
    alerts = []
    if percent < limits["target"]:
        alerts.append(Alert(BELOW_TARGET, rate, limits["target"]))
    if whole_team and percent < limits["too_loose"]:
        alerts.append(Alert(CRITERIA_TOO_LOOSE, rate, limits["too_loose"]))
    if whole_team and percent > limits["too_strict"]:
        alerts.append(Alert(CRITERIA_TOO_STRICT, rate, limits["too_strict"]))
    if previous_rate is not None and (previous_rate - rate) * HUNDRED >= limits["drop_points"]:
        alerts.append(Alert(DROPPED, rate, limits["drop_points"], previous_rate))
    return alerts
