"""The live pages' poll: "anything new for me since X?", one query, scoped to the user."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.leads.selectors import latest_transition_id
from apps.leads.services import lead_transition
from tests.factories import LeadFactory
from tests.leads.helpers import form_values, walk_to
from tests.leads.test_ui_inbox import mql_owned_by

pytestmark = pytest.mark.django_db
URL = reverse("sla:live")


def poll(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return response.json()


def test_an_mql_assigned_to_the_rep_is_news_to_their_inbox_and_bell(
    client, rep, other_rep, marketer, manager
):
    client.force_login(rep)
    since = latest_transition_id()
    assert poll(client, view="inbox", since=since)["changed"] is False
    mql_owned_by(rep, marketer=marketer, manager=manager)
    state = poll(client, view="inbox", since=since)
    assert state["changed"] is True
    assert state["latest"] > since
    assert state["unread"] == 1
    assert state["unread_label"] == "1 unread notification"


def test_another_reps_new_mql_is_no_news_to_a_rep(client, rep, other_rep, marketer, manager):
    rep.accepts_new_leads = False  # away: round-robin gives the MQL straight to Oscar
    rep.save()
    client.force_login(rep)
    since = latest_transition_id()
    assert mql_owned_by(other_rep, marketer=marketer, manager=manager).owner == other_rep
    assert poll(client, view="inbox", since=since)["changed"] is False


def test_a_shown_lead_taken_away_is_news(client, rep, other_rep, marketer, manager):
    lead = mql_owned_by(rep, marketer=marketer, manager=manager)
    client.force_login(rep)
    since = latest_transition_id()
    lead_transition(
        lead=lead.pk,
        name="reassign",
        actor=manager,
        values=form_values("reassign", {"owner": other_rep.username}),
    )
    assert poll(client, view="inbox", since=since, shown=str(lead.pk))["changed"] is True


def test_a_rejection_is_news_to_the_review_queue(client, rep, marketer, manager):
    lead = mql_owned_by(rep, marketer=marketer, manager=manager)
    client.force_login(marketer)
    since = latest_transition_id()
    lead_transition(
        lead=lead.pk, name="reject", actor=rep, values=form_values("reject", {"reason": "no_need"})
    )
    state = poll(client, view="review", since=since)
    assert state["changed"] is True
    assert state["unread"] == 1  # the rejection reached marketing's bell


def test_one_query_per_poll_whatever_the_history(client, rep, marketer, manager):
    client.force_login(rep)
    client.get(URL, {"view": "inbox"})  # warm the session and permission caches

    def queries():
        with CaptureQueriesContext(connection) as captured:
            client.get(URL, {"view": "inbox", "since": 0, "shown": "1,2,3"})
        # The session and user are read by the auth middleware; the poll itself is one query.
        return [q["sql"] for q in captured if "leads_stagetransition" in q["sql"]]

    few = queries()
    for _ in range(5):
        walk_to(LeadFactory(), "rejected", marketer=marketer, manager=manager)
    assert len(few) == 1
    assert len(queries()) == 1


def test_the_poll_costs_the_same_number_of_queries_for_5_and_50_changes(
    client, rep, marketer, manager
):
    client.force_login(rep)
    client.get(URL, {"view": "inbox"})

    def count():
        with CaptureQueriesContext(connection) as captured:
            client.get(URL, {"view": "inbox", "since": 0})
        return len(captured)

    for _ in range(5):
        mql_owned_by(rep, marketer=marketer, manager=manager)
    five = count()
    for _ in range(45):
        mql_owned_by(rep, marketer=marketer, manager=manager)
    assert count() == five


@pytest.mark.parametrize(
    "params, status",
    [
        ({"view": "nope"}, 400),
        ({"view": "inbox", "since": "x"}, 400),
        ({"view": "inbox", "shown": "1,two"}, 400),
        ({"view": "inbox", "since": "²"}, 400),  # a digit to isdigit(), not to int()
        ({"view": "inbox", "since": "9" * 20}, 400),  # beyond any bigint id
        ({"view": "inbox", "shown": "1," + "9" * 20}, 400),
        ({"view": "inbox", "shown": ",".join(str(n) for n in range(300))}, 400),
        ({"view": "review"}, 403),
    ],
)
def test_bad_polls_get_a_4xx_with_a_message(client, rep, params, status):
    client.force_login(rep)
    response = client.get(URL, params)
    assert response.status_code == status
    assert response.content


def test_signed_out_polls_go_to_the_login_page(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_live_pages_carry_their_cursor_and_the_bell_polls(client, rep, marketer, manager):
    mql_owned_by(rep, marketer=marketer, manager=manager)
    client.force_login(rep)
    body = client.get(reverse("leads:inbox")).content.decode()
    assert f'data-live-since="{latest_transition_id()}"' in body
    assert 'id="live-poll"' in body and 'hx-trigger="every 5s"' in body


def test_the_bell_counts_up_to_a_cap(client, rep, marketer, manager):
    from apps.sla.live import UNREAD_CAP
    from apps.sla.models import Notification

    lead = mql_owned_by(rep, marketer=marketer, manager=manager)
    Notification.objects.bulk_create(
        [Notification(recipient=rep, kind="reminder", lead=lead) for _ in range(UNREAD_CAP + 5)]
    )
    client.force_login(rep)
    state = poll(client)
    assert state["unread"] == UNREAD_CAP
    assert state["unread_label"] == "More than 99 unread notifications"
    assert '<span class="badge">99+</span>' in client.get(reverse("sla:list")).content.decode()
