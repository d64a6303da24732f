"""Conversion drivers (SPEC §6): which signals the window's MQLs that reached SQL share.

For every signal Leadflow knows about a lead as of its promotion (each engagement
kind present or absent and how often, the score, the number of engagements, the
company size, industry, country, source, campaign and fit verdict), the MQLs
with it, how many of them reached SQL, the rate, its lift over the window's base
rate and a 95% Wilson interval. Counting is vectorised over the arrays of
``cohort_signals``: no query per signal.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.criteria.models import EngagementKind, FitRule, LeadSource, ScoringSettings
from apps.leads.labels import translated_label
from apps.leads.models import Fit
from apps.reports.cohort_signals import (
    FIT_CODES,
    KINDS,
    UNKNOWN,
    CohortSignals,
    Vocabulary,
    cohort_signals,
    fit_verdicts,
)
from apps.reports.weeks import WeekWindow

SMALL_SAMPLE = 30  # signals seen on fewer MQLs than this are listed apart, as small samples
TOP_VALUES = 20  # per free-text family (industry, country, campaign); the rest are grouped
Z_95 = 1.959964

# Buckets: (lowest value, label). Edges sit where the default criteria do: 3 engagements,
# a score of 10, and the default fit rule's 50–500 employees.
ENGAGEMENT_BUCKETS = ((0, "0"), (1, "1"), (2, "2"), (3, "3–4"), (5, "5–9"), (10, "10+"))
ENGAGEMENT_LABELS = {
    "0": gettext_lazy("no engagements"),
    "1": gettext_lazy("1 engagement"),
    "2": gettext_lazy("2 engagements"),
    "3–4": gettext_lazy("3–4 engagements"),
    "5–9": gettext_lazy("5–9 engagements"),
    "10+": gettext_lazy("10 or more engagements"),
}
SCORE_BUCKETS = (
    (0, "0–4"),
    (5, "5–9"),
    (10, "10–14"),
    (15, "15–19"),
    (20, "20–29"),
    (30, "30+"),
)
EMPLOYEE_BUCKETS = (
    (0, "0–9"),
    (10, "10–49"),
    (50, "50–500"),
    (501, "501–1,000"),
    (1001, "1,001–5,000"),
    (5001, "5,001+"),
)


FAMILY_LABELS = {
    "kind": gettext_lazy("Engagement kind"),
    "engagements": gettext_lazy("Engagements"),
    "score": gettext_lazy("Score"),
    "employees": gettext_lazy("Company size"),
    "industry": gettext_lazy("Industry"),
    "country": gettext_lazy("Country"),
    "source": gettext_lazy("Source"),
    "campaign": gettext_lazy("Campaign"),
    "fit": gettext_lazy("Fit"),
}


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval of successes / trials (95% by default); None for no trials."""
    if trials <= 0:
        return None
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Driver:
    family: str
    key: str  # stable, e.g. "kind:pricing_page_view:any"
    label: str
    mqls: int
    sqls: int
    rate: float
    rate_low: float
    rate_high: float
    lift: float | None
    lift_low: float | None
    lift_high: float | None
    small_sample: bool

    @property
    def family_label(self) -> str:
        return str(FAMILY_LABELS[self.family])

    def as_dict(self) -> dict:
        return {
            "family": self.family,
            "key": self.key,
            "label": self.label,
            "mqls": self.mqls,
            "sqls": self.sqls,
            "sql_rate": round(self.rate, 4),
            "sql_rate_interval": [round(self.rate_low, 4), round(self.rate_high, 4)],
            "lift": _rounded(self.lift),
            "lift_interval": [_rounded(self.lift_low), _rounded(self.lift_high)],
            "small_sample": self.small_sample,
        }


@dataclass(frozen=True)
class DriversReport:
    window: WeekWindow
    as_of: dt.datetime
    mqls: int
    sqls: int
    drivers: list[Driver]  # by lift, highest first; small samples after the rest
    seconds: float

    @property
    def base_rate(self) -> float | None:
        return self.sqls / self.mqls if self.mqls else None

    @property
    def main(self) -> list[Driver]:
        return [d for d in self.drivers if not d.small_sample]

    @property
    def small(self) -> list[Driver]:
        return [d for d in self.drivers if d.small_sample]

    def as_dict(self) -> dict:
        return {
            "from": str(self.window.first),
            "to": str(self.window.last),
            "weeks": self.window.length,
            "as_of": self.as_of.isoformat(),
            "mqls": self.mqls,
            "sqls": self.sqls,
            "mql_to_sql_rate": None if self.base_rate is None else round(self.base_rate, 4),
            "small_sample_below": SMALL_SAMPLE,
            "drivers": [d.as_dict() for d in self.drivers],
        }


# --- counting --------------------------------------------------------------------------------


class _Counter:
    """Adds one row per signal value; the base rate is the window's."""

    def __init__(self, reached_sql: np.ndarray):
        self.reached_sql = reached_sql
        self.total = len(reached_sql)
        self.base = reached_sql.sum() / self.total if self.total else 0.0
        self.rows: list[Driver] = []

    def add(self, family: str, key: str, label: str, mask: np.ndarray) -> None:
        mqls = int(mask.sum())
        if mqls == 0 or mqls == self.total:
            return  # seen on none or on every MQL: it tells nothing apart
        self._row(family, key, label, mqls, int(self.reached_sql[mask].sum()))

    def add_codes(self, family: str, codes: np.ndarray, labels: Callable[[int], tuple[str, str]]):
        """One row per code value (UNKNOWN included), the TOP_VALUES largest and the rest together."""
        shifted = codes.astype(np.int64) + 1  # UNKNOWN (-1) -> 0
        mqls = np.bincount(shifted)
        sqls = np.bincount(shifted, weights=self.reached_sql).astype(np.int64)
        present = [i for i in np.argsort(-mqls, kind="stable") if mqls[i]]
        for index in present[:TOP_VALUES]:
            if mqls[index] == self.total:
                continue
            key, label = labels(int(index) - 1)
            self._row(family, f"{family}:{key}", label, int(mqls[index]), int(sqls[index]))
        rest = present[TOP_VALUES:]
        if rest:
            self._row(
                family,
                f"{family}:other",
                _("%(family)s: %(n)s other values")
                % {"family": FAMILY_LABELS[family], "n": len(rest)},
                int(mqls[rest].sum()),
                int(sqls[rest].sum()),
            )

    def add_buckets(self, family: str, values: np.ndarray, buckets, label) -> None:
        """``label``: a template with %(range)s, or a mapping from each bucket's text to its label."""
        edges = np.array([low for low, _text in buckets])
        index = np.searchsorted(edges, values, side="right") - 1
        for position, (_low, text) in enumerate(buckets):
            words = str(label[text]) if isinstance(label, dict) else label % {"range": text}
            self.add(family, f"{family}:{text}", words, index == position)

    def _row(self, family, key, label, mqls, sqls) -> None:
        rate = sqls / mqls
        low, high = wilson_interval(sqls, mqls)
        lifts = (rate, low, high) if self.base else (None, None, None)
        lift, lift_low, lift_high = (None if v is None else v / self.base for v in lifts)
        self.rows.append(
            Driver(
                family,
                key,
                label,
                mqls,
                sqls,
                rate,
                low,
                high,
                lift,
                lift_low,
                lift_high,
                mqls < SMALL_SAMPLE,
            )
        )


def _vocabulary_labels(vocabulary: Vocabulary, template: str, *, names=None):
    def label(code: int) -> tuple[str, str]:
        if code == UNKNOWN:
            return "none", template % {"value": _("not given")}
        value = vocabulary.values[code]
        return value, template % {"value": (names or {}).get(value, value)}

    return label


def drivers_from_signals(signals: CohortSignals, *, fit: np.ndarray) -> list[Driver]:
    """Every signal's row, by lift (highest first), small samples after the rest."""
    counter = _Counter(signals.reached_sql)
    if counter.total == 0:
        return []
    kind_labels = dict(EngagementKind.choices)
    for index, kind in enumerate(KINDS):
        counts = signals.kind_counts[:, index]
        name = kind_labels[kind]
        counter.add("kind", f"kind:{kind}:none", _("%(kind)s: none") % {"kind": name}, counts == 0)
        counter.add(
            "kind", f"kind:{kind}:any", _("%(kind)s: at least once") % {"kind": name}, counts >= 1
        )
        counter.add(
            "kind", f"kind:{kind}:2plus", _("%(kind)s: twice or more") % {"kind": name}, counts >= 2
        )
    counter.add_buckets("engagements", signals.engagements, ENGAGEMENT_BUCKETS, ENGAGEMENT_LABELS)
    counter.add_buckets("score", signals.score, SCORE_BUCKETS, _("score %(range)s"))
    employees = signals.profiles.employees
    counter.add("employees", "employees:unknown", _("employees not given"), employees == UNKNOWN)
    counter.add_buckets(
        "employees",
        np.where(employees == UNKNOWN, -1, employees),
        EMPLOYEE_BUCKETS,
        _("%(range)s employees"),
    )
    source_names = {
        code.lower(): translated_label(label)
        for code, label in LeadSource.objects.values_list("code", "label")
    }
    counter.add_codes(
        "industry",
        signals.profiles.industry,
        _vocabulary_labels(signals.industries, _("industry: %(value)s")),
    )
    counter.add_codes(
        "country",
        signals.profiles.country,
        _vocabulary_labels(signals.countries, _("country: %(value)s")),
    )
    counter.add_codes(
        "source",
        signals.source,
        _vocabulary_labels(signals.sources, _("source: %(value)s"), names=source_names),
    )
    counter.add_codes(
        "campaign",
        signals.campaign,
        _vocabulary_labels(signals.campaigns, _("campaign: %(value)s")),
    )
    fit_names = dict(Fit.choices)
    for verdict, code in FIT_CODES.items():
        counter.add(
            "fit",
            f"fit:{verdict}",
            _("fit: %(verdict)s") % {"verdict": fit_names[verdict]},
            fit == code,
        )
    return sorted(
        counter.rows,
        key=lambda d: (d.small_sample, d.lift is None, -(d.lift or 0), -d.mqls, d.key),
    )


def conversion_drivers(
    *, window: WeekWindow | None = None, now: dt.datetime | None = None
) -> DriversReport:
    """The drivers of ``window`` (default: the last 12 complete weeks), conversions up to ``now``."""
    started = time.perf_counter()
    now = now or timezone.now()
    window = window or WeekWindow.default(now)
    signals = cohort_signals(window=window, as_of=now, table=ScoringSettings.current_table())
    fit = fit_verdicts(
        FitRule.load().as_rule(),
        signals.profiles,
        industries=signals.industries,
        countries=signals.countries,
    )
    drivers = drivers_from_signals(signals, fit=fit)
    return DriversReport(
        window=window,
        as_of=now,
        mqls=len(signals),
        sqls=signals.sqls,
        drivers=drivers,
        seconds=time.perf_counter() - started,
    )
