"""Funnels with a known answer, built through the services as intake and sales would build them.

``worked_example``: the field's worked example of issue 14. A team whose loose
criteria (score ≥ 3, one engagement, no required kind, fit not required) hand
sales ~8% MQL→SQL, where the leads that convert are those with 3+ engagements,
50–500 employees and a pricing-page visit (28 of 100 of them reach SQL; a lead
with two of the three signals converts 1 time in 40; one with none, never).
Everything else (industry, country, source, campaign) is spread evenly.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.criteria.models import FitRule
from apps.leads.services import EngagementInput, engagements_record
from apps.reports.weeks import IsoWeek, WeekWindow
from tests.reports.conftest import NOW

WINDOW = WeekWindow.default(NOW)


LOOSE = {"score_threshold": 3, "min_engagements": 1, "required_kinds": [], "fit_required": False}
IN_FIT = (60, 150, 320, 480)  # 50–500 employees
OUT_OF_FIT = (15, 30, 800, 2500)
THIRD_KINDS = ("email_click", "webinar_registration", "event_visit")
REST_KINDS = (
    ("page_view", "content_download"),
    ("demo_request",),
    ("webinar_attendance",),
    ("email_click", "content_download"),
    ("webinar_registration", "event_visit"),
)


@dataclass
class Spec:
    group: str
    kinds: tuple[str, ...]
    employees: int
    reaches_sql: bool


def worked_example_specs() -> list[Spec]:
    """The worked example's 390 MQLs, in a fixed shuffled order."""
    specs = []

    def many(group, count, sqls, kinds_of, employees):
        for j in range(count):
            specs.append(Spec(group, kinds_of(j), employees[j % 4], j < sqls))

    def engaged(j, *, pricing):
        kinds = ("pricing_page_view",) if pricing else ("content_download",)
        kinds += ("page_view", THIRD_KINDS[j % 3])
        return kinds + (
            ("content_download",) if pricing and j % 2 else ("page_view",) if j % 2 else ()
        )

    many("ABC", 100, 28, lambda j: engaged(j, pricing=True), IN_FIT)
    many("AB", 40, 1, lambda j: engaged(j, pricing=False), IN_FIT)
    many("AC", 40, 1, lambda j: engaged(j, pricing=True), OUT_OF_FIT)
    many("BC", 40, 1, lambda j: ("pricing_page_view", "page_view"), IN_FIT)
    many("none", 170, 0, lambda j: REST_KINDS[j % len(REST_KINDS)], OUT_OF_FIT)
    random.Random(14).shuffle(specs)
    return specs


def promote_moment(index: int, weeks: list[IsoWeek]) -> dt.datetime:
    week = weeks[index % len(weeks)]
    # Wednesday to Sunday: the two days of engagements before it fall in the same week.
    return week.start + dt.timedelta(days=2 + index % 5, hours=10 + index % 7)


def build_funnel(
    history,
    specs: list[Spec],
    *,
    window: WeekWindow = WINDOW,
    nurture: int = 0,
    varied=True,
    offset: int = 0,
):
    """Each spec becomes a lead whose engagements (over the two days before) promote it in the
    window under the active criteria; those that reach SQL are accepted and qualified.
    ``varied``: industry, country, source and campaign take turns (else all leads share one);
    ``offset``: where the numbering starts, for a second call on the same database."""
    weeks = window.weeks
    industries, countries = ("software", "finance", "retail"), ("JP", "US")
    sources, campaigns = ("website", "webinar", "event"), ("spring", "summer")
    if not varied:
        industries, countries, sources, campaigns = (
            ("software",),
            ("JP",),
            ("website",),
            ("spring",),
        )
    for index, spec in enumerate(specs, start=offset):
        at = promote_moment(index, weeks)
        lead = history.lead(
            source=sources[(index // 6) % len(sources)],
            email=f"{spec.group.lower()}-{index}@example.com",
            employees=spec.employees,
            industry=industries[index % len(industries)],
            country=countries[(index // 3) % len(countries)],
            campaign=campaigns[(index // 18) % len(campaigns)],
        )
        start = at - dt.timedelta(days=2)
        step = dt.timedelta(days=2) / (len(spec.kinds) + 1)
        result = engagements_record(
            items=[
                EngagementInput(lead_id=lead.pk, kind=kind, occurred_at=start + step * (n + 1))
                for n, kind in enumerate(spec.kinds)
            ],
            now=at,
        )
        assert result.promoted_lead_ids == [lead.pk], spec
        if spec.reaches_sql:
            history.step(lead, "accept", at + dt.timedelta(hours=1))
            history.step(lead, "qualify", at + dt.timedelta(hours=5))
    for index in range(nurture):
        # Leads that one page view left short of any promotion.
        lead = history.lead(email=f"nurture-{index}@example.com", employees=40)
        engagements_record(
            items=[
                EngagementInput(
                    lead_id=lead.pk, kind="page_view", occurred_at=promote_moment(index, weeks)
                )
            ],
            now=promote_moment(index, weeks),
        )


def worked_example(history, *, window: WeekWindow = WINDOW) -> list[Spec]:
    """The worked example's twelve weeks of history (in ``window``); returns its lead specs."""
    FitRule.objects.update_or_create(pk=1, defaults={"employees_min": 10, "employees_max": 5000})
    history.publish_criteria(**LOOSE)
    specs = worked_example_specs()
    build_funnel(history, specs, window=window, nurture=30)
    return specs


def indistinguishable(history) -> list[Spec]:
    """~8% MQL→SQL where converters look exactly like everyone else: no criteria can pick them out."""
    FitRule.objects.update_or_create(pk=1, defaults={"employees_min": 10, "employees_max": 5000})
    history.publish_criteria(**LOOSE)
    specs = [
        Spec("same", ("pricing_page_view", "page_view", "email_click"), 150, index % 25 in (0, 12))
        for index in range(200)
    ]
    build_funnel(history, specs, varied=False)
    return specs


def queries_made(call) -> int:
    """How many SQL queries ``call()`` makes."""
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)
