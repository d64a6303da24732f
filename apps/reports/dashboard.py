"""What the reports dashboard shows, assembled from the weeks' report documents.

Pure presentation over documents already computed: totals over the weeks,
translated labels, and the SVG charts. Two small queries read the labels of
lead sources and reject reasons.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from apps.criteria.models import LeadSource, RejectReason
from apps.leads.labels import translated_label
from apps.reports import charts
from apps.reports.alerts import (
    MIN_JUDGED_MQLS,
    as_json_number,
    rate_percent_text,
    rounded_rate,
)
from apps.reports.selectors import (
    MANUAL,
    NO_FILTER,
    UNASSIGNED,
    CohortFilter,
    localized_alerts,
)
from apps.reports.services import ReportWeek, window_groups
from apps.reports.weeks import IsoWeek, WeekWindow

TOP_SOURCES = 7  # the rest are drawn together as "other sources"


@dataclass(frozen=True)
class SourceRow:
    code: str
    label: str
    mqls: int
    sqls: int
    rate: float | None
    series_class: str
    link: str = ""  # the leads behind the numbers: the lead list, filtered
    sql_link: str = ""


@dataclass(frozen=True)
class SplitRow:
    key: str
    label: str
    mqls: int
    sqls: int
    rate: float | None
    link: str = ""
    sql_link: str = ""


def _split(groups, key: str) -> list[tuple[str, int, int]]:
    """(key, MQLs, SQLs) per rep, source or criteria version of the window's cohort groups."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for group in groups:
        code = group[key]
        if key == "owner":
            code = code or UNASSIGNED
        elif key == "version":
            code = MANUAL if code is None else str(code)
        totals[code][0] += group["mqls"]
        totals[code][1] += group["sqls"]
    return sorted(((k, m, q) for k, (m, q) in totals.items()), key=lambda r: (-r[1], r[0]))


@dataclass(frozen=True)
class Drill:
    """Links from a figure to the lead list holding exactly the leads it counts."""

    first: IsoWeek
    last: IsoWeek
    cohort: CohortFilter
    as_of: dt.datetime | None  # when the SQLs were counted

    def mqls(self, **narrower) -> str:
        return self._link(**narrower)

    def sqls(self, **narrower) -> str:
        return self._link(sql_by=self.as_of.isoformat(), **narrower) if self.as_of else ""

    def _link(self, **extra) -> str:
        query = {
            "promoted_from": self.first.monday.isoformat(),
            "promoted_to": self.last.sunday.isoformat(),
            **self.cohort.link_params(),
        }
        for key, value in extra.items():
            key = {"owner": "promoted_owner", "criteria": "promoted_criteria"}.get(key, key)
            query[key] = value
        return f"{_lead_list_path(get_script_prefix())}?{urlencode(query)}"


@functools.cache
def _lead_list_path(script_prefix: str) -> str:
    """The lead list's address, reversed once (a dashboard links a hundred figures to it)."""
    return reverse("leads:list")


def week_drill(row: ReportWeek, cohort: CohortFilter) -> Drill:
    return Drill(row.week, row.week, cohort, row.as_of)


def splits_context(groups, drill: Drill | None) -> dict:
    """The per-rep and per-criteria-version splits of the window's MQLs (each counted once)."""
    owners = _split(groups, "owner")
    names = {
        user.username: str(user)
        for user in get_user_model().objects.filter(username__in=[k for k, _m, _q in owners])
    }
    names.setdefault(UNASSIGNED, _("Unassigned"))

    def row(key, label, mqls, sqls, field):
        return SplitRow(
            key,
            label,
            mqls,
            sqls,
            as_json_number(rounded_rate(sqls, mqls)),
            drill.mqls(**{field: key}) if drill else "",
            drill.sqls(**{field: key}) if drill else "",
        )

    return {
        "owner_rows": [row(key, names.get(key, key), m, q, "owner") for key, m, q in owners],
        "criteria_rows": [
            row(
                key,
                criteria_version_label(key),
                m,
                q,
                "criteria",
            )
            for key, m, q in _split(groups, "version")
        ],
    }


def criteria_version_label(key: str) -> str:
    """A row of the per-criteria-version split: "Criteria v3", or the hand promotions'."""
    if key == MANUAL:
        return _("Promoted by hand")
    return _("Criteria v%(version)s") % {"version": key}


def _labels(model) -> dict[str, str]:
    return {
        code: translated_label(label) for code, label in model.objects.values_list("code", "label")
    }


def _num(value: float) -> str:
    return f"{value:.1f}"


def _short(week) -> str:
    return f"W{week.week:02d}"


def _week_name(row: ReportWeek) -> str:
    span = f"{date_format(row.week.monday, 'MONTH_DAY_FORMAT')} – {date_format(row.week.sunday, 'MONTH_DAY_FORMAT')}"
    suffix = "" if row.complete else f" ({_('so far')})"
    return f"{row.week} · {span}{suffix}"


def dashboard_context(
    weeks: Sequence[ReportWeek],
    *,
    target_percent: Decimal,
    loose_percent: Decimal | None = None,
    strict_percent: Decimal | None = None,
    cohort: CohortFilter = NO_FILTER,
    now: dt.datetime | None = None,
) -> dict:
    """Everything the dashboard template needs, for ``weeks`` (oldest first, the current one last).

    The per-source, per-rep and per-criteria tables count the MQLs of all the weeks
    together (one query: a lead promoted in two of the weeks counts once), as of ``now``.
    """
    now = now or timezone.now()
    target = float(target_percent) / 100
    labels = [_short(row.week) for row in weeks]
    names = [_week_name(row) for row in weeks]
    partial = [not row.complete for row in weeks]
    docs = [row.document for row in weeks]
    complete = [row for row in weeks if row.complete]
    latest = complete[-1] if complete else None
    source_labels, reason_labels = _labels(LeadSource), _labels(RejectReason)

    # --- by source, rep and criteria version, over all the weeks
    if weeks:
        groups, counted_at = window_groups(
            window=WeekWindow(weeks[0].week, weeks[-1].week), now=now, cohort=cohort
        )
        drill = Drill(weeks[0].week, weeks[-1].week, cohort, counted_at)
    else:
        drill, groups = None, []
    ranked = [(code, (m, q)) for code, m, q in _split(groups, "source")]
    shown, rest = ranked[:TOP_SOURCES], ranked[TOP_SOURCES:]
    source_rows = [
        SourceRow(
            code,
            source_labels.get(code, code),
            mqls,
            sqls,
            as_json_number(rounded_rate(sqls, mqls)),
            f"series-{index}",
            drill.mqls(source=code),
            drill.sqls(source=code),
        )
        for index, (code, (mqls, sqls)) in enumerate(shown)
    ]
    series = [
        (row.label, [doc["by_source"].get(row.code, {}).get("mqls", 0) for doc in docs])
        for row in source_rows
    ]
    if rest:
        other_codes = {code for code, _counts in rest}
        mqls, sqls = sum(c[0] for _code, c in rest), sum(c[1] for _code, c in rest)
        source_rows.append(
            SourceRow(
                "",
                _("Other sources"),
                mqls,
                sqls,
                as_json_number(rounded_rate(sqls, mqls)),
                f"series-{len(source_rows)}",
                drill.mqls(source_other=",".join(row.code for row in source_rows)),
                drill.sqls(source_other=",".join(row.code for row in source_rows)),
            )
        )
        series.append(
            (
                _("Other sources"),
                [
                    sum(
                        seg["mqls"] for code, seg in doc["by_source"].items() if code in other_codes
                    )
                    for doc in docs
                ],
            )
        )

    # --- reject reasons, over all the weeks
    reasons: dict[str, int] = defaultdict(int)
    for doc in docs:
        for code, count in doc["reject_reasons"].items():
            reasons[code] += count
    reason_rows = sorted(
        ((reason_labels.get(code, code or _("(none)")), n) for code, n in reasons.items()),
        key=lambda item: (-item[1], item[0]),
    )
    # Drawn as HTML bars (label and count in the page's own type, readable on a phone).
    most = max([n for _label, n in reason_rows] + [1])
    reason_bars = [
        {"label": label, "count": n, "width": _num(100 * n / most)} for label, n in reason_rows
    ]

    target_text = _("Target %(rate)s%%") % {"rate": rate_percent_text(target)}
    # The alert lines beside the target: drawn in the trend chart, named in its legend.
    bands = [
        (float(value) / 100, text % {"rate": rate_percent_text(float(value) / 100)})
        for value, text in (
            (loose_percent, _("Too loose below %(rate)s%%")),
            (strict_percent, _("Too strict above %(rate)s%%")),
        )
        if value is not None
    ]
    rates = [doc["mql_to_sql_rate"] for doc in docs]
    context = {
        **splits_context(groups, drill),
        "drill": drill,
        "latest_drill": week_drill(latest, cohort) if latest else None,
        "week_rows": [
            (row, name, week_drill(row, cohort)) for row, name in zip(weeks, names, strict=True)
        ],
        "weeks": weeks,
        "rows": list(zip(weeks, names, strict=True)),
        "latest": latest,
        "current": weeks[-1] if weeks and not weeks[-1].complete else None,
        "target": target,
        "source_rows": source_rows,
        "reason_rows": reason_rows,
        "alerts": localized_alerts(
            rate=latest.document["mql_to_sql_rate"],
            previous_rate=latest.previous_rate,
            thresholds=latest.thresholds,
            whole_team=not cohort,
            mqls=latest.document["mqls"],
        )
        if latest
        else [],
        "too_few_to_judge": bool(cohort and latest and latest.document["mqls"] < MIN_JUDGED_MQLS),
        "min_judged_mqls": MIN_JUDGED_MQLS,
        "trend_chart": charts.conversion_trend_chart(
            labels=labels,
            names=names,
            partial=partial,
            target=target,
            bands=bands,
            rates=rates,
            mqls=[doc["mqls"] for doc in docs],
            sqls=[doc["sqls"] for doc in docs],
            text={
                "title": _("MQLs, SQLs and MQL→SQL rate per week"),
                "desc": _(
                    "Bars: MQLs and SQLs of each week (left axis). Line: the share of each week's MQLs "
                    "that reached SQL (right axis). Dashed line: the target."
                ),
                "mqls": _("MQLs"),
                "sqls": _("SQLs"),
                "target": target_text,
            },
        ),
        "sources_chart": charts.stacked_bars_chart(
            labels=labels,
            names=names,
            series=series,
            partial=partial,
            title=_("MQLs per week by lead source"),
            desc=_("Each bar is one week's MQLs, split by lead source."),
        ),
        "response_chart": charts.lines_chart(
            labels=labels,
            names=names,
            percent=False,
            uid="response",
            partial=partial,
            series=[
                (
                    "line-median",
                    _("Median"),
                    [doc["response_time_hours"]["median"] for doc in docs],
                ),
                (
                    "line-p90",
                    _("90th percentile"),
                    [doc["response_time_hours"]["p90"] for doc in docs],
                ),
            ],
            title=_("Response time, MQL to accept (hours)"),
            unit=_("hours"),
            desc=_(
                "Median and 90th percentile of the hours from becoming an MQL to being accepted, per week."
            ),
        ),
        "sla_chart": charts.lines_chart(
            labels=labels,
            names=names,
            percent=True,
            uid="sla",
            partial=partial,
            series=[
                (
                    "line-accept",
                    _("Accepted in time"),
                    [doc["sla"]["accepted_in_time_rate"] for doc in docs],
                ),
                (
                    "line-process",
                    _("Processed in time"),
                    [doc["sla"]["processed_in_time_rate"] for doc in docs],
                ),
            ],
            title=_("SLA compliance"),
            desc=_(
                "Share of each week's MQLs accepted within the accept SLA, and qualified or rejected "
                "within the processing SLA."
            ),
        ),
        "reason_bars": reason_bars,
        "bands": bands,
    }
    return context
