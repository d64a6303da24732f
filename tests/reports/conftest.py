"""Hand-built histories for the reports: every transition made through the lifecycle service at a set time."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.criteria.models import MQLCriteria
from apps.leads.services import EngagementInput, engagements_record, lead_transition
from tests.browser.conftest import (  # noqa: F401  (for the browser tests in this folder)
    browser,
    compiled_catalogue,
    live_server,
    open_page,
    plain_http_server_settings,
)
from tests.factories import LeadFactory
from tests.leads.helpers import form_values

TOKYO = ZoneInfo("Asia/Tokyo")
H = dt.timedelta(hours=1)

# Engagements worth 12 points with a pricing page view: they meet the default MQL criteria.
QUALIFYING_KINDS = ("pricing_page_view", "demo_request", "page_view")

# SPEC §6: the keys of the weekly report document (API and stored report), in order, and the
# header line of the weekly CSV export (dashboard and `weekly_report --format csv`).
REPORT_KEYS = (
    "week mqls sqls mql_to_sql_rate opportunities sql_to_opportunity_rate by_source by_owner "
    "by_criteria_version response_time_hours sla reject_reasons alerts"
).split()
CSV_HEADER_LINE = (
    "week,mqls,sqls,mql_to_sql_rate,opportunities,sql_to_opportunity_rate,"
    "response_time_median_h,response_time_p90_h,accepted_in_time_rate,processed_in_time_rate"
)


@pytest.fixture
def tokyo(settings):
    """The site runs in Japan: weeks start on Monday 00:00 JST (Sunday 15:00 UTC)."""
    settings.TIME_ZONE = "Asia/Tokyo"
    return TOKYO


@pytest.fixture
def team(team):
    """The team, with Mona reading in Japanese: reports reach each reader in their language."""
    team["mona"].language = "ja"
    team["mona"].save(update_fields=["language"])
    return team


def jst(year, month, day, hour=0, minute=0):
    return dt.datetime(year, month, day, hour, minute, tzinfo=TOKYO)


NOW = jst(2026, 5, 20, 12)  # Wednesday of 2026-W21: the default window is W09–W20


@pytest.fixture
def at_now():
    """The pages and the API are read at ``NOW``."""
    with time_machine.travel(NOW, tick=False):
        yield


def only_rep_taking_leads(rep):
    """Round-robin gives the next MQL to ``rep`` (None: to nobody)."""
    User = get_user_model()
    User.objects.filter(groups__name="sales").update(accepts_new_leads=False)
    if rep is not None:
        User.objects.filter(pk=rep.pk).update(accepts_new_leads=True)


def bant_for(at):
    """A BANT qualification that meets the default SQL criteria on the day of ``at``."""
    return {
        "budget_amount": "25000",
        "budget_currency": "USD",
        "authority": "decision_maker",
        "need": "Route web leads to reps within minutes",
        "timeline": (timezone.localdate(at) + dt.timedelta(days=30)).isoformat(),
    }


class History:
    """Make leads and their stage changes at given moments, as people and the scoring engine would."""

    def __init__(self, team):
        self.team = team

    def lead(self, source="website", **fields):
        return LeadFactory(source_id=source, **fields)

    def promote_by_hand(self, lead, at, *, owner):
        only_rep_taking_leads(owner)
        return lead_transition(
            lead=lead.pk,
            name="promote",
            actor=self.team["maya"],
            values=form_values("promote", {"reason": "Asked for a demo at the booth"}, at=at),
            at=at,
        )

    def mqls_of_week20(self, sources, *, owner, accepted_at, rejected_at=None):
        """MQLs promoted by hand an hour apart from Tuesday 12 May 2026 09:00 (2026-W20), one per source.

        The first is accepted at ``accepted_at`` and qualified on Wednesday 09:00; with
        ``rejected_at``, the last is rejected then for no budget.
        """
        leads = []
        for i, source in enumerate(sources):
            lead = self.lead(source)
            self.promote_by_hand(lead, jst(2026, 5, 12, 9 + i), owner=owner)
            if i == 0:
                self.step(lead, "accept", accepted_at)
                self.step(lead, "qualify", jst(2026, 5, 13, 9))
            leads.append(lead)
        if rejected_at is not None:
            self.step(leads[-1], "reject", rejected_at, reason="no_budget")
        return leads

    def promote_by_scoring(self, lead, at, *, owner):
        """Engagements at ``at`` that make the active criteria promote the lead."""
        only_rep_taking_leads(owner)
        result = engagements_record(
            items=[
                EngagementInput(lead_id=lead.pk, kind=kind, occurred_at=at)
                for kind in QUALIFYING_KINDS
            ],
            now=at,
        )
        assert result.promoted_lead_ids == [lead.pk]
        return lead.transitions.get(transition="promote", at=at)

    def step(self, lead, name, at, **data):
        if name == "qualify":
            data = {**bant_for(at), **data}
        if name == "convert":
            data = {
                "amount": "30000",
                "currency": "USD",
                "expected_close_date": (timezone.localdate(at) + dt.timedelta(days=60)).isoformat(),
                **data,
            }
        return lead_transition(
            lead=lead.pk,
            name=name,
            actor=self.team["mona"],
            values=form_values(name, data, at=at),
            at=at,
        )

    def recycle(self, lead, at):
        return lead_transition(lead=lead.pk, name="recycle", actor=self.team["maya"], at=at)

    @staticmethod
    def publish_criteria(**values):
        return MQLCriteria.publish(values=values, author=None, note="test")


@pytest.fixture
def history(team):
    return History(team)
