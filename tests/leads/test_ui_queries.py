"""Each page costs the same number of SQL queries for 5 leads as for 50 (SPEC §9)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import LeadFactory
from tests.leads.helpers import engage, mqls, run_transition, walk_to

pytestmark = pytest.mark.django_db


def queries_for(client, url):
    client.get(url)  # warm the session, permission and content-type caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def rejected(n, *, marketer, manager):
    leads = mqls(n, marketer=marketer, manager=manager)
    for lead in leads:
        run_transition(lead, "reject", actor=manager, data={"reason": "no_need", "note": "x"})
    return leads


@pytest.mark.parametrize(
    "viewer, url_name, query, make",
    [
        pytest.param("rep", "leads:inbox", "", mqls, id="the rep inbox, MQLs"),
        pytest.param(
            "marketer", "leads:list", "?sla=on_time&sort=-score&q=e", mqls, id="the lead list, MQLs"
        ),
        pytest.param(
            "marketer", "leads:review", "?reason=no_need", rejected, id="the review queue, rejected"
        ),
    ],
)
def test_a_list_costs_the_same_for_5_and_50_leads(
    client, rep, marketer, manager, viewer, url_name, query, make
):
    client.force_login({"rep": rep, "marketer": marketer}[viewer])
    url = reverse(url_name) + query
    make(5, marketer=marketer, manager=manager)
    five = queries_for(client, url)
    make(45, marketer=marketer, manager=manager)
    fifty = queries_for(client, url)
    assert five == fifty


def test_the_team_inbox_and_pool_cost_the_same_for_5_and_50_mqls(client, rep, marketer, manager):
    def make(assigned, pooled):
        rep.accepts_new_leads = True
        rep.save()
        mqls(assigned, marketer=marketer, manager=manager)
        rep.accepts_new_leads = False  # away: new MQLs wait in the pool
        rep.save()
        mqls(pooled, marketer=marketer, manager=manager)

    client.force_login(manager)
    make(3, 2)
    five = queries_for(client, reverse("leads:inbox"))
    make(22, 23)
    fifty = queries_for(client, reverse("leads:inbox"))
    assert five == fifty


def test_the_lead_page_costs_the_same_for_5_and_50_engagements_and_transitions(
    client, marketer, manager, rep
):
    client.force_login(manager)
    lead = walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager)
    engage(lead, *["page_view"] * 5)
    url = reverse("leads:detail", args=[lead.pk])
    few = queries_for(client, url)

    engage(lead, *["page_view"] * 45)
    for _ in range(12):  # reject / resubmit rounds: 24 more history rows
        run_transition(lead, "reject", actor=manager, data={"reason": "bad_timing"})
        run_transition(lead, "resubmit", actor=marketer, data={"note": "Try again"})
    many = queries_for(client, url)
    assert few == many
