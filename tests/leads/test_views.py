"""Login, the role landing, the lead list and the error pages, scoped per role."""

import pytest
from django.urls import reverse

from tests.factories import LeadFactory
from tests.leads.helpers import walk_to

pytestmark = pytest.mark.django_db


def test_login_page_shows_the_form(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content and b'name="password"' in response.content


def test_anonymous_visitors_are_sent_to_login(client):
    for url in ("/", "/leads/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_a_rep_logs_in_and_lands_on_their_inbox(client, rep):
    response = client.post(
        "/accounts/login/", {"username": "rita", "password": "pw-for-tests-only"}, follow=True
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("leads:inbox")


def test_a_marketer_logs_in_and_lands_on_the_review_queue(client, marketer):
    response = client.post(
        "/accounts/login/", {"username": "maya", "password": "pw-for-tests-only"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("leads:review")


def test_wrong_password_says_so(client, rep):
    response = client.post("/accounts/login/", {"username": "rita", "password": "nope"})
    assert response.status_code == 200
    assert b"didn&#x27;t match" in response.content or b"didn't match" in response.content


def test_a_user_in_no_group_sees_nothing_but_a_refusal(client, nobody):
    client.force_login(nobody)
    assert client.get("/").status_code == 403
    assert client.get("/leads/").status_code == 403


def test_marketing_sees_every_lead(client, marketer, manager, rep):
    leads = [LeadFactory(company=f"Company {i}") for i in range(3)]
    walk_to(leads[0], "mql", marketer=marketer, manager=manager)
    client.force_login(marketer)
    body = client.get("/leads/").content.decode()
    assert all(lead.email in body for lead in leads)


def test_a_rep_sees_own_leads_and_the_pool_but_not_other_reps_leads(
    client, marketer, manager, rep, other_rep
):
    mine = walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager)
    theirs = walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager)
    assert (mine.owner, theirs.owner) == (rep, other_rep)
    unassigned_new = LeadFactory()
    client.force_login(rep)
    body = client.get("/leads/").content.decode()
    assert mine.email in body
    assert theirs.email not in body
    assert unassigned_new.email not in body


def test_the_list_page_costs_the_same_queries_for_5_and_50_leads(
    client, marketer, django_assert_num_queries
):
    client.force_login(marketer)
    LeadFactory.create_batch(5)
    client.get("/leads/")  # warm the session and permission caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as five:
        client.get("/leads/")
    LeadFactory.create_batch(45)
    with CaptureQueriesContext(connection) as fifty:
        assert client.get("/leads/").status_code == 200
    assert len(five) == len(fifty)


@pytest.mark.parametrize(
    "who, url, english, japanese",
    [
        (
            "marketer",
            "/leads/inbox/",
            "The inbox is for sales reps and managers.",
            "受信箱は営業担当者とマネージャー用です。",
        ),
        (
            "rep",
            "/leads/review/",
            "The review queue is for marketing.",
            "レビューキューはマーケティング用です。",
        ),
    ],
    ids=["marketer_at_the_inbox", "rep_at_the_review_queue"],
)
def test_a_page_for_another_role_says_who_it_is_for_in_the_readers_language(
    client, request, who, url, english, japanese
):
    user = request.getfixturevalue(who)
    client.force_login(user)

    response = client.get(url)
    assert response.status_code == 403
    assert english in response.content.decode()

    user.language = "ja"
    user.save(update_fields=["language"])
    assert japanese in client.get(url).content.decode()
