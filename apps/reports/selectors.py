"""Reads for the reports: the §6 document of a week, computed with SQL aggregates.

Every figure is cohort-based and read from the append-only stage history
(``StageTransition``), so a report can be rebuilt for any past week with the
same answer. The cost follows one week's transitions (the ``(transition, at)``
and ``(lead, at)`` indexes), not the size of the tables: the per-lead work is
one correlated subquery per cohort row inside the database, and Python only
adds up a handful of (source, owner, criteria version) groups.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import translation

from apps.leads.models import StageTransition
from apps.leads.selectors import (
    BY_HAND,
    NOBODY,
    first_promotions,
    promotions_narrowed,
    reached_sql_condition,
)
from apps.reports.alerts import as_json_number, report_alerts, rounded_hours, rounded_rate
from apps.reports.models import ReportSettings, WeeklyReport
from apps.reports.weeks import IsoWeek

MANUAL = BY_HAND  # by_criteria_version key of a marketer's hand promotion
UNASSIGNED = NOBODY  # by_owner key of an MQL nobody was assigned

# The columns of the CSV export, one row per week (see ``report_csv_row``).
CSV_COLUMNS = (
    "week",
    "mqls",
    "sqls",
    "mql_to_sql_rate",
    "opportunities",
    "sql_to_opportunity_rate",
    "response_time_median_h",
    "response_time_p90_h",
    "accepted_in_time_rate",
    "processed_in_time_rate",
)


@dataclass(frozen=True)
class ComputedReport:
    week: IsoWeek
    as_of: dt.datetime
    document: dict
    thresholds: dict[str, str]
    previous_rate: Decimal | None


def interpolated_percentile(ordered: list[float], fraction: float) -> float | None:
    """The same interpolation as ``percentile_cont``, for databases without it (SQLite)."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


# --- the cohorts -----------------------------------------------------------------


def _in_week(rows: QuerySet, week: IsoWeek, as_of: dt.datetime) -> QuerySet:
    return rows.filter(at__gte=week.start, at__lt=week.end, at__lte=as_of)


@dataclass(frozen=True)
class CohortFilter:
    """Whose MQLs a report counts: one rep (username, or ``UNASSIGNED``), lead source (code)
    and criteria version (a number as text, or ``MANUAL``); blank fields do not narrow.

    Rep and version are those of the MQL's first promotion in the period (the keys of
    ``by_owner`` and ``by_criteria_version``), so a filtered report's figures are the
    matching row of the unfiltered report's splits.
    """

    owner: str = ""
    source: str = ""
    criteria: str = ""

    def __bool__(self) -> bool:
        return bool(self.owner or self.source or self.criteria)

    def narrow(self, promotions: QuerySet) -> QuerySet:
        return promotions_narrowed(
            promotions, owner=self.owner, source=self.source, criteria=self.criteria
        )

    def narrow_leads(self, rows: QuerySet, as_of: dt.datetime) -> QuerySet:
        """History rows (qualify, reject) of leads from the source with a matching promotion."""
        if not self:
            return rows
        promotions = self.narrow(
            StageTransition.objects.filter(transition="promote", at__lte=as_of)
        )
        return rows.filter(Exists(promotions.filter(lead=OuterRef("lead"))))

    def link_params(self) -> dict[str, str]:
        """The lead list's filters for the same leads (see ``apps.leads.filters``)."""
        params = {
            "promoted_owner": self.owner,
            "source": self.source,
            "promoted_criteria": self.criteria,
        }
        return {key: value for key, value in params.items() if value}


NO_FILTER = CohortFilter()


def mql_cohort(period, as_of: dt.datetime, cohort: CohortFilter = NO_FILTER) -> QuerySet:
    """One row per MQL of ``period`` (a week or a window of weeks): its first promote row in
    the period (``first_promotions``), narrowed by ``cohort``, annotated with what followed.

    ``accepted_at`` / ``answered_at`` / ``processed_at``: the first accept /
    accept-or-reject / qualify-or-reject at or after the promotion and up to
    ``as_of``; ``reached_sql``: a qualify up to ``as_of``. An MQL rejected
    before its accept deadline was answered in time (SPEC §6).
    """
    after = StageTransition.objects.filter(
        lead=OuterRef("lead"), at__gte=OuterRef("at"), at__lte=as_of
    )
    return (
        cohort.narrow(first_promotions(period.start, period.end, as_of=as_of))
        .annotate(
            accepted_at=Subquery(
                after.filter(transition="accept").order_by("at", "id").values("at")[:1]
            ),
            answered_at=Subquery(
                after.filter(transition__in=("accept", "reject"))
                .order_by("at", "id")
                .values("at")[:1]
            ),
            processed_at=Subquery(
                after.filter(transition__in=("qualify", "reject"))
                .order_by("at", "id")
                .values("at")[:1]
            ),
            reached_sql=reached_sql_condition(as_of),
        )
        .order_by()
    )


# Each correlated subquery of the cohort is evaluated once per MQL in the inner
# query; the outer query only counts, so its conditions read plain columns.
COHORT_GROUPS_SQL = """
SELECT source, owner_name, version,
       COUNT(*),
       SUM(CASE WHEN reached_sql THEN 1 ELSE 0 END),
       SUM(CASE WHEN answered_at <= accept_due_at THEN 1 ELSE 0 END),
       SUM(CASE WHEN answered_at IS NOT NULL OR accept_due_at <= %s THEN 1 ELSE 0 END),
       SUM(CASE WHEN processed_at <= process_due_at THEN 1 ELSE 0 END),
       SUM(CASE WHEN processed_at IS NOT NULL OR process_due_at <= %s THEN 1 ELSE 0 END)
FROM ({cohort}) cohort
GROUP BY source, owner_name, version
"""
GROUP_COUNTS = (
    "mqls",
    "sqls",
    "answered_in_time",
    "accept_measured",
    "processed_in_time",
    "process_measured",
)

RESPONSE_TIME_PERCENTILES_SQL = """
SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY accepted_at - promoted_at),
       PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY accepted_at - promoted_at)
FROM ({cohort}) cohort
WHERE accepted_at IS NOT NULL
"""


def _cohort_columns(
    week, as_of: dt.datetime, cohort: CohortFilter = NO_FILTER
) -> tuple[str, tuple]:
    """The cohort as SQL with plainly named columns, for the aggregates above."""
    rows = (
        mql_cohort(week, as_of, cohort)
        .annotate(
            source=F("lead__source"),
            owner_name=F("owner__username"),
            version=F("criteria__version"),
            promoted_at=F("at"),
        )
        .values_list(
            "source",
            "owner_name",
            "version",
            "promoted_at",
            "accept_due_at",
            "process_due_at",
            "accepted_at",
            "answered_at",
            "processed_at",
            "reached_sql",
        )
    )
    return rows.query.sql_with_params()


def cohort_groups(period, as_of: dt.datetime, cohort: CohortFilter = NO_FILTER) -> list[dict]:
    """Conditional counts per (source, owner, criteria version) of ``period``'s MQLs: one GROUP BY query.

    ``period`` is a week (the weekly document) or a window of weeks (the dashboard's
    splits, where an MQL promoted in two of the weeks counts once).
    """
    sql, params = _cohort_columns(period, as_of, cohort)
    moment = connection.ops.adapt_datetimefield_value(as_of)
    with connection.cursor() as cursor:
        cursor.execute(COHORT_GROUPS_SQL.format(cohort=sql), (moment, moment, *params))
        return [
            {
                "source": source,
                "owner": owner,
                "version": version,
                **dict(zip(GROUP_COUNTS, (int(n or 0) for n in counts), strict=True)),
            }
            for source, owner, version, *counts in cursor.fetchall()
        ]


def _mql_to_sql_counts(
    week: IsoWeek, as_of: dt.datetime, cohort: CohortFilter = NO_FILTER
) -> tuple[int, int]:
    totals = mql_cohort(week, as_of, cohort).aggregate(
        mqls=Count("id"), sqls=Count("id", filter=Q(reached_sql=True))
    )
    return totals["mqls"], totals["sqls"]


def _sql_cohort_counts(
    week: IsoWeek, as_of: dt.datetime, cohort: CohortFilter = NO_FILTER
) -> tuple[int, int]:
    """(SQLs of the week, how many of them were converted to an opportunity up to ``as_of``)."""
    converted = Exists(
        StageTransition.objects.filter(lead=OuterRef("lead"), transition="convert", at__lte=as_of)
    )
    totals = (
        cohort.narrow_leads(
            _in_week(StageTransition.objects.filter(transition="qualify"), week, as_of), as_of
        )
        .annotate(converted=converted)
        .aggregate(
            sqls=Count("lead", distinct=True),
            opportunities=Count("lead", distinct=True, filter=Q(converted=True)),
        )
    )
    return totals["sqls"], totals["opportunities"]


def _response_time_hours(
    week: IsoWeek, as_of: dt.datetime, cohort: CohortFilter = NO_FILTER
) -> tuple[Decimal | None, Decimal | None]:
    """Median and 90th percentile of promote → first accept, in hours (``percentile_cont`` on PostgreSQL)."""
    if connection.vendor == "postgresql":
        sql, params = _cohort_columns(week, as_of, cohort)
        with connection.cursor() as cursor:
            cursor.execute(RESPONSE_TIME_PERCENTILES_SQL.format(cohort=sql), params)
            median, p90 = (
                None if wait is None else wait.total_seconds() / 3600 for wait in cursor.fetchone()
            )
    else:
        # Bounded by one week's MQLs: fetch the waits and interpolate the same way.
        accepted = mql_cohort(week, as_of, cohort).filter(accepted_at__isnull=False)
        waits = sorted(
            (accepted_at - promoted_at).total_seconds() / 3600
            for accepted_at, promoted_at in accepted.values_list("accepted_at", "at")
        )
        median, p90 = interpolated_percentile(waits, 0.5), interpolated_percentile(waits, 0.9)
    return rounded_hours(median), rounded_hours(p90)


def _reject_reasons(
    week: IsoWeek, as_of: dt.datetime, cohort: CohortFilter = NO_FILTER
) -> dict[str, int]:
    rows = (
        cohort.narrow_leads(
            _in_week(StageTransition.objects.filter(transition="reject"), week, as_of), as_of
        )
        .order_by()
        .values("reason")
        .annotate(n=Count("id"))
        .order_by("-n", "reason")
    )
    return {row["reason"] or "": row["n"] for row in rows}


def previous_week_rate(
    week: IsoWeek, as_of: dt.datetime, cohort: CohortFilter = NO_FILTER
) -> Decimal | None:
    """The previous week's MQL→SQL rate as it stood one week before ``as_of``.

    Both cohorts are then the same age, so a week is not flagged as a drop only
    because its MQLs have had less time to reach SQL; for reports built on
    schedule this is the rate the previous week's report showed.
    """
    mqls, sqls = _mql_to_sql_counts(week.previous(), as_of - dt.timedelta(weeks=1), cohort)
    return rounded_rate(sqls, mqls)


# --- the document ----------------------------------------------------------------


def _segment(mqls: int, sqls: int) -> dict:
    return {"mqls": mqls, "sqls": sqls, "mql_to_sql_rate": as_json_number(rounded_rate(sqls, mqls))}


def _segments(counts: dict[str, list[int]]) -> dict[str, dict]:
    ordered = sorted(counts.items(), key=lambda item: (-item[1][0], item[0]))
    return {key: _segment(mqls, sqls) for key, (mqls, sqls) in ordered}


def weekly_report_compute(
    *,
    week: IsoWeek,
    as_of: dt.datetime,
    thresholds: dict[str, str] | None = None,
    cohort: CohortFilter = NO_FILTER,
) -> ComputedReport:
    """The SPEC §6 document of ``week`` with conversions counted up to ``as_of``.

    Definitions (the README's "Reports" section has them in full): MQLs of W
    are the leads with a promote in W; ``mql_to_sql_rate`` is the share of
    them with a qualify up to ``as_of`` (``sqls``); ``opportunities`` are the
    leads qualified in W converted up to ``as_of``. Alerts use
    ``thresholds`` (default: the admin-edited ``ReportSettings``), with
    messages in the site's language. ``cohort`` narrows every figure to one rep, source
    or criteria version (the dashboard's filters; such documents are never stored).
    """
    if thresholds is None:
        thresholds = ReportSettings.load().thresholds()
    totals = defaultdict(int)
    by_source: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_owner: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_version: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for group in cohort_groups(week, as_of, cohort):
        for key in GROUP_COUNTS:
            totals[key] += group[key]
        version = group["version"]
        for bucket, key in (
            (by_source, group["source"]),
            (by_owner, group["owner"] or UNASSIGNED),
            (by_version, MANUAL if version is None else str(version)),
        ):
            bucket[key][0] += group["mqls"]
            bucket[key][1] += group["sqls"]

    mql_to_sql = rounded_rate(totals["sqls"], totals["mqls"])
    # `sqls` is the MQL cohort's (MQLs of W that reached SQL), as in by_source and the rate;
    # the SQL→opportunity rate follows its own cohort, the leads qualified in W.
    qualified, opportunities = _sql_cohort_counts(week, as_of, cohort)
    median, p90 = _response_time_hours(week, as_of, cohort)
    previous_rate = previous_week_rate(week, as_of, cohort)
    with translation.override(settings.LANGUAGE_CODE):
        alerts = [
            alert.as_dict()
            for alert in report_alerts(
                rate=mql_to_sql,
                previous_rate=previous_rate,
                thresholds=thresholds,
                whole_team=not cohort,
                mqls=totals["mqls"],
            )
        ]
    document = {
        "week": str(week),
        "mqls": totals["mqls"],
        "sqls": totals["sqls"],
        "mql_to_sql_rate": as_json_number(mql_to_sql),
        "opportunities": opportunities,
        "sql_to_opportunity_rate": as_json_number(rounded_rate(opportunities, qualified)),
        "by_source": _segments(by_source),
        "by_owner": _segments(by_owner),
        "by_criteria_version": _segments(by_version),
        "response_time_hours": {"median": as_json_number(median), "p90": as_json_number(p90)},
        "sla": {
            "accepted_in_time_rate": as_json_number(
                rounded_rate(totals["answered_in_time"], totals["accept_measured"])
            ),
            "processed_in_time_rate": as_json_number(
                rounded_rate(totals["processed_in_time"], totals["process_measured"])
            ),
        },
        "reject_reasons": _reject_reasons(week, as_of, cohort),
        "alerts": alerts,
    }
    return ComputedReport(
        week=week,
        as_of=as_of,
        document=document,
        thresholds=dict(thresholds),
        previous_rate=previous_rate,
    )


def localized_alerts(
    *, rate: float | None, previous_rate: Decimal | None, thresholds: dict, **judged
) -> list[dict]:
    """A report's alerts worded in the active language (the stored document keeps the site's);
    ``judged``: ``whole_team`` and ``mqls`` for a filtered report (see ``report_alerts``)."""
    current = None if rate is None else Decimal(str(rate))
    return [
        alert.as_dict()
        for alert in report_alerts(
            rate=current, previous_rate=previous_rate, thresholds=thresholds, **judged
        )
    ]


def stored_reports(weeks: list[IsoWeek]) -> dict[str, WeeklyReport]:
    """The stored reports of ``weeks``, by week: one query."""
    return {
        report.week: report
        for report in WeeklyReport.objects.filter(week__in=[str(w) for w in weeks])
    }


# --- exports ---------------------------------------------------------------------


def report_csv_row(document: dict) -> list:
    """One CSV row of ``CSV_COLUMNS`` for a report document (empty cells for nulls)."""
    values = {
        **document,
        "response_time_median_h": document["response_time_hours"]["median"],
        "response_time_p90_h": document["response_time_hours"]["p90"],
        "accepted_in_time_rate": document["sla"]["accepted_in_time_rate"],
        "processed_in_time_rate": document["sla"]["processed_in_time_rate"],
    }
    return ["" if values[column] is None else values[column] for column in CSV_COLUMNS]
