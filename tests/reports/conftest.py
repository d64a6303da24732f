"""Hand-built histories for the reports: every transition made through the lifecycle service at a set time."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.criteria.models import MQLCriteria
from apps.leads.services import EngagementInput, engagements_record, lead_transition
from tests.factories import LeadFactory
from tests.leads.helpers import form_values

TOKYO = ZoneInfo("Asia/Tokyo")
H = dt.timedelta(hours=1)

# Engagements worth 12 points with a pricing page view: they meet the default MQL criteria.
QUALIFYING_KINDS = ("pricing_page_view", "demo_request", "page_view")


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
