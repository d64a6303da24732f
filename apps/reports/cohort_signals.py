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

Each joins its leads with the engagement table as one set, grouped in SQL,
rather than probing the table lead by lead: a window's leads are most of the
leads, and given the memory (``WORK_MEM``) PostgreSQL hashes them and reads the
engagements in one scan instead of a row at a time in no useful order.

The profile (employees, industry, country, source, campaign) is the lead's as
it is now: firmographics are not versioned, as in the what-if.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from django.db import connection, transaction

from apps.criteria import rules
from apps.criteria.models import EngagementKind
from apps.leads.models import Engagement, Lead, StageTransition
from apps.reports.weeks import WeekWindow

CHUNK_SIZE = 10_000
WORK_MEM = "256MB"  # per hash of a streamed query on PostgreSQL (see _stream)
KINDS: tuple[str, ...] = tuple(EngagementKind.values)  # bit i of a kinds mask is KINDS[i]
FIT_CODES = {rules.FIT_PASS: 0, rules.FIT_FAIL: 1, rules.FIT_UNKNOWN: 2}
UNKNOWN = -1  # employees, or a category code, when the lead has none


@dataclass
class Vocabulary:
    """Text values as small integer codes (blank -> UNKNOWN), shared by both queries."""

    normalize: str = "lower"  # "lower" (industries, sources, campaigns) or "upper" (countries)
    values: list[str] = field(default_factory=list)
    codes: dict[str, int] = field(default_factory=dict)
    seen: dict[str | None, int] = field(default_factory=dict)  # raw text -> code, as met

    def code(self, raw: str | None) -> int:
        found = self.seen.get(raw)
        if found is not None:
            return found
        # Blank means missing, as in evaluate_fit; anything else is compared stripped.
        if not raw:
            found = UNKNOWN
        else:
            text = raw.strip().upper() if self.normalize == "upper" else raw.strip().lower()
            found = self.codes.get(text)
            if found is None:
                found = self.codes[text] = len(self.values)
                self.values.append(text)
        self.seen[raw] = found
        return found

    def encode(self, column: Sequence[str | None]) -> np.ndarray:
        seen, code = self.seen, self.code
        return np.fromiter(
            (seen[v] if v in seen else code(v) for v in column), dtype=np.int32, count=len(column)
        )

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
        return (self.kind_counts > 0).astype(np.int64) @ KIND_BITS

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


def _case_by_kind(column: str, values: dict[str, int]) -> tuple[str, list]:
    """``CASE <column> WHEN %s THEN %s … ELSE 0 END`` and its parameters."""
    whens, params = [], []
    for kind, value in values.items():
        if value:
            whens.append("WHEN %s THEN %s")
            params += [kind, value]
    if not whens:
        return "0", []
    return f"(CASE {column} {' '.join(whens)} ELSE 0 END)", params


def _days_before(column: str, days: int) -> str:
    """SQL for ``column`` minus ``days`` days (the decay cut-off relative to a per-row moment)."""
    if connection.vendor == "postgresql":
        return f"({column} - make_interval(days => {int(days)}))"
    return f"datetime({column}, '-{int(days)} days')"


def _per_kind(
    *,
    table: rules.ScoringTable,
    start: dt.datetime,
    until: tuple[str, list],
    decay_cutoff: tuple[str, list],
) -> tuple[str, list]:
    """SELECT, for every lead of CTE ``c`` and every kind it did, how many times it did it.

    Columns: ``c.lead_id``, the kind's index in KINDS (-1 for a kind no longer known),
    the count, how many of those count decayed (before ``decay_cutoff``), how many came
    before ``start`` and how many of those count decayed at ``start``. ``until`` bounds
    each lead's history: an SQL condition on ``e.occurred_at`` with its parameters.
    """
    decays = table.decay_after_days is not None
    old_sql, old_params = decay_cutoff if decays else ("", [])
    before_old = [_moment(start - dt.timedelta(days=table.decay_after_days))] if decays else []
    index_sql, index_params = _case_by_kind("e.kind", {kind: i + 1 for i, kind in enumerate(KINDS)})
    counts = (
        f"{index_sql} - 1 AS kind, COUNT(*) AS n, "
        + (f"SUM(CASE WHEN e.occurred_at < {old_sql} THEN 1 ELSE 0 END)" if decays else "0")
        + " AS n_old, SUM(CASE WHEN e.occurred_at < %s THEN 1 ELSE 0 END) AS n_before, "
        + ("SUM(CASE WHEN e.occurred_at < %s THEN 1 ELSE 0 END)" if decays else "0")
        + " AS n_before_old"
    )
    params = [*index_params, *old_params, _moment(start), *before_old, *until[1]]
    sql = (
        f"SELECT c.lead_id, {counts} FROM c JOIN {_table(Engagement)} e "
        f"ON e.lead_id = c.lead_id AND {until[0]} GROUP BY c.lead_id, e.kind"
    )
    return sql, params


def _stream(sql: str, params: list) -> Iterator[list[tuple]]:
    """The rows of ``sql`` in chunks, from a server-side cursor where the database has one.

    On PostgreSQL the query runs with JIT compilation off: its CASE expressions cost
    more to compile (PostgreSQL's JIT kicks in on the planner's cost estimate) than
    to run. It also gets WORK_MEM, so that its hash joins and aggregates over the
    window's leads stay in memory. Both settings are local: they end with the transaction.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as settings_cursor:
                settings_cursor.execute(
                    "SELECT set_config('jit', 'off', true), set_config('work_mem', %s, true)",
                    [WORK_MEM],
                )
        with connection.chunked_cursor() as cursor:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(CHUNK_SIZE):
                yield rows


def _columns(chunks: Iterator[list[tuple]], names: list[str]) -> dict[str, list]:
    columns: list[list] = [[] for _ in names]
    for rows in chunks:
        for column, values in zip(columns, zip(*rows, strict=True), strict=True):
            column.extend(values)
    return dict(zip(names, columns, strict=True))


def _int_rows(chunks: Iterator[list[tuple]]) -> np.ndarray:
    """Rows of integers as one 2-D array, converted a chunk at a time."""
    arrays = [np.array(rows, dtype=np.int64) for rows in chunks]
    return np.vstack(arrays) if arrays else np.zeros((0, len(PER_KIND_COLUMNS)), dtype=np.int64)


def _ints(values) -> np.ndarray:
    return np.array(values, dtype=np.int64).reshape(-1)


PER_KIND_COLUMNS = ["lead_id", "kind", "n", "n_old", "n_before", "n_before_old"]


@dataclass
class History:
    """Per lead (in the order of ``lead_ids``): what it had done up to a moment, and before the window."""

    engagements: np.ndarray
    score: np.ndarray
    kind_counts: np.ndarray  # (leads, len(KINDS))
    engagements_before: np.ndarray
    score_before: np.ndarray
    kinds_before: np.ndarray  # bit mask

    @property
    def kinds(self) -> np.ndarray:
        return (self.kind_counts > 0).astype(np.int64) @ KIND_BITS

    @classmethod
    def of(cls, lead_ids: np.ndarray, rows: dict[str, list], table: rules.ScoringTable) -> History:
        """Sum the per-kind rows of ``_per_kind`` into one history per lead of ``lead_ids`` (sorted)."""
        kinds = len(KINDS)
        lead = np.searchsorted(lead_ids, _ints(rows["lead_id"]))
        kind = _ints(rows["kind"])
        known = kind >= 0  # a kind since removed from the vocabulary scores nothing
        cells = lead[known] * kinds + kind[known]

        def per_cell(name: str) -> np.ndarray:
            counted = np.bincount(
                cells, weights=_ints(rows[name])[known], minlength=len(lead_ids) * kinds
            )
            return counted.reshape(len(lead_ids), kinds).astype(np.int64)

        n, old = per_cell("n"), per_cell("n_old")
        before, before_old = per_cell("n_before"), per_cell("n_before_old")
        points = np.array([table.points.get(k, 0) for k in KINDS], dtype=np.int64)
        decayed = points * table.decayed_percent // 100
        return cls(
            engagements=np.bincount(lead, weights=_ints(rows["n"]), minlength=len(lead_ids)).astype(
                np.int64
            ),
            score=_scores((n - old) @ points + old @ decayed, table),
            kind_counts=n,
            engagements_before=np.bincount(
                lead, weights=_ints(rows["n_before"]), minlength=len(lead_ids)
            ).astype(np.int64),
            score_before=_scores((before - before_old) @ points + before_old @ decayed, table),
            kinds_before=(before > 0).astype(np.int64) @ KIND_BITS,
        )


KIND_BITS = np.left_shift(np.int64(1), np.arange(len(KINDS), dtype=np.int64))


def _scores(raw: np.ndarray, table: rules.ScoringTable) -> np.ndarray:
    score = np.maximum(raw, 0)
    return np.minimum(score, table.cap) if table.cap is not None else score


PROFILE_SQL = "COALESCE(l.employees, -1) AS employees, l.industry, l.country"
PROFILE_COLUMNS = ["employees", "industry", "country"]


def cohort_signals(
    *,
    window: WeekWindow,
    as_of: dt.datetime,
    table: rules.ScoringTable,
    vocabularies: dict[str, Vocabulary] | None = None,
) -> CohortSignals:
    """The window's MQLs and their signals as of each one's promotion (two queries, streamed)."""
    vocabularies = vocabularies or new_vocabularies()
    transitions, leads, _engagements = _tables()
    cohort = f"""
        WITH c AS (
            SELECT lead_id, MIN(at) AS promoted_at FROM {transitions}
            WHERE transition = 'promote' AND at >= %s AND at < %s
            GROUP BY lead_id
        )
    """
    cohort_params = [_moment(window.start), _moment(min(window.end, as_of))]
    profiles_sql = f"""{cohort}
        SELECT c.lead_id, {PROFILE_SQL}, l.source, l.campaign,
               CASE WHEN EXISTS (
                   SELECT 1 FROM {transitions} q
                   WHERE q.lead_id = c.lead_id AND q.transition = 'qualify' AND q.at <= %s
               ) THEN 1 ELSE 0 END
        FROM c JOIN {leads} l ON l.id = c.lead_id
        ORDER BY c.lead_id
    """
    profiles = _columns(
        _stream(profiles_sql, [*cohort_params, _moment(as_of)]),
        ["lead_id", *PROFILE_COLUMNS, "source", "campaign", "sql"],
    )
    per_kind_sql, per_kind_params = _per_kind(
        table=table,
        start=window.start,
        until=("e.occurred_at <= c.promoted_at", []),
        decay_cutoff=(_days_before("c.promoted_at", table.decay_after_days or 0), []),
    )
    lead_ids = _ints(profiles["lead_id"])
    per_kind = _int_rows(_stream(f"{cohort} {per_kind_sql}", cohort_params + per_kind_params))
    history = History.of(lead_ids, dict(zip(PER_KIND_COLUMNS, per_kind.T, strict=True)), table)
    return CohortSignals(
        window=window,
        as_of=as_of,
        lead_ids=lead_ids,
        reached_sql=_ints(profiles["sql"]).astype(bool),
        score=history.score,
        engagements=history.engagements,
        kind_counts=history.kind_counts,
        score_before=history.score_before,
        engagements_before=history.engagements_before,
        kinds_before=history.kinds_before,
        profiles=_profiles(profiles, vocabularies),
        source=vocabularies["sources"].encode(profiles["source"]),
        campaign=vocabularies["campaigns"].encode(profiles["campaign"]),
        industries=vocabularies["industries"],
        countries=vocabularies["countries"],
        sources=vocabularies["sources"],
        campaigns=vocabularies["campaigns"],
    )


def _totals(*, table: rules.ScoringTable, start: dt.datetime, end: dt.datetime) -> tuple[str, list]:
    """SELECT, for every lead of CTE ``c``, its count, score and kinds before ``end`` and ``start``.

    Columns: ``c.lead_id``, the profile of ``c``, then ``TOTAL_COLUMNS``. Scores use
    the points each engagement is worth at ``end`` (``start``), decay included; kinds
    are bit masks (``_kinds_mask``).
    """
    fresh, fresh_params = _case_by_kind("e.kind", table.points)
    decayed, decayed_params = _case_by_kind(
        "e.kind", {k: p * table.decayed_percent // 100 for k, p in table.points.items()}
    )

    def points_at(moment: dt.datetime) -> tuple[str, list]:
        if table.decay_after_days is None:
            return fresh, fresh_params
        cutoff = _moment(moment - dt.timedelta(days=table.decay_after_days))
        sql = f"(CASE WHEN e.occurred_at < %s THEN {decayed} ELSE {fresh} END)"
        return sql, [cutoff, *decayed_params, *fresh_params]

    at_end, at_end_params = points_at(end)
    at_start, at_start_params = points_at(start)
    start_at = _moment(start)
    kinds, kinds_params = _kinds_mask()
    kinds_before, kinds_before_params = _kinds_mask(("e.occurred_at < %s", [start_at]))
    totals = (
        f"COUNT(*) AS n, SUM({at_end}) AS score, {kinds} AS kinds, "
        "SUM(CASE WHEN e.occurred_at < %s THEN 1 ELSE 0 END) AS n_before, "
        f"SUM(CASE WHEN e.occurred_at < %s THEN {at_start} ELSE 0 END) AS score_before, "
        f"{kinds_before} AS kinds_before"
    )
    params = [
        *at_end_params,
        *kinds_params,
        start_at,
        start_at,
        *at_start_params,
        *kinds_before_params,
        _moment(end),
    ]
    engagements, profile = _table(Engagement), "c.employees, c.industry, c.country"
    sql = (
        f"SELECT c.lead_id, {profile}, {totals} FROM c JOIN {engagements} e "
        f"ON e.lead_id = c.lead_id AND e.occurred_at < %s GROUP BY c.lead_id, {profile}"
    )
    return sql, params


def _kinds_mask(condition: tuple[str, list] = ("", [])) -> tuple[str, list]:
    """An aggregate: the kinds done (where ``condition`` holds) as a bit mask.

    Each kind's bit is a distinct power of two, so the sum of one MAX per kind is their
    OR; unlike SUM(DISTINCT …), MAX lets PostgreSQL hash the groups rather than sort them.
    """
    when, when_params = (f" AND {condition[0]}", condition[1]) if condition[0] else ("", [])
    parts, params = [], []
    for i, kind in enumerate(KINDS):
        parts.append(f"MAX(CASE WHEN e.kind = %s{when} THEN {1 << i} ELSE 0 END)")
        params += [kind, *when_params]
    return f"({' + '.join(parts)})", params


TOTAL_COLUMNS = ["n", "score", "kinds", "n_before", "score_before", "kinds_before"]


def nurture_signals(
    *,
    window: WeekWindow,
    as_of: dt.datetime,
    table: rules.ScoringTable,
    vocabularies: dict[str, Vocabulary],
) -> NurtureSignals:
    """Leads engaged in the window that no promotion had reached by its end (one query, streamed)."""
    end = min(window.end, as_of)
    transitions, leads, engagements = _tables()
    end_at = _moment(end)
    totals_sql, totals_params = _totals(table=table, start=window.start, end=end)
    sql = f"""
        WITH c AS (
            SELECT l.id AS lead_id, {PROFILE_SQL} FROM {leads} l
            WHERE l.id IN (
                    SELECT w.lead_id FROM {engagements} w
                    WHERE w.occurred_at >= %s AND w.occurred_at < %s
                )
              AND l.archived_at IS NULL
              AND (l.disqualified_at IS NULL OR l.disqualified_at >= %s)
              AND NOT EXISTS (
                    SELECT 1 FROM {transitions} p
                    WHERE p.lead_id = l.id AND p.transition = 'promote' AND p.at < %s
                )
        ) {totals_sql}
    """
    params = [_moment(window.start), end_at, end_at, end_at, *totals_params]
    rows = _columns(_stream(sql, params), ["lead_id", *PROFILE_COLUMNS, *TOTAL_COLUMNS])
    return NurtureSignals(
        score=_scores(_ints(rows["score"]), table),
        engagements=_ints(rows["n"]),
        kinds=_ints(rows["kinds"]),
        score_before=_scores(_ints(rows["score_before"]), table),
        engagements_before=_ints(rows["n_before"]),
        kinds_before=_ints(rows["kinds_before"]),
        profiles=_profiles(rows, vocabularies),
    )


def new_vocabularies() -> dict[str, Vocabulary]:
    return {
        "industries": Vocabulary("lower"),
        "countries": Vocabulary("upper"),
        "sources": Vocabulary("lower"),
        "campaigns": Vocabulary("lower"),
    }


def _profiles(columns: dict[str, list], vocabularies) -> Profiles:
    return Profiles(
        employees=_ints(columns["employees"]),
        industry=vocabularies["industries"].encode(columns["industry"]),
        country=vocabularies["countries"].encode(columns["country"]),
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
