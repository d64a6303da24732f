"""The lead page: profile, fit, score breakdown, timeline, history, BANT and the user's transitions."""

import pytest
from django.urls import reverse

from apps.leads.models import Lead
from apps.leads.services import lead_transition
from tests.factories import LeadFactory
from tests.leads.helpers import QUALIFYING_BANT, engage, run_transition, walk_to

pytestmark = pytest.mark.django_db


def page(client, lead):
    return client.get(reverse("leads:detail", args=[lead.pk]))


def buttons(body):
    """The transition forms the page offers, by their URLs."""
    import re

    return set(re.findall(r'action="/leads/\d+/transitions/(\w+)/"', body))


def owned_mql(rep, *, marketer, manager, **profile):
    lead = walk_to(LeadFactory(**profile), "mql", marketer=marketer, manager=manager)
    assert lead.owner == rep
    return lead


def test_the_page_shows_profile_fit_with_its_rule_and_the_score_by_engagement_kind(
    client, marketer
):
    lead = LeadFactory(
        company="Kumo Systems", employees=12, industry="software", country="JP", fit="fail"
    )
    engage(lead, "page_view", "page_view", "content_download")
    client.force_login(marketer)

    body = page(client, lead).content.decode()

    assert "Kumo Systems" in body and "software" in body
    assert "12 employees is below the minimum of 50" in body
    breakdown = body.split('id="score-title"')[1].split("</section>")[0]
    assert "Page view" in breakdown and "Content download" in breakdown
    assert '<td class="num">2</td>' in breakdown  # two page views
    assert "Engagement timeline" in body


def test_the_history_says_who_did_what_when_and_why(client, rep, marketer, manager):
    lead = owned_mql(rep, marketer=marketer, manager=manager)
    run_transition(
        lead, "reject", actor=rep, data={"reason": "no_budget", "note": "Student project"}
    )
    client.force_login(marketer)

    history = page(client, lead).content.decode().split('id="history-title"')[1]

    assert "Promoted to MQL" in history and "Asked for a call at the booth" in history
    assert "Rejected" in history and "No budget" in history and "Student project" in history
    assert str(rep) in history and str(marketer) in history


def test_the_history_says_whom_each_handover_gave_the_lead_to(
    client, rep, other_rep, marketer, manager
):
    lead = owned_mql(rep, marketer=marketer, manager=manager)
    run_transition(lead, "reject", actor=rep, data={"reason": "no_need"})
    resubmit = {"note": "They asked again", "owner": other_rep.username}
    run_transition(lead, "resubmit", actor=marketer, data=resubmit)
    client.force_login(marketer)

    history = page(client, lead).content.decode().split('id="history-title"')[1]

    assert f"to {rep}" in history.split("Rejected")[0]  # the promotion gave it to Rita
    assert f"to {other_rep}" in history.split("Resubmitted")[1]  # the resubmission, to Oscar
    assert history.count(" · to ") == 2  # the rejection handed it to nobody


def test_an_owner_rep_gets_accept_and_reject_buttons_on_an_mql(client, rep, marketer, manager):
    lead = owned_mql(rep, marketer=marketer, manager=manager)
    client.force_login(rep)

    assert buttons(page(client, lead).content.decode()) == {"accept", "reject"}


def test_a_marketer_gets_the_review_actions_on_a_rejected_lead_and_no_sales_ones(
    client, rep, marketer, manager
):
    lead = walk_to(LeadFactory(), "rejected", marketer=marketer, manager=manager)
    client.force_login(marketer)

    assert buttons(page(client, lead).content.decode()) == {"recycle", "resubmit", "disqualify"}


def test_a_manager_can_also_reassign_an_owned_lead(client, rep, marketer, manager):
    lead = owned_mql(rep, marketer=marketer, manager=manager)
    client.force_login(manager)

    assert buttons(page(client, lead).content.decode()) == {"accept", "reject", "reassign"}


def test_a_rep_cannot_open_another_reps_lead(client, rep, other_rep, marketer, manager):
    mine = owned_mql(rep, marketer=marketer, manager=manager)
    theirs = walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager)
    assert theirs.owner == other_rep
    client.force_login(rep)

    assert page(client, mine).status_code == 200
    response = page(client, theirs)
    assert response.status_code == 404
    assert "There is nothing here for you" in response.content.decode()


def test_qualifying_from_the_bant_form_makes_an_sql(client, rep, marketer, manager):
    lead = owned_mql(rep, marketer=marketer, manager=manager)
    lead_transition(lead=lead.pk, name="accept", actor=rep)
    client.force_login(rep)
    assert 'id="bant-title"' in page(client, lead).content.decode()

    response = client.post(
        reverse("leads:transition", args=[lead.pk, "qualify"]),
        {"expected_stage": "accepted", **QUALIFYING_BANT},
        follow=True,
    )

    lead.refresh_from_db()
    assert lead.stage == "sql"
    body = response.content.decode()
    assert "is now an SQL" in body
    assert "Replace spreadsheets for lead routing" in body  # the qualification on the page


def test_reassigning_a_lead_to_its_own_owner_says_so_by_the_owner_field(
    client, rep, marketer, manager
):
    lead = owned_mql(rep, marketer=marketer, manager=manager)
    client.force_login(manager)

    response = client.post(
        reverse("leads:transition", args=[lead.pk, "reassign"]),
        {"expected_stage": "mql", "owner": rep.username},
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert f"The lead already belongs to {rep}." in body
    assert 'aria-describedby="id_reassign_owner_error"' in body  # said by the owner field
    assert Lead.objects.get(pk=lead.pk).owner == rep


def test_a_stale_lead_page_says_the_lead_changed(client, rep, marketer, manager):
    lead = owned_mql(rep, marketer=marketer, manager=manager)
    run_transition(lead, "reject", actor=manager, data={"reason": "duplicate"})
    client.force_login(rep)

    response = client.post(
        reverse("leads:transition", args=[lead.pk, "accept"]),
        {"expected_stage": "mql"},
        follow=True,
    )

    assert response.status_code == 200
    assert "This lead has changed: it is now Rejected" in response.content.decode()
    assert Lead.objects.get(pk=lead.pk).stage == "rejected"


def test_an_unknown_transition_is_not_found(client, rep, marketer, manager):
    lead = owned_mql(rep, marketer=marketer, manager=manager)
    client.force_login(rep)

    assert client.post(reverse("leads:transition", args=[lead.pk, "teleport"])).status_code == 404


def test_an_engagement_heavy_lead_shows_the_latest_fifty(client, marketer):
    lead = LeadFactory()
    engage(lead, *(["page_view"] * 55))
    client.force_login(marketer)

    body = page(client, lead).content.decode()

    assert "Showing the latest 50 of 55 engagements." in body
