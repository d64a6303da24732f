"""What Leadflow knew about each lead of a window of MQL cohorts, read once per request.

Two set-based queries, streamed from a server-side cursor in chunks into
numpy arrays (one element per lead), feed both the conversion drivers and the
criteria suggestions:

- ``cohort_signals``: the window's MQLs, each once (its first promotion in the
  window), with what it had done *as of that promotion*: engagements up to the
  promote time, per kind, and the score they made with the current scoring
  table (decay as of that moment, the cap applied). Its state just before the
  window is read in the same pass, so a looser candidate can tell that it
  would have promoted the lead earlier. "Reached SQL" is a qualify transition
  up to ``as_of``, as in the weekly report.
- ``nurture_signals``: the leads with an engagement in the window that nothing
  had promoted by its end (archived and disqualified leads aside), as they stood
  at the window's end and at its start. A looser candidate would have made some
  of them MQLs; nobody worked them, so none of them counts as reaching SQL.

The profile (employees, industry, country, source, campaign) is the lead's as
it is now: firmographics are not versioned, as in the what-if.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from django.db import connection

from apps.criteria import rules
from apps.criteria.models import EngagementKind
from apps.leads.models import Engagement, Lead, StageTransition
from apps.reports.weeks import WeekWindow

CHUNK_SIZE = 10_000
KINDS: tuple[str, ...] = tuple(EngagementKind.values)  # bit i of a kinds mask is KINDS[i]
FIT_CODES = {rules.FIT_PASS: 0, rules.FIT_FAIL: 1, rules.FIT_UNKNOWN: 2}
UNKNOWN = -1  # employees, or a category code, when the lead has none


@dataclass
class Vocabulary:
    """Text values as small integer codes (blank -> UNKNOWN), shared by both queries."""

    normalize: str = "lower"  # "lower" (industries, sources, campaigns) or "upper" (countries)
    values: list[str] = field(default_factory=list)
    codes: dict[str, int] = field(default_factory=dict)

    def code(self, raw: str | None) -> int:
        # Blank means missing, as in evaluate_fit; anything else is compared stripped.
        if not raw:
            return UNKNOWN
        text = raw.strip().upper() if self.normalize == "upper" else raw.strip().lower()
        found = self.codes.get(text)
        if found is None:
            found = self.codes[text] = len(self.values)
            self.values.append(text)
        return found

    def encode(self, column: Sequence[str | None]) -> np.ndarray:
        return np.fromiter((self.code(v) for v in column), dtype=np.int32, count=len(column))

    def codes_of(self, texts) -> np.ndarray:
        return np.array([self.codes[t] for t in texts if t in self.codes], dtype=np.int32)


@dataclass
class Profiles:
    """The firmographic part of a set of leads, as it is now."""

    employees: np.ndarray  # int64, UNKNOWN when missing
    industry: np.ndarray  # codes in industries
    country: np.ndarray  # codes in countries


@dataclass
class CohortSignals:
    """The window's MQLs: one element per lead, as of its first promotion in the window."""

    window: WeekWindow
    as_of: dt.datetime
    lead_ids: np.ndarray
    reached_sql: np.ndarray  # bool
    score: np.ndarray  # at promotion
    engagements: np.ndarray  # at promotion
    kind_counts: np.ndarray  # (leads, len(KINDS)) at promotion
    score_before: np.ndarray  # just before the window starts
    engagements_before: np.ndarray
    kinds_before: np.ndarray  # bit mask
    profiles: Profiles
    source: np.ndarray  # codes in sources
    campaign: np.ndarray  # codes in campaigns
    industries: Vocabulary
    countries: Vocabulary
    sources: Vocabulary
    campaigns: Vocabulary

    def __len__(self) -> int:
        return len(self.lead_ids)

    @property
    def kinds(self) -> np.ndarray:
        """The kinds each lead had done at promotion, as a bit mask."""
        bits = np.left_shift(np.int64(1), np.arange(len(KINDS), dtype=np.int64))
        return (self.kind_counts > 0).astype(np.int64) @ bits

    @property
    def sqls(self) -> int:
        return int(self.reached_sql.sum())


@dataclass
class NurtureSignals:
    """Leads no promotion had reached by the window's end, engaged in the window."""

    score: np.ndarray  # at the window's end
    engagements: np.ndarray
    kinds: np.ndarray  # bit mask
    score_before: np.ndarray  # at the window's start
    engagements_before: np.ndarray
    kinds_before: np.ndarray
    profiles: Profiles

    def __len__(self) -> int:
        return len(self.score)


# --- SQL -------------------------------------------------------------------------------------


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _tables() -> tuple[str, str, str]:
    return _table(StageTransition), _table(Lead), _table(Engagement)


def _moment(value: dt.datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _case_by_kind(values: dict[str, int]) -> tuple[str, list]:
    """``CASE e.kind WHEN %s THEN %s … ELSE 0 END`` and its parameters."""
    whens, params = [], []
    for kind, value in values.items():
        if value:
            whens.append("WHEN %s THEN %s")
            params += [kind, value]
    if not whens:
        return "0", []
    return f"(CASE e.kind {' '.join(whens)} ELSE 0 END)", params


def _days_before(column: str, days: int) -> str:
    """SQL for ``column`` minus ``days`` days (the decay cut-off relative to a per-row moment)."""
    if connection.vendor == "postgresql":
        return f"({column} - make_interval(days => {int(days)}))"
    return f"datetime({column}, '-{int(days)} days')"


def _points(table: rules.ScoringTable, *, cutoff_sql: str | None) -> tuple[str, list]:
    """One engagement's points at a moment whose decay cut-off is ``cutoff_sql`` (SQL or a %s)."""
    fresh, fresh_params = _case_by_kind(table.points)
    if table.decay_after_days is None or cutoff_sql is None:
        return fresh, fresh_params
    decayed, decayed_params = _case_by_kind(
        {kind: points * table.decayed_percent // 100 for kind, points in table.points.items()}
    )
    return (
        f"(CASE WHEN e.occurred_at < {cutoff_sql} THEN {decayed} ELSE {fresh} END)",
        [*decayed_params, *fresh_params],
    )


def _cutoff(table: rules.ScoringTable, moment: dt.datetime) -> list:
    if table.decay_after_days is None:
        return []
    return [_moment(moment - dt.timedelta(days=table.decay_after_days))]


KIND_BITS_SQL, KIND_BITS_PARAMS = _case_by_kind({kind: 1 << i for i, kind in enumerate(KINDS)})


def _before_window(table: rules.ScoringTable, start: dt.datetime) -> tuple[str, list]:
    """The count, score and kinds mask of engagements before ``start``: three aggregate columns."""
    points, points_params = _points(table, cutoff_sql="%s" if table.decay_after_days else None)
    sql = (
        "SUM(CASE WHEN e.occurred_at < %s THEN 1 ELSE 0 END), "
        f"COALESCE(SUM(CASE WHEN e.occurred_at < %s THEN {points} ELSE 0 END), 0), "
        f"COALESCE(SUM(DISTINCT CASE WHEN e.occurred_at < %s THEN {KIND_BITS_SQL} END), 0)"
    )
    # Each kind's bit is a distinct power of two, so SUM(DISTINCT bit) is the OR of the kinds seen.
    at = _moment(start)
    params = [at, at, *_cutoff(table, start), *points_params, at, *KIND_BITS_PARAMS]
    return sql, params


def _stream(sql: str, params: list) -> Iterator[list[tuple]]:
    """The rows of ``sql`` in chunks, from a server-side cursor where the database has one."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(CHUNK_SIZE):
            yield rows


def _columns(chunks: Iterator[list[tuple]], width: int) -> list[list]:
    columns: list[list] = [[] for _ in range(width)]
    for rows in chunks:
        for column, values in zip(columns, zip(*rows, strict=True), strict=True):
            column.extend(values)
    return columns


def _ints(values: list, *, missing: int = 0) -> np.ndarray:
    return np.fromiter(
        (missing if v is None else int(v) for v in values), dtype=np.int64, count=len(values)
    )


def _scores(raw: np.ndarray, table: rules.ScoringTable) -> np.ndarray:
    score = np.maximum(raw, 0)
    return np.minimum(score, table.cap) if table.cap is not None else score


def _kind_counts(columns: list[list]) -> np.ndarray:
    if not columns or not columns[0]:
        return np.zeros((0, len(KINDS)), dtype=np.int64)
    return np.column_stack([_ints(column) for column in columns])


def cohort_signals(
    *,
    window: WeekWindow,
    as_of: dt.datetime,
    table: rules.ScoringTable,
    vocabularies: dict[str, Vocabulary] | None = None,
) -> CohortSignals:
    """The window's MQLs and their signals as of each one's promotion (one query, streamed)."""
    vocabularies = vocabularies or new_vocabularies()
    at_promotion, at_promotion_params = _points(
        table, cutoff_sql=_days_before("c.promoted_at", table.decay_after_days or 0)
    )
    before_sql, before_params = _before_window(table, window.start)
    per_kind = ", ".join("SUM(CASE WHEN e.kind = %s THEN 1 ELSE 0 END)" for _ in KINDS)
    transitions, leads, engagements = _tables()
    sql = f"""
        SELECT c.lead_id, l.employees, l.industry, l.country, l.source, l.campaign,
               CASE WHEN EXISTS (
                   SELECT 1 FROM {transitions} q
                   WHERE q.lead_id = c.lead_id AND q.transition = 'qualify' AND q.at <= %s
               ) THEN 1 ELSE 0 END,
               COUNT(e.id), COALESCE(SUM({at_promotion}), 0), {per_kind}, {before_sql}
        FROM (
            SELECT lead_id, MIN(at) AS promoted_at FROM {transitions}
            WHERE transition = 'promote' AND at >= %s AND at < %s
            GROUP BY lead_id
        ) c
        JOIN {leads} l ON l.id = c.lead_id
        LEFT JOIN {engagements} e ON e.lead_id = c.lead_id AND e.occurred_at <= c.promoted_at
        GROUP BY c.lead_id, l.employees, l.industry, l.country, l.source, l.campaign
    """
    params = [
        _moment(as_of),
        *at_promotion_params,
        *KINDS,
        *before_params,
        _moment(window.start),
        _moment(min(window.end, as_of)),
    ]
    width = 9 + len(KINDS) + 3
    columns = _columns(_stream(sql, params), width)
    lead_ids, employees, industry, country, source, campaign, sql_flag, count, score = columns[:9]
    kinds = columns[9 : 9 + len(KINDS)]
    before_count, before_score, before_kinds = columns[9 + len(KINDS) :]
    return CohortSignals(
        window=window,
        as_of=as_of,
        lead_ids=_ints(lead_ids),
        reached_sql=_ints(sql_flag).astype(bool),
        score=_scores(_ints(score), table),
        engagements=_ints(count),
        kind_counts=_kind_counts(kinds),
        **_state_before(before_count, before_score, before_kinds, table),
        profiles=_profiles(employees, industry, country, vocabularies),
        source=vocabularies["sources"].encode(source),
        campaign=vocabularies["campaigns"].encode(campaign),
        industries=vocabularies["industries"],
        countries=vocabularies["countries"],
        sources=vocabularies["sources"],
        campaigns=vocabularies["campaigns"],
    )


def nurture_signals(
    *,
    window: WeekWindow,
    as_of: dt.datetime,
    table: rules.ScoringTable,
    vocabularies: dict[str, Vocabulary],
) -> NurtureSignals:
    """Leads engaged in the window that no promotion had reached by its end (one query, streamed)."""
    end = min(window.end, as_of)
    at_end, at_end_params = _points(table, cutoff_sql="%s" if table.decay_after_days else None)
    before_sql, before_params = _before_window(table, window.start)
    transitions, leads, engagements = _tables()
    sql = f"""
        SELECT l.employees, l.industry, l.country,
               COUNT(e.id), COALESCE(SUM({at_end}), 0),
               COALESCE(SUM(DISTINCT {KIND_BITS_SQL}), 0), {before_sql}
        FROM {leads} l
        JOIN {engagements} e ON e.lead_id = l.id AND e.occurred_at < %s
        WHERE l.id IN (
                SELECT w.lead_id FROM {engagements} w WHERE w.occurred_at >= %s AND w.occurred_at < %s
            )
          AND l.archived_at IS NULL
          AND (l.disqualified_at IS NULL OR l.disqualified_at >= %s)
          AND NOT EXISTS (
                SELECT 1 FROM {transitions} p
                WHERE p.lead_id = l.id AND p.transition = 'promote' AND p.at < %s
            )
        GROUP BY l.id, l.employees, l.industry, l.country
    """
    end_at, start_at = _moment(end), _moment(window.start)
    params = [
        *_cutoff(table, end),
        *at_end_params,
        *KIND_BITS_PARAMS,
        *before_params,
        end_at,
        start_at,
        end_at,
        end_at,
        end_at,
    ]
    columns = _columns(_stream(sql, params), 9)
    employees, industry, country, count, score, kinds, before_count, before_score, before_kinds = (
        columns
    )
    return NurtureSignals(
        score=_scores(_ints(score), table),
        engagements=_ints(count),
        kinds=_ints(kinds),
        **_state_before(before_count, before_score, before_kinds, table),
        profiles=_profiles(employees, industry, country, vocabularies),
    )


def _state_before(count, score, kinds, table: rules.ScoringTable) -> dict[str, np.ndarray]:
    """The columns of ``_before_window`` as the signals' ``*_before`` arrays."""
    return {
        "score_before": _scores(_ints(score), table),
        "engagements_before": _ints(count),
        "kinds_before": _ints(kinds),
    }


def new_vocabularies() -> dict[str, Vocabulary]:
    return {
        "industries": Vocabulary("lower"),
        "countries": Vocabulary("upper"),
        "sources": Vocabulary("lower"),
        "campaigns": Vocabulary("lower"),
    }


def _profiles(employees, industry, country, vocabularies) -> Profiles:
    return Profiles(
        employees=_ints(employees, missing=UNKNOWN),
        industry=vocabularies["industries"].encode(industry),
        country=vocabularies["countries"].encode(country),
    )


# --- fit, vectorised ---------------------------------------------------------------------------


def fit_verdicts(
    rule: rules.FitRuleValues,
    profiles: Profiles,
    *,
    industries: Vocabulary,
    countries: Vocabulary,
) -> np.ndarray:
    """``evaluate_fit`` for every lead at once: FIT_CODES (0 pass, 1 fail, 2 unknown)."""
    employees = profiles.employees
    known = employees != UNKNOWN
    fail = np.zeros(len(employees), dtype=bool)
    missing = np.zeros(len(employees), dtype=bool)
    if rule.employees_min is not None or rule.employees_max is not None:
        missing |= ~known
        if rule.employees_min is not None:
            fail |= known & (employees < rule.employees_min)
        if rule.employees_max is not None:
            fail |= known & (employees > rule.employees_max)
    for allowed, codes, vocabulary in (
        (rule.industries, profiles.industry, industries),
        (rule.countries, profiles.country, countries),
    ):
        if allowed:
            present = codes != UNKNOWN
            missing |= ~present
            fail |= present & ~np.isin(codes, vocabulary.codes_of(allowed))
    verdict = np.where(missing, FIT_CODES[rules.FIT_UNKNOWN], FIT_CODES[rules.FIT_PASS])
    return np.where(fail, FIT_CODES[rules.FIT_FAIL], verdict).astype(np.int8)
