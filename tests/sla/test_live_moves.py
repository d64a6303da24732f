"""A card that left a live page says what happened to it: neutrally, or "by you"."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.leads.selectors import latest_transition_id
from apps.leads.services import lead_transition
from tests.leads.helpers import form_values
from tests.leads.test_ui_inbox import mql_owned_by

pytestmark = pytest.mark.django_db
URL = reverse("sla:live_moves")


def moves(client, since, *leads, **headers):
    ids = ",".join(str(lead.pk) for lead in leads)
    response = client.get(URL, {"since": since, "ids": ids}, **headers)
    assert response.status_code == 200
    return {int(pk): text for pk, text in response.json()["moves"].items()}


def accepted_since(rep, actor, *, marketer, manager):
    """(a lead of ``rep``'s accepted by ``actor``, the history cursor from just before)."""
    lead = mql_owned_by(rep, marketer=marketer, manager=manager)
    since = latest_transition_id()
    lead_transition(lead=lead.pk, name="accept", actor=actor, values=form_values("accept", {}))
    return lead, since


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "This lead changed: Accepted by you (in another tab or window)."),
        (
            "ja",
            "このリードに変更がありました：「受諾済み」（あなたが別のタブまたはウィンドウで）。",
        ),
    ],
)
def test_a_lead_the_user_changed_in_another_tab_says_by_you(
    client, rep, marketer, manager, language, said
):
    lead, since = accepted_since(rep, rep, marketer=marketer, manager=manager)
    client.force_login(rep)
    assert moves(client, since, lead, HTTP_ACCEPT_LANGUAGE=language) == {lead.pk: said}


def test_a_lead_someone_else_changed_names_them_and_what_they_did(client, rep, marketer, manager):
    lead, since = accepted_since(rep, manager, marketer=marketer, manager=manager)
    client.force_login(rep)
    [text] = moves(client, since, lead).values()
    assert text == f"This lead changed: Accepted by {manager}."
    assert "someone else" not in text


def test_a_lead_reassigned_away_tells_nothing_about_it(client, rep, other_rep, marketer, manager):
    lead = mql_owned_by(rep, marketer=marketer, manager=manager)
    since = latest_transition_id()
    lead_transition(
        lead=lead.pk,
        name="reassign",
        actor=manager,
        values=form_values("reassign", {"owner": other_rep.username, "note": "Covering"}),
    )
    client.force_login(rep)
    assert moves(client, since, lead) == {
        lead.pk: "This lead changed: it is no longer available to you."
    }


def test_the_cost_does_not_grow_with_the_leads_asked_about(client, rep, marketer, manager):
    leads = [mql_owned_by(rep, marketer=marketer, manager=manager) for _ in range(4)]
    since = latest_transition_id()
    for lead in leads:
        lead_transition(lead=lead.pk, name="accept", actor=rep, values=form_values("accept", {}))
    client.force_login(rep)
    with CaptureQueriesContext(connection) as one:
        moves(client, since, leads[0])
    with CaptureQueriesContext(connection) as four:
        moves(client, since, *leads)
    assert len(four) == len(one)


@pytest.mark.parametrize(
    "params",
    [
        {"since": "x", "ids": "1"},
        {"since": "0", "ids": "1,a"},
        {"since": "²", "ids": "1"},
        {"since": "9" * 20, "ids": "1"},
        {"since": "0", "ids": "9" * 20},
    ],
)
def test_bad_questions_get_a_400(client, rep, params):
    client.force_login(rep)
    assert client.get(URL, params).status_code == 400
