"""Suggested MQL criteria (SPEC §6): criteria the admin can express whose replayed MQL→SQL
lands in a target band, as a front of SQLs kept against MQL volume, simplest first.

The search space is what the MQL criteria form and the fit rule can say: a score
threshold, a minimum number of engagements, required engagement kinds, fit
required or not, and the fit rule's employee range, industries and countries.
Every combination on a grid over those is replayed at once over the window's
leads (``cohort_signals``, read once per request):

- a lead the window's history promoted counts as an MQL of a candidate when it
  met the candidate at that promotion (its engagements up to then) and had not
  met it before the window began; it keeps its real outcome (reached SQL or not).
  Signals after a promotion are left out: sales' own contact drives them.
- a lead nothing promoted by the window's end counts when it met the candidate
  at the end of the window and not at its start; nobody worked it, so it counts
  as not reaching SQL, and a looser candidate's rate is a floor.

The grid is evaluated with numpy, never one query per candidate: for each set of
required kinds, the leads are binned by (fit class, score level, engagement
level); one matrix product applies every fit option, and suffix sums over the
two threshold axes give the MQLs and SQLs of every (threshold, minimum) pair.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
from django.utils import timezone

from apps.criteria import rules
from apps.criteria.models import FitRule, MQLCriteria, ScoringSettings
from apps.reports.cohort_signals import (
    FIT_CODES,
    KINDS,
    UNKNOWN,
    CohortSignals,
    NurtureSignals,
    Profiles,
    cohort_signals,
    fit_verdicts,
    new_vocabularies,
    nurture_signals,
)
from apps.reports.criteria_words import criteria_changes, criteria_text
from apps.reports.drivers import wilson_interval
from apps.reports.weeks import WeekWindow

DEFAULT_BAND = (0.20, 0.30)
MIN_CANDIDATE_MQLS = 30  # fewer MQLs in the window than this is no basis for a rate
MIN_HISTORY_MQLS = 30
MIN_HISTORY_SQLS = 5
MAX_SHOWN = 6
# Two candidates are "close" when their SQLs kept differ by at most 2% of the window's SQLs
# (at least one SQL) and their MQL volumes by at most 5%: the one with fewer conditions wins.
CLOSE_SQLS = 0.02
CLOSE_MQLS = 0.05

SCORE_STEPS = (0, 3, 5, 8, 10, 12, 15, 20, 25, 30, 40, 50)
ENGAGEMENT_STEPS = (0, 1, 2, 3, 4, 5, 6, 8, 10, 15)
EMPLOYEE_MINS = (None, 10, 50, 100, 200, 500)
EMPLOYEE_MAXES = (None, 200, 500, 1000, 5000)
PAIRED_KINDS = 4  # pairs of required kinds are tried among the kinds that lift SQL most
LIFTED_VALUE_MIN_MQLS = 10  # an industry or country joins the "lifted" list from this many MQLs

TOO_LITTLE_HISTORY = "too_little_history"
OUT_OF_REACH = "out_of_reach"


@dataclass(frozen=True)
class FitOption:
    required: bool
    rule: rules.FitRuleValues  # the fit rule in force with this option


@dataclass(frozen=True)
class Candidate:
    rule: rules.MQLRule
    fit: FitOption
    mqls: int
    sqls: int
    weeks: int
    window_sqls: int
    conditions: int
    changes: tuple[str, ...]
    text: str  # the whole criteria in words
    is_active: bool = False

    @property
    def rate(self) -> float | None:
        return self.sqls / self.mqls if self.mqls else None

    @property
    def rate_interval(self) -> tuple[float, float] | None:
        return wilson_interval(self.sqls, self.mqls)

    @property
    def mqls_per_week(self) -> float:
        return self.mqls / self.weeks

    @property
    def sqls_kept(self) -> float | None:
        return self.sqls / self.window_sqls if self.window_sqls else None

    def draft_values(self) -> dict:
        return {
            "score_threshold": self.rule.score_threshold,
            "min_engagements": self.rule.min_engagements,
            "required_kinds": sorted(self.rule.required_kinds),
            "fit_required": self.rule.fit_required,
        }

    def fit_rule_change(self, current: rules.FitRuleValues) -> dict | None:
        """The fit rule values publishing this candidate must set, or None when it keeps the rule."""
        if not self.fit.required or self.fit.rule == current:
            return None
        return FitRule.values_of(self.fit.rule)

    def as_dict(self, current_fit: rules.FitRuleValues) -> dict:
        low_high = self.rate_interval
        return {
            "criteria": self.draft_values(),
            "fit_rule_change": self.fit_rule_change(current_fit),
            "mqls": self.mqls,
            "mqls_per_week": round(self.mqls_per_week, 2),
            "sqls": self.sqls,
            "mql_to_sql_rate": None if self.rate is None else round(self.rate, 4),
            "mql_to_sql_rate_interval": None
            if low_high is None
            else [round(low_high[0], 4), round(low_high[1], 4)],
            "sqls_kept": None if self.sqls_kept is None else round(self.sqls_kept, 4),
            "conditions": self.conditions,
            "changes": list(self.changes),
            "description": self.text,
        }


@dataclass
class Suggestions:
    window: WeekWindow
    as_of: dt.datetime
    band: tuple[float, float]
    mqls: int  # the window's real MQL cohorts
    sqls: int
    active: Candidate | None  # the active version, replayed the same way
    current_fit: rules.FitRuleValues
    candidates: list[Candidate] = field(default_factory=list)
    closest: Candidate | None = None  # when nothing reaches the band: the nearest miss
    reason: str | None = None  # TOO_LITTLE_HISTORY or OUT_OF_REACH when there are no candidates
    evaluated: int = 0
    leads: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float | None:
        return self.sqls / self.mqls if self.mqls else None

    @property
    def mqls_per_week(self) -> float:
        return self.mqls / self.window.length

    def as_dict(self) -> dict:
        low, high = self.band
        return {
            "from": str(self.window.first),
            "to": str(self.window.last),
            "weeks": self.window.length,
            "as_of": self.as_of.isoformat(),
            "band": {"low": low, "high": high},
            "mqls": self.mqls,
            "mqls_per_week": round(self.mqls_per_week, 2),
            "sqls": self.sqls,
            "mql_to_sql_rate": None if self.rate is None else round(self.rate, 4),
            "active": None if self.active is None else self.active.as_dict(self.current_fit),
            "candidates": [c.as_dict(self.current_fit) for c in self.candidates],
            "reason": self.reason,
            "closest": None if self.closest is None else self.closest.as_dict(self.current_fit),
            "candidates_evaluated": self.evaluated,
            "leads_replayed": self.leads,
        }


# --- the population ----------------------------------------------------------------------------


@dataclass
class Population:
    """Every lead a candidate might count, with its state "at the end" and before the window."""

    score: np.ndarray
    engagements: np.ndarray
    kinds: np.ndarray
    score_before: np.ndarray
    engagements_before: np.ndarray
    kinds_before: np.ndarray
    profiles: Profiles
    reached_sql: np.ndarray

    @classmethod
    def of(cls, cohort: CohortSignals, nurture: NurtureSignals) -> Population:
        def joined(a, b):
            return np.concatenate([a.astype(np.int64), b.astype(np.int64)])

        return cls(
            score=joined(cohort.score, nurture.score),
            engagements=joined(cohort.engagements, nurture.engagements),
            kinds=joined(cohort.kinds, nurture.kinds),
            score_before=joined(cohort.score_before, nurture.score_before),
            engagements_before=joined(cohort.engagements_before, nurture.engagements_before),
            kinds_before=joined(cohort.kinds_before, nurture.kinds_before),
            profiles=Profiles(
                employees=joined(cohort.profiles.employees, nurture.profiles.employees),
                industry=joined(cohort.profiles.industry, nurture.profiles.industry),
                country=joined(cohort.profiles.country, nurture.profiles.country),
            ),
            reached_sql=np.concatenate([cohort.reached_sql, np.zeros(len(nurture), dtype=bool)]),
        )


# --- the search space --------------------------------------------------------------------------


@dataclass
class SearchSpace:
    score_levels: np.ndarray
    engagement_levels: np.ndarray
    kind_sets: list[frozenset[str]]
    fit_options: list[FitOption]

    @property
    def size(self) -> int:
        return (
            len(self.kind_sets)
            * len(self.fit_options)
            * len(self.score_levels)
            * len(self.engagement_levels)
        )


def _levels(steps, *extra) -> np.ndarray:
    return np.array(sorted({*steps, *extra}), dtype=np.int64)


def _lifted_kinds(cohort: CohortSignals) -> list[str]:
    """The kinds whose presence at promotion goes with the highest SQL rate (enough MQLs each)."""
    if not len(cohort):
        return []
    present = cohort.kind_counts > 0
    counts = present.sum(axis=0)
    sqls = present[cohort.reached_sql].sum(axis=0)
    rates = np.where(counts >= LIFTED_VALUE_MIN_MQLS, sqls / np.maximum(counts, 1), -1.0)
    order = np.argsort(-rates, kind="stable")
    return [KINDS[i] for i in order[:PAIRED_KINDS] if rates[i] >= 0]


def _lifted_values(codes: np.ndarray, reached_sql: np.ndarray, values: list[str]) -> frozenset:
    """The values (industries, countries) whose MQLs reach SQL at least at the base rate."""
    known = codes != UNKNOWN
    if not known.any():
        return frozenset()
    base = reached_sql.mean()
    mqls = np.bincount(codes[known], minlength=len(values))
    sqls = np.bincount(codes[known], weights=reached_sql[known], minlength=len(values))
    chosen = (mqls >= LIFTED_VALUE_MIN_MQLS) & (sqls >= base * mqls)
    return frozenset(values[i] for i in np.nonzero(chosen)[0])


def search_space(
    *,
    cohort: CohortSignals,
    active: rules.MQLRule,
    current_fit: rules.FitRuleValues,
) -> SearchSpace:
    """The grid replayed: around the active version, the steps above and the window's strongest signals."""
    active_kinds = frozenset(active.required_kinds)
    used = (
        [KINDS[i] for i in np.nonzero((cohort.kind_counts > 0).any(axis=0))[0]]
        if len(cohort)
        else []
    )
    kind_sets = {frozenset(), active_kinds}
    for kind in used:
        kind_sets |= {frozenset({kind}), active_kinds | {kind}}
    kind_sets |= {frozenset(pair) for pair in combinations(_lifted_kinds(cohort), 2)}

    industries = {
        current_fit.industries,
        frozenset(),
        _lifted_values(cohort.profiles.industry, cohort.reached_sql, cohort.industries.values),
    }
    countries = {
        current_fit.countries,
        frozenset(),
        _lifted_values(cohort.profiles.country, cohort.reached_sql, cohort.countries.values),
    }
    ranges = {
        (low, high)
        for low in {*EMPLOYEE_MINS, current_fit.employees_min}
        for high in {*EMPLOYEE_MAXES, current_fit.employees_max}
        if low is None or high is None or low < high
    }
    fit_rules = {
        rules.FitRuleValues(employees_min=low, employees_max=high, industries=ind, countries=ctry)
        for low, high in ranges
        for ind in industries
        for ctry in countries
    }
    fit_rules.discard(current_fit)
    fit_options = [FitOption(False, current_fit), FitOption(True, current_fit)] + [
        FitOption(True, rule) for rule in sorted(fit_rules, key=_fit_sort_key)
    ]
    return SearchSpace(
        score_levels=_levels(SCORE_STEPS, active.score_threshold),
        engagement_levels=_levels(ENGAGEMENT_STEPS, active.min_engagements),
        kind_sets=sorted(kind_sets, key=lambda s: (len(s), sorted(s))),
        fit_options=fit_options,
    )


def _fit_sort_key(rule: rules.FitRuleValues):
    return (
        -1 if rule.employees_min is None else rule.employees_min,
        -1 if rule.employees_max is None else rule.employees_max,
        sorted(rule.industries),
        sorted(rule.countries),
    )


# --- evaluation --------------------------------------------------------------------------------


@dataclass
class Grid:
    """MQLs and SQLs of every candidate, indexed [kind set, fit option, score level, engagement level]."""

    mqls: np.ndarray
    sqls: np.ndarray


def _fit_classes(
    space: SearchSpace, population: Population, vocabularies
) -> tuple[np.ndarray, np.ndarray]:
    """Each lead's fit class (leads in one class pass or fail every fit option alike) and the
    (option × class) matrix of passes."""
    profiles = population.profiles
    # Employees: every bound of every option is a breakpoint; a bin behaves as its lower end.
    breaks = sorted(
        {o.rule.employees_min for o in space.fit_options if o.rule.employees_min is not None}
        | {o.rule.employees_max + 1 for o in space.fit_options if o.rule.employees_max is not None}
    )
    edges = np.array([0, *breaks], dtype=np.int64)
    known = profiles.employees != UNKNOWN
    employee_bin = np.where(known, np.searchsorted(edges, profiles.employees, side="right"), 0)
    # Industries and countries: which of the options' lists each value is on (0: not given).
    keys = [employee_bin]
    for codes, attribute, vocabulary in (
        (profiles.industry, "industries", vocabularies["industries"]),
        (profiles.country, "countries", vocabularies["countries"]),
    ):
        lists = sorted(
            {getattr(o.rule, attribute) for o in space.fit_options} - {frozenset()}, key=sorted
        )
        membership = np.ones(len(codes), dtype=np.int64)
        for bit, allowed in enumerate(lists, start=1):
            membership |= np.isin(codes, vocabulary.codes_of(allowed)).astype(np.int64) << bit
        keys.append(np.where(codes == UNKNOWN, 0, membership))
    _bins, industry_classes, country_classes = (int(key.max(initial=0)) + 1 for key in keys)
    combined = (keys[0] * industry_classes + keys[1]) * country_classes + keys[2]
    _classes, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    representatives = Profiles(
        employees=np.where(known[first], edges[np.maximum(employee_bin[first] - 1, 0)], UNKNOWN),
        industry=profiles.industry[first],
        country=profiles.country[first],
    )
    passes = np.ones((len(space.fit_options), len(first)), dtype=np.float64)
    for index, option in enumerate(space.fit_options):
        if option.required:
            verdicts = fit_verdicts(
                option.rule,
                representatives,
                industries=vocabularies["industries"],
                countries=vocabularies["countries"],
            )
            passes[index] = verdicts == FIT_CODES[rules.FIT_PASS]
    return inverse.reshape(-1), passes


def _suffix_sums(counts: np.ndarray) -> np.ndarray:
    """counts[..., i, j] -> the sum over every i' >= i and j' >= j."""
    flipped = counts[..., ::-1, ::-1]
    return flipped.cumsum(axis=-2).cumsum(axis=-1)[..., ::-1, ::-1]


def evaluate(space: SearchSpace, population: Population, vocabularies) -> Grid:
    """MQLs and SQLs in the window of every candidate of ``space`` (see the module's docstring)."""
    n_scores, n_engagements = len(space.score_levels), len(space.engagement_levels)
    cells = n_scores * n_engagements

    def level(levels, values):
        return np.searchsorted(levels, values, side="right") - 1

    fit_class, passes = _fit_classes(space, population, vocabularies)
    n_classes = passes.shape[1]
    at_end = fit_class * cells + (
        level(space.score_levels, population.score) * n_engagements
        + level(space.engagement_levels, population.engagements)
    )
    # Met the candidate before the window and still at its end (scores can decay in between).
    before = fit_class * cells + (
        level(space.score_levels, np.minimum(population.score, population.score_before))
        * n_engagements
        + level(space.engagement_levels, population.engagements_before)
    )
    # Leads alike in everything the grid looks at count together: a few thousand rows with
    # weights instead of every lead (their signature packs five numbers into one int64).
    bins = n_classes * cells
    kind_masks = 1 << len(KINDS)
    kinds, kinds_before = population.kinds, population.kinds_before
    sql, weight = population.reached_sql.astype(np.int64), np.ones(len(at_end), dtype=np.int64)
    if bins * bins * kind_masks * kind_masks * 2 < 2**63:
        signature = ((at_end * bins + before) * kind_masks + kinds) * kind_masks + kinds_before
        alike, weight = np.unique(signature * 2 + sql, return_counts=True)
        alike, sql = np.divmod(alike, 2)
        alike, kinds_before = np.divmod(alike, kind_masks)
        alike, kinds = np.divmod(alike, kind_masks)
        at_end, before = np.divmod(alike, bins)
    shape = (len(space.kind_sets), len(space.fit_options), n_scores, n_engagements)
    mqls, sqls = np.zeros(shape), np.zeros(shape)
    for k, kind_set in enumerate(space.kind_sets):
        bits = sum(1 << KINDS.index(kind) for kind in kind_set)
        met_end = np.where((kinds & bits) == bits, weight, 0)
        met_before = np.where((kinds_before & bits) == bits, weight, 0)
        for target, weights_end, weights_before in (
            (mqls, met_end, met_before),
            (sqls, met_end * sql, met_before * sql),
        ):
            counts = np.bincount(at_end, weights=weights_end, minlength=bins) - np.bincount(
                before, weights=weights_before, minlength=bins
            )
            per_option = passes @ counts.reshape(n_classes, cells)
            target[k] = _suffix_sums(
                per_option.reshape(len(space.fit_options), n_scores, n_engagements)
            )
    return Grid(mqls=np.rint(mqls).astype(np.int64), sqls=np.rint(sqls).astype(np.int64))


# --- choosing ----------------------------------------------------------------------------------


def _fit_conditions(option: FitOption) -> int:
    if not option.required:
        return 0
    rule = option.rule
    parts = (
        (rule.employees_min is not None or rule.employees_max is not None)
        + bool(rule.industries)
        + bool(rule.countries)
    )
    return max(parts, 1)


def _fit_changes(option: FitOption, active: rules.MQLRule, current_fit: rules.FitRuleValues) -> int:
    changed = int(option.required != active.fit_required)
    if option.required:
        rule = option.rule
        changed += int(
            (rule.employees_min, rule.employees_max)
            != (current_fit.employees_min, current_fit.employees_max)
        )
        changed += int(rule.industries != current_fit.industries)
        changed += int(rule.countries != current_fit.countries)
    return changed


def _complexity(
    space: SearchSpace, active: rules.MQLRule, current_fit
) -> tuple[np.ndarray, np.ndarray]:
    """(conditions, changes from the active version) of every candidate, as grids."""
    scores, engagements = space.score_levels, space.engagement_levels
    conditions = (
        np.array([len(s) for s in space.kind_sets])[:, None, None, None]
        + np.array([_fit_conditions(o) for o in space.fit_options])[None, :, None, None]
        + (scores > 0)[None, None, :, None]
        + (engagements > 1)[None, None, None, :]
    )
    changes = (
        np.array([len(s ^ active.required_kinds) for s in space.kind_sets])[:, None, None, None]
        + np.array([_fit_changes(o, active, current_fit) for o in space.fit_options])[
            None, :, None, None
        ]
        + (scores != active.score_threshold)[None, None, :, None]
        + (engagements != active.min_engagements)[None, None, None, :]
    )
    return conditions, changes


def _front(mqls, sqls, conditions, changes, scores, engagements, *, tolerance_sqls) -> list[int]:
    """Indices (into the flat in-band arrays) of the front, SQLs kept first, simplest when close."""
    # One representative per outcome: fewest changes from the active version (a change that
    # makes no difference is no suggestion), then fewest conditions, then loosest thresholds.
    order = np.lexsort((engagements, scores, conditions, changes, sqls, mqls))
    outcome = np.stack([mqls[order], sqls[order]], axis=1)
    first = np.ones(len(order), dtype=bool)
    first[1:] = np.any(outcome[1:] != outcome[:-1], axis=1)
    representatives = order[first]
    # Pareto: more SQLs kept, fewer MQLs.
    by_sqls = representatives[np.lexsort((mqls[representatives], -sqls[representatives]))]
    front, fewest = [], None
    for index in by_sqls:
        if fewest is None or mqls[index] < fewest:
            front.append(index)
            fewest = mqls[index]
    # A simpler candidate close to a front member takes its place.
    chosen: list[int] = []
    for index in front:
        close = representatives[
            (sqls[representatives] >= sqls[index] - tolerance_sqls)
            & (mqls[representatives] <= mqls[index] * (1 + CLOSE_MQLS))
        ]
        best = close[np.lexsort((mqls[close], -sqls[close], changes[close], conditions[close]))[0]]
        if best not in chosen:
            chosen.append(int(best))
    chosen.sort(key=lambda i: (-(sqls[i] // max(tolerance_sqls, 1)), conditions[i], mqls[i]))
    return chosen


def _active_index(space: SearchSpace, active: rules.MQLRule) -> tuple[int, int, int, int]:
    return (
        space.kind_sets.index(frozenset(active.required_kinds)),
        1 if active.fit_required else 0,
        int(np.searchsorted(space.score_levels, active.score_threshold)),
        int(np.searchsorted(space.engagement_levels, active.min_engagements)),
    )


def suggestions_for_window(
    *,
    window: WeekWindow | None = None,
    band: tuple[float, float] = DEFAULT_BAND,
    now: dt.datetime | None = None,
) -> Suggestions:
    """Criteria whose replayed MQL→SQL over ``window`` lands in ``band`` (fractions, e.g. 0.2–0.3).

    Two queries read the window's leads; every candidate is then replayed in
    memory. ``window`` defaults to the last 12 complete weeks.
    """
    started = time.perf_counter()
    now = now or timezone.now()
    window = window or WeekWindow.default(now)
    table = ScoringSettings.current_table()
    current_fit = FitRule.load().as_rule()
    active_row = MQLCriteria.objects.filter(is_active=True).first()
    active = active_row.as_rule() if active_row else rules.MQLRule()
    vocabularies = new_vocabularies()
    cohort = cohort_signals(window=window, as_of=now, table=table, vocabularies=vocabularies)
    nurture = nurture_signals(window=window, as_of=now, table=table, vocabularies=vocabularies)
    population = Population.of(cohort, nurture)
    result = Suggestions(
        window=window,
        as_of=now,
        band=band,
        mqls=len(cohort),
        sqls=cohort.sqls,
        active=None,
        current_fit=current_fit,
        leads=len(population.score),
    )
    space = search_space(cohort=cohort, active=active, current_fit=current_fit)
    grid = evaluate(space, population, vocabularies)
    conditions, changes = _complexity(space, active, current_fit)
    result.evaluated = space.size

    def candidate(index, *, is_active=False) -> Candidate:
        k, f, i, j = (int(x) for x in index)
        option = space.fit_options[f]
        rule = rules.MQLRule(
            score_threshold=int(space.score_levels[i]),
            min_engagements=int(space.engagement_levels[j]),
            required_kinds=space.kind_sets[k],
            fit_required=option.required,
        )
        return Candidate(
            rule=rule,
            fit=option,
            mqls=int(grid.mqls[k, f, i, j]),
            sqls=int(grid.sqls[k, f, i, j]),
            weeks=window.length,
            window_sqls=result.sqls,
            conditions=int(conditions[k, f, i, j]),
            changes=tuple(
                criteria_changes(active=active, active_fit=current_fit, rule=rule, fit=option.rule)
            ),
            text=criteria_text(rule, option.rule),
            is_active=is_active,
        )

    result.active = candidate(_active_index(space, active), is_active=True)
    if result.mqls < MIN_HISTORY_MQLS or result.sqls < MIN_HISTORY_SQLS:
        result.reason = TOO_LITTLE_HISTORY
        result.seconds = time.perf_counter() - started
        return result

    low, high = band
    enough = grid.mqls >= MIN_CANDIDATE_MQLS
    rate = np.divide(grid.sqls, grid.mqls, out=np.zeros(grid.mqls.shape), where=grid.mqls > 0)
    in_band = enough & (rate >= low - 1e-12) & (rate <= high + 1e-12)
    if not in_band.any():
        result.reason = OUT_OF_REACH
        if enough.any():
            distance = np.where(enough, np.maximum(low - rate, rate - high), np.inf)
            nearest = np.argwhere(distance <= distance.min() + 1e-12)
            simplest = min(nearest, key=lambda idx: (conditions[tuple(idx)], changes[tuple(idx)]))
            result.closest = candidate(simplest)
        result.seconds = time.perf_counter() - started
        return result

    where = np.nonzero(in_band)
    flat = {
        "mqls": grid.mqls[where],
        "sqls": grid.sqls[where],
        "conditions": conditions[where],
        "changes": changes[where],
        "scores": where[2],
        "engagements": where[3],
    }
    tolerance = max(1, int(round(CLOSE_SQLS * result.sqls)))
    chosen = _front(**flat, tolerance_sqls=tolerance)[:MAX_SHOWN]
    result.candidates = [candidate(tuple(axis[i] for axis in where)) for i in chosen]
    result.seconds = time.perf_counter() - started
    return result
