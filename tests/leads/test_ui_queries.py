"""Each page costs the same number of SQL queries for 5 leads as for 50 (SPEC §9)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.leads.services import lead_transition
from tests.factories import LeadFactory
from tests.leads.helpers import engage, form_values, walk_to

pytestmark = pytest.mark.django_db


def queries_for(client, url):
    client.get(url)  # warm the session, permission and content-type caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def make_mqls(n, *, marketer, manager):
    return [walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager) for _ in range(n)]


def make_rejected(n, *, marketer, manager):
    leads = make_mqls(n, marketer=marketer, manager=manager)
    for lead in leads:
        lead_transition(
            lead=lead.pk,
            name="reject",
            actor=manager,
            values=form_values("reject", {"reason": "no_need", "note": "x"}),
        )
    return leads


def test_the_rep_inbox_costs_the_same_for_5_and_50_mqls(client, rep, marketer, manager):
    client.force_login(rep)
    make_mqls(5, marketer=marketer, manager=manager)
    five = queries_for(client, reverse("leads:inbox"))
    make_mqls(45, marketer=marketer, manager=manager)
    fifty = queries_for(client, reverse("leads:inbox"))
    assert five == fifty


def test_the_team_inbox_and_pool_cost_the_same_for_5_and_50_mqls(client, rep, marketer, manager):
    def make(assigned, pooled):
        rep.accepts_new_leads = True
        rep.save()
        make_mqls(assigned, marketer=marketer, manager=manager)
        rep.accepts_new_leads = False  # away: new MQLs wait in the pool
        rep.save()
        make_mqls(pooled, marketer=marketer, manager=manager)

    client.force_login(manager)
    make(3, 2)
    five = queries_for(client, reverse("leads:inbox"))
    make(22, 23)
    fifty = queries_for(client, reverse("leads:inbox"))
    assert five == fifty


def test_the_lead_list_costs_the_same_for_5_and_50_leads_with_filters(
    client, marketer, manager, rep
):
    client.force_login(marketer)
    url = reverse("leads:list") + "?sla=on_time&sort=-score&q=e"
    make_mqls(5, marketer=marketer, manager=manager)
    five = queries_for(client, url)
    make_mqls(45, marketer=marketer, manager=manager)
    fifty = queries_for(client, url)
    assert five == fifty


def test_the_review_queue_costs_the_same_for_5_and_50_rejected_leads(
    client, marketer, manager, rep
):
    client.force_login(marketer)
    make_rejected(5, marketer=marketer, manager=manager)
    url = reverse("leads:review") + "?reason=no_need"
    five = queries_for(client, url)
    make_rejected(45, marketer=marketer, manager=manager)
    fifty = queries_for(client, url)
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
        lead_transition(
            lead=lead.pk,
            name="reject",
            actor=manager,
            values=form_values("reject", {"reason": "bad_timing"}),
        )
        lead_transition(
            lead=lead.pk,
            name="resubmit",
            actor=marketer,
            values=form_values("resubmit", {"note": "Try again"}),
        )
    many = queries_for(client, url)
    assert few == many
