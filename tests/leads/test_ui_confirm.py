"""Recycle, Reject and Disqualify cannot be taken back: each asks first, with the consequence."""

import pytest
from django.urls import reverse

from tests.factories import LeadFactory
from tests.leads.helpers import walk_to

pytestmark = pytest.mark.django_db


def test_recycle_in_the_review_queue_asks_before_it_acts(client, marketer, manager):
    walk_to(LeadFactory(), "rejected", marketer=marketer, manager=manager)
    client.force_login(marketer)
    body = client.get(reverse("leads:review")).content.decode()
    summary = body.index('<summary class="button">Recycle</summary>')
    confirm = body.index("Yes, recycle")
    assert summary < body.index("start again from zero") < confirm
    assert "A disqualified lead is out of the funnel for good." in body


def test_recycle_on_the_lead_page_asks_before_it_acts(client, marketer, manager):
    lead = walk_to(LeadFactory(), "rejected", marketer=marketer, manager=manager)
    client.force_login(marketer)
    body = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert "Yes: Recycle" in body
    assert "start again from zero" in body


def test_reject_says_what_follows_before_the_button(client, rep, marketer, manager):
    from tests.leads.test_ui_inbox import mql_owned_by

    mql_owned_by(rep, marketer=marketer, manager=manager)
    client.force_login(rep)
    body = client.get(reverse("leads:inbox")).content.decode()
    assert "only marketing can send it back" in body
