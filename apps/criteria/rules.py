"""Pure evaluation of the admin-edited rules: scoring, fit, MQL and BANT.

No ORM here: the functions take plain values, so the hot path, the nightly
recompute and the criteria what-if all share them, and tests need no database.
The defaults of the rule values are SPEC §3's defaults; the admin-edited models
in ``apps.criteria.models`` take their field defaults from them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadflow.text import names_join

FIT_PASS, FIT_FAIL, FIT_UNKNOWN = "pass", "fail", "unknown"


# --- scoring -----------------------------------------------------------------


@dataclass(frozen=True)
class ScoringTable:
    points: dict[str, int]
    cap: int | None = None
    decay_after_days: int | None = None
    decayed_percent: int = 0

    def points_for(self, kind: str, occurred_at: dt.datetime, now: dt.datetime) -> int:
        """Points one engagement is worth at ``now``, decay included.

        Decayed points are ``points * percent // 100`` (integer division), the
        same arithmetic the set-based recompute does in SQL.
        """
        points = self.points.get(kind, 0)
        if self.decay_after_days is not None and occurred_at < now - dt.timedelta(
            days=self.decay_after_days
        ):
            return points * self.decayed_percent // 100
        return points

    def capped(self, score: int) -> int:
        score = max(score, 0)
        return min(score, self.cap) if self.cap is not None else score


def score_of(table: ScoringTable, engagements, now: dt.datetime) -> int:
    """A lead's score from its (kind, occurred_at) history."""
    return table.capped(sum(table.points_for(kind, at, now) for kind, at in engagements))


# --- fit ---------------------------------------------------------------------


@dataclass(frozen=True)
class FitRuleValues:
    employees_min: int | None = 50
    employees_max: int | None = 500
    industries: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()


@dataclass(frozen=True)
class FitResult:
    verdict: str
    reason: str


def evaluate_fit(
    rule: FitRuleValues, *, employees: int | None, industry: str, country: str
) -> FitResult:
    """pass, fail or unknown, with the rule that decided it.

    Any known value outside the rule fails the lead; otherwise a missing value
    that the rule needs makes the verdict unknown.
    """
    missing = []
    if rule.employees_min is not None or rule.employees_max is not None:
        if employees is None:
            missing.append(_("employee count"))
        elif rule.employees_min is not None and employees < rule.employees_min:
            return FitResult(
                FIT_FAIL,
                _("%(n)s employees is below the minimum of %(min)s")
                % {"n": employees, "min": rule.employees_min},
            )
        elif rule.employees_max is not None and employees > rule.employees_max:
            return FitResult(
                FIT_FAIL,
                _("%(n)s employees is above the maximum of %(max)s")
                % {"n": employees, "max": rule.employees_max},
            )
    if rule.industries:
        if not industry:
            missing.append(_("industry"))
        elif industry.strip().lower() not in rule.industries:
            return FitResult(
                FIT_FAIL, _("industry '%(v)s' is not in the allowed list") % {"v": industry}
            )
    if rule.countries:
        if not country:
            missing.append(_("country"))
        elif country.strip().upper() not in rule.countries:
            return FitResult(
                FIT_FAIL, _("country '%(v)s' is not in the allowed list") % {"v": country}
            )
    if missing:
        return FitResult(FIT_UNKNOWN, _("missing %(fields)s") % {"fields": names_join(missing)})
    return FitResult(FIT_PASS, _("matches the fit rule"))


# --- MQL ---------------------------------------------------------------------


@dataclass(frozen=True)
class MQLRule:
    score_threshold: int = 10
    min_engagements: int = 3
    required_kinds: frozenset[str] = frozenset({"pricing_page_view"})
    fit_required: bool = True


def mql_met(
    rule: MQLRule, *, score: int, engagement_count: int, kinds: set[str] | frozenset[str], fit: str
) -> bool:
    """``not mql_unmet(…)`` without wording the reasons: for checking hundreds of leads at once."""
    return (
        score >= rule.score_threshold
        and engagement_count >= rule.min_engagements
        and rule.required_kinds <= set(kinds)
        and (not rule.fit_required or fit == FIT_PASS)
    )


def mql_unmet(
    rule: MQLRule, *, score: int, engagement_count: int, kinds: set[str] | frozenset[str], fit: str
) -> list[str]:
    """The criteria a lead does not meet yet; empty means it is an MQL."""
    unmet = []
    if score < rule.score_threshold:
        unmet.append(
            _("score %(score)s is below %(threshold)s")
            % {"score": score, "threshold": rule.score_threshold}
        )
    if engagement_count < rule.min_engagements:
        unmet.append(
            _("%(n)s engagements, %(min)s needed")
            % {"n": engagement_count, "min": rule.min_engagements}
        )
    missing = sorted(rule.required_kinds - set(kinds))
    if missing:
        unmet.append(_("missing required engagement: %(kinds)s") % {"kinds": names_join(missing)})
    if rule.fit_required and fit != FIT_PASS:
        unmet.append(_("fit is %(fit)s, pass required") % {"fit": fit})
    return unmet


# --- BANT --------------------------------------------------------------------


# The authority levels of a BANT qualification, in order of weight (``models.Authority`` is built on them).
AUTHORITY_LABELS = {
    "decision_maker": gettext_lazy("Decision maker"),
    "influencer": gettext_lazy("Influencer"),
    "user": gettext_lazy("User"),
    "unknown": gettext_lazy("Unknown"),
}


def authority_names(codes) -> str:
    """'Decision maker, Influencer': the levels' names in the reader's language, in order of weight."""
    return names_join(label for code, label in AUTHORITY_LABELS.items() if code in codes)


@dataclass(frozen=True)
class BANTRule:
    min_budget: Decimal = Decimal("10000")
    account_currency: str = "USD"
    max_timeline_months: int = 6
    accepted_authorities: frozenset[str] = frozenset({"decision_maker", "influencer"})
    need_required: bool = True
    rates: dict[str, Decimal] = field(default_factory=dict)


def default_authorities() -> list[str]:
    """``SQLCriteria.accepted_authorities``' default, as the JSON list it stores."""
    return sorted(BANTRule.accepted_authorities)


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(day)


def bant_failures(
    rule: BANTRule,
    *,
    budget_amount: Decimal | None,
    budget_currency: str,
    authority: str,
    need: str,
    timeline: dt.date | None,
    today: dt.date,
) -> dict[str, str]:
    """Each BANT item that fails the SQL criteria, keyed by the form field."""
    failures: dict[str, str] = {}
    currency = (budget_currency or rule.account_currency).upper()
    if budget_amount is None:
        failures["budget_amount"] = _("Budget is required.")
    elif currency != rule.account_currency and currency not in rule.rates:
        failures["budget_currency"] = _(
            "No exchange rate for %(currency)s; enter the budget in %(account)s or ask an admin to add the rate."
        ) % {"currency": currency, "account": rule.account_currency}
    else:
        rate = Decimal(1) if currency == rule.account_currency else rule.rates[currency]
        in_account = (Decimal(budget_amount) * rate).quantize(Decimal("0.01"), ROUND_HALF_UP)
        if in_account < rule.min_budget:
            failures["budget_amount"] = _(
                "Budget %(amount)s %(account)s is below the minimum of %(min)s %(account)s."
            ) % {
                "amount": f"{in_account:,.2f}",
                "min": f"{rule.min_budget:,.2f}",
                "account": rule.account_currency,
            }
    if authority not in rule.accepted_authorities:
        failures["authority"] = _(
            "%(authority)s is not an authority level accepted for an SQL (accepted: %(accepted)s)."
        ) % {
            "authority": str(AUTHORITY_LABELS.get(authority, authority or "-")),
            "accepted": authority_names(rule.accepted_authorities),
        }
    if rule.need_required and not (need or "").strip():
        failures["need"] = _("The need must be stated.")
    if timeline is None:
        failures["timeline"] = _("The expected decision date is required.")
    elif timeline < today:
        failures["timeline"] = _(
            "Decision expected %(date)s, which is in the past; enter the date it is expected now."
        ) % {"date": timeline.isoformat()}
    elif timeline > add_months(today, rule.max_timeline_months):
        failures["timeline"] = _(
            "Decision expected %(date)s, later than %(months)s months from today."
        ) % {"date": timeline.isoformat(), "months": rule.max_timeline_months}
    return failures
