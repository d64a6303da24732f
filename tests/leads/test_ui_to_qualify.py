"""The "To qualify" queue: accepted leads waiting on BANT, nearest process-by first."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.leads.models import Lead
from apps.leads.services import lead_transition
from tests.factories import LeadFactory
from tests.leads.helpers import QUALIFYING_BANT, form_values, walk_to
from tests.leads.test_ui_inbox import mql_owned_by

pytestmark = pytest.mark.django_db
URL = reverse("leads:to_qualify")


def accepted_by(rep, *, marketer, manager, **profile):
    lead = mql_owned_by(rep, marketer=marketer, manager=manager, **profile)
    lead_transition(lead=lead.pk, name="accept", actor=rep, values=form_values("accept", {}))
    lead.refresh_from_db()
    return lead


def test_a_rep_sees_their_accepted_leads_nearest_deadline_first_with_bant_one_click_away(
    client, rep, other_rep, marketer, manager
):
    later = accepted_by(rep, marketer=marketer, manager=manager, company="Later Co")
    sooner = accepted_by(rep, marketer=marketer, manager=manager, company="Sooner Co")
    accepted_by(other_rep, marketer=marketer, manager=manager, company="Someone Else Co")
    Lead.objects.filter(pk=sooner.pk).update(process_due_at=timezone.now() + dt.timedelta(hours=2))
    client.force_login(rep)
    body = client.get(URL).content.decode()
    assert body.index("Sooner Co") < body.index("Later Co")
    assert "Someone Else Co" not in body
    assert f'href="/leads/{sooner.pk}/?next=%2Fleads%2Fto-qualify%2F#bant-title"' in body
    assert 'class="countdown' in body
    assert later.process_due_at is not None


def test_a_manager_sees_the_team_and_can_narrow_to_one_rep(
    client, rep, other_rep, marketer, manager
):
    accepted_by(rep, marketer=marketer, manager=manager, company="Rita Co")
    accepted_by(other_rep, marketer=marketer, manager=manager, company="Oscar Co")
    client.force_login(manager)
    body = client.get(URL).content.decode()
    assert "Rita Co" in body and "Oscar Co" in body
    body = client.get(URL, {"rep": other_rep.username}).content.decode()
    assert "Oscar Co" in body and "Rita Co" not in body


def test_a_qualified_or_rejected_lead_leaves_the_queue(client, rep, marketer, manager):
    lead = accepted_by(rep, marketer=marketer, manager=manager, company="Gone Co")
    lead_transition(
        lead=lead.pk, name="reject", actor=rep, values=form_values("reject", {"reason": "no_need"})
    )
    client.force_login(rep)
    assert "Gone Co" not in client.get(URL).content.decode()


def test_marketing_may_not_open_the_queue(client, marketer):
    client.force_login(marketer)
    response = client.get(URL)
    assert response.status_code == 403
    assert "for sales reps and managers" in response.content.decode()


def test_the_queue_costs_the_same_for_3_and_30_leads(client, rep, marketer, manager):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def cost():
        client.get(URL)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        return len(captured)

    client.force_login(manager)
    for _ in range(3):
        accepted_by(rep, marketer=marketer, manager=manager)
    three = cost()
    for _ in range(27):
        walk_to(LeadFactory(), "accepted", marketer=marketer, manager=manager)
    assert cost() == three


def qualify(client, lead, back, **headers):
    return client.post(
        reverse("leads:transition", args=[lead.pk, "qualify"]),
        {"expected_stage": "accepted", "origin": "page", "next": back, **QUALIFYING_BANT},
        **headers,
    )


def test_bant_done_from_the_queue_goes_back_to_the_queue_with_the_done_message(
    client, rep, marketer, manager
):
    lead = accepted_by(rep, marketer=marketer, manager=manager, company="Queue Co")
    client.force_login(rep)
    queue = f"{URL}?page=1"
    link = f"/leads/{lead.pk}/?next=%2Fleads%2Fto-qualify%2F%3Fpage%3D1#bant-title"
    assert f'href="{link}"' in client.get(queue).content.decode()

    body = client.get(link.split("#")[0]).content.decode()
    assert f'<a href="{queue}">To qualify</a> /' in body  # the breadcrumb goes back there
    assert f'name="next" value="{queue}"' in body  # and the BANT form

    response = qualify(client, lead, queue, follow=True)
    assert response.redirect_chain[-1][0] == queue
    assert "is now an SQL" in response.content.decode()

    # With htmx the lead page swaps in only itself: the browser is told to go instead.
    other = accepted_by(rep, marketer=marketer, manager=manager, company="Other Co")
    response = qualify(client, other, queue, HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == queue


def test_bant_done_from_elsewhere_stays_on_the_lead_page(client, rep, marketer, manager):
    lead = accepted_by(rep, marketer=marketer, manager=manager, company="Page Co")
    client.force_login(rep)
    page = reverse("leads:detail", args=[lead.pk])
    body = client.get(page).content.decode()
    assert f'<a href="{reverse("leads:list")}">Leads</a> /' in body
    response = qualify(client, lead, page, HTTP_HX_REQUEST="true")
    assert response.status_code == 302 and response["Location"] == page
    # An address off the site is never followed.
    lead2 = accepted_by(rep, marketer=marketer, manager=manager, company="Evil Co")
    response = qualify(client, lead2, "https://evil.example/leads/to-qualify/")
    assert response["Location"] == reverse("leads:detail", args=[lead2.pk])


@pytest.mark.parametrize("page", ["leads:inbox", "leads:to_qualify", "leads:review"])
def test_every_rep_filter_lists_the_sales_reps_only(
    client, rep, other_rep, marketer, manager, page
):
    client.force_login(manager if page != "leads:review" else marketer)
    body = client.get(reverse(page)).content.decode()

    select = body.split('name="rep"')[1].split("</select>")[0]
    assert f'value="{rep.username}"' in select and f'value="{other_rep.username}"' in select
    assert f'value="{manager.username}"' not in select  # a manager owns no leads to filter by
