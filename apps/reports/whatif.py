"""The MQL-criteria what-if (SPEC §3): proposed criteria replayed over the last N weeks of leads.

Read-only. Each lead's engagements are streamed from the database in time
order (one pass, in chunks) and replayed with the same pure functions the live
scoring uses (``ScoringTable.points_for`` with decay as of each moment,
``evaluate_fit``, ``mql_unmet``). For the current and the proposed criteria it
records the first moment the lead would have met them; that moment's week is
the week it would have become an MQL. "Reached SQL" is what really happened:
the lead has a qualify transition.

Simplifications, shown on the page: fit is the lead's fit *as it is now*
(firmographics are not versioned), and the replay ignores recycles (a lead
counts once, in the week it would first have qualified).
"""

from __future__ import annotations

import bisect
import datetime as dt
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter

from django.db.models import Subquery
from django.utils import timezone

from apps.criteria import rules
from apps.criteria.models import FitRule, MQLCriteria, ScoringSettings
from apps.leads.models import Engagement, Lead, StageTransition
from apps.leads.selectors import new_leads_meeting
from apps.reports.alerts import rounded_rate
from apps.reports.weeks import IsoWeek

DEFAULT_WEEKS = 8
MAX_WEEKS = 26
CHUNK_SIZE = 5000


def preview_weeks(value, default: int = DEFAULT_WEEKS) -> int:
    """The N of "last N weeks" from user input: a whole number from 1 to 26, else the default."""
    try:
        weeks = int(value)
    except (TypeError, ValueError):
        return default
    return min(max(weeks, 1), MAX_WEEKS)


def first_qualifying_moments(
    engagements: Iterable[tuple[str, dt.datetime]],
    *,
    table: rules.ScoringTable,
    fit: str,
    criteria: Sequence[rules.MQLRule],
    fits: Sequence[str] | None = None,
) -> list[dt.datetime | None]:
    """For each rule in ``criteria``, the first engagement time at which the lead met it (or None).

    ``engagements`` are one lead's (kind, occurred_at) in time order; ``fits``,
    when given, is the lead's fit under each rule's fit rule (else ``fit`` for all). The score
    at each moment is what ``score_of(table, history, now=that moment)`` would
    give, kept incrementally: an engagement's points switch to their decayed
    value once it is older than the decay window.
    """
    fits = list(fits) if fits is not None else [fit] * len(criteria)
    met: list[dt.datetime | None] = [None] * len(criteria)
    pending = list(range(len(criteria)))
    history: list[tuple[str, dt.datetime, int]] = []
    raw_score = 0
    fresh_from = 0  # history[:fresh_from] already counts decayed points
    kinds: set[str] = set()
    decay = (
        dt.timedelta(days=table.decay_after_days) if table.decay_after_days is not None else None
    )
    for kind, at in engagements:
        points = table.points_for(kind, at, at)
        history.append((kind, at, points))
        raw_score += points
        kinds.add(kind)
        if decay is not None:
            cutoff = at - decay
            while fresh_from < len(history) and history[fresh_from][1] < cutoff:
                old_kind, old_at, old_points = history[fresh_from]
                raw_score += table.points_for(old_kind, old_at, at) - old_points
                fresh_from += 1
        score = table.capped(raw_score)
        for index in list(pending):
            rule = criteria[index]
            if score < rule.score_threshold or len(history) < rule.min_engagements:
                # Plainly not met yet; spares mql_unmet wording (and translating) a message
                # for every unmet criterion at every engagement. mql_unmet still decides.
                continue
            if not rules.mql_unmet(
                rule, score=score, engagement_count=len(history), kinds=kinds, fit=fits[index]
            ):
                met[index] = at
                pending.remove(index)
        if not pending:
            break
    return met


@dataclass
class WeekCounts:
    week: IsoWeek
    complete: bool
    current_mqls: int = 0
    current_sqls: int = 0
    proposed_mqls: int = 0
    proposed_sqls: int = 0

    @property
    def current_rate(self):
        return rounded_rate(self.current_sqls, self.current_mqls)

    @property
    def proposed_rate(self):
        return rounded_rate(self.proposed_sqls, self.proposed_mqls)

    @property
    def mql_change(self) -> int:
        return self.proposed_mqls - self.current_mqls


@dataclass
class WhatIfResult:
    weeks: list[WeekCounts]
    current: rules.MQLRule
    proposed: rules.MQLRule
    # The fit rule the proposal brings (a draft made from a suggestion may change it); None: unchanged.
    proposed_fit: rules.FitRuleValues | None = None
    leads_replayed: int = 0
    engagements_replayed: int = 0
    seconds: float = 0.0
    totals: WeekCounts | None = field(default=None)
    # New leads that meet the proposed criteria today: publishing offers to promote them.
    meeting_now: int = 0


def current_mql_rule() -> rules.MQLRule:
    """The active criteria, read without creating anything (the defaults if there are none)."""
    active = MQLCriteria.objects.filter(is_active=True).first()
    return active.as_rule() if active else rules.MQLRule()


def criteria_whatif(
    *,
    proposed: rules.MQLRule,
    weeks: int = DEFAULT_WEEKS,
    now: dt.datetime | None = None,
    current: rules.MQLRule | None = None,
    proposed_fit: rules.FitRuleValues | None = None,
) -> WhatIfResult:
    """MQLs per week, and how many of them reached SQL, under ``current`` and ``proposed`` criteria.

    The window is the ``weeks`` ISO weeks ending with the current one (which
    is counted so far). Leads with an engagement in the window are replayed
    with their whole engagement history up to ``now``; a lead counts in the
    week it would first have met the criteria, if that week is in the window.
    ``proposed_fit``: the fit rule the proposal would set (default: the current one).
    """
    started = time.perf_counter()
    now = now or timezone.now()
    current = current or current_mql_rule()
    table = ScoringSettings.current_table()
    fit_rule = FitRule.load().as_rule()
    window = IsoWeek.containing(now).last(preview_weeks(weeks))
    starts = [week.start for week in window]
    counts = [WeekCounts(week=week, complete=week.is_complete(now)) for week in window]

    in_window = Engagement.objects.filter(occurred_at__gte=starts[0], occurred_at__lte=now).values(
        "lead_id"
    )
    leads = Lead.objects.filter(pk__in=Subquery(in_window))
    fit_rules = (fit_rule, proposed_fit or fit_rule)
    fits = {
        pk: [
            rules.evaluate_fit(
                rule, employees=employees, industry=industry, country=country
            ).verdict
            for rule in fit_rules
        ]
        for pk, employees, industry, country in leads.values_list(
            "pk", "employees", "industry", "country"
        )
    }
    reached_sql = set(
        StageTransition.objects.filter(
            transition="qualify", lead__in=Subquery(leads.values("pk"))
        ).values_list("lead_id", flat=True)
    )
    stream = (
        Engagement.objects.filter(lead__in=Subquery(in_window), occurred_at__lte=now)
        .order_by("lead_id", "occurred_at", "id")
        .values_list("lead_id", "kind", "occurred_at")
        .iterator(chunk_size=CHUNK_SIZE)
    )
    result = WhatIfResult(
        weeks=counts, current=current, proposed=proposed, proposed_fit=proposed_fit
    )
    criteria = (current, proposed)
    for lead_id, rows in groupby(stream, key=itemgetter(0)):
        history = [(kind, at) for _lead, kind, at in rows]
        result.leads_replayed += 1
        result.engagements_replayed += len(history)
        moments = first_qualifying_moments(
            history,
            table=table,
            fit=rules.FIT_UNKNOWN,
            criteria=criteria,
            fits=fits.get(lead_id),
        )
        for which, moment in zip(("current", "proposed"), moments, strict=True):
            if moment is None or moment < starts[0]:
                continue
            week = counts[bisect.bisect_right(starts, moment) - 1]
            setattr(week, f"{which}_mqls", getattr(week, f"{which}_mqls") + 1)
            if lead_id in reached_sql:
                setattr(week, f"{which}_sqls", getattr(week, f"{which}_sqls") + 1)
    result.totals = WeekCounts(
        week=window[-1],
        complete=False,
        current_mqls=sum(w.current_mqls for w in counts),
        current_sqls=sum(w.current_sqls for w in counts),
        proposed_mqls=sum(w.proposed_mqls for w in counts),
        proposed_sqls=sum(w.proposed_sqls for w in counts),
    )
    result.meeting_now = new_leads_meeting(proposed).count()
    result.seconds = time.perf_counter() - started
    return result
