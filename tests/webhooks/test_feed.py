"""GET /api/v1/events/: every event in one order, paged with a cursor, without gaps or repeats."""

import json
import threading

import pytest
from django.db import connection, transaction

from apps.leads.services import lead_transition, lead_upsert
from apps.webhooks.models import Event
from apps.webhooks.services import webhook_test_send
from tests.api.conftest import client_for
from tests.factories import LeadFactory
from tests.leads.helpers import QUALIFYING_BANT, form_values, walk_to

FEED = "/api/v1/events/"
WEB = {"source": "website"}


def read_all(client, *, limit=2, **params):
    """Page through the feed from the start; returns the events and the number of pages."""
    seen, pages, after = [], 0, None
    while True:
        query = {"limit": limit, **params, **({"after": after} if after else {})}
        body = client.get(FEED, query).json()
        seen += body["results"]
        pages += 1
        after = body["cursor"]
        if not body["has_more"]:
            return seen, pages, body


@pytest.mark.django_db
def test_the_feed_pages_through_every_event_in_order(marketer, manager):
    for n in range(3):
        walk_to(LeadFactory(), "accepted", marketer=marketer, manager=manager)
        lead_upsert(email=f"new{n}@example.com", values=WEB)
    client = client_for(marketer)

    events, pages, last = read_all(client, limit=4)
    stored = list(Event.objects.order_by("pk").values_list("public_id", flat=True))
    assert [e["id"] for e in events] == stored and len(stored) == 9 and pages == 3
    assert set(events[0]) == {"id", "type", "timestamp", "data"}
    assert last["cursor"] == stored[-1] and f"after={stored[-1]}" in last["next"]
    # Nothing new yet: the cursor stays where it is.
    again = client.get(FEED, {"after": stored[-1]}).json()
    assert again["results"] == [] and again["cursor"] == stored[-1] and not again["has_more"]


@pytest.mark.django_db
def test_the_feed_filters_by_type(marketer, manager):
    for _ in range(2):
        walk_to(LeadFactory(), "accepted", marketer=marketer, manager=manager)
    client = client_for(manager)
    events, _pages, _last = read_all(client, type="lead.accepted")
    assert [e["type"] for e in events] == ["lead.accepted"] * 2
    both, _pages, _last = read_all(client, type="lead.accepted,lead.promoted", limit=10)
    assert [e["type"] for e in both] == ["lead.promoted", "lead.accepted"] * 2


@pytest.mark.django_db
def test_test_events_stay_out_of_the_feed(marketer, endpoint):
    webhook_test_send(endpoints=[endpoint])
    lead_upsert(email="real@example.com", values=WEB)
    events = client_for(marketer).get(FEED).json()["results"]
    assert [e["type"] for e in events] == ["lead.created"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query, field",
    [
        ({"after": "evt_nothing"}, "after"),
        ({"type": "lead.exploded"}, "type"),
        ({"limit": "0"}, "limit"),
        ({"limit": "lots"}, "limit"),
        ({"limit": "501"}, "limit"),
    ],
)
def test_bad_parameters_get_a_400_that_names_them(marketer, query, field):
    response = client_for(marketer).get(FEED, query)
    assert response.status_code == 400 and field in response.json()["errors"]


@pytest.mark.django_db
def test_the_feed_is_for_marketing_and_managers(rep, marketer, manager, nobody, admin_user):
    lead_upsert(email="seen@example.com", values=WEB)
    assert client_for(None).get(FEED).status_code == 401
    assert client_for(nobody).get(FEED).status_code == 403
    refused = client_for(rep).get(FEED)
    assert refused.status_code == 403 and "marketing and sales managers" in refused.json()["detail"]
    for user in (marketer, manager, admin_user):
        assert len(client_for(user).get(FEED).json()["results"]) == 1


@pytest.mark.django_db
def test_the_feed_is_in_the_openapi_schema(marketer):
    schema = json.loads(client_for(marketer).get("/api/schema/", {"format": "json"}).content)
    operation = schema["paths"]["/api/v1/events/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"after", "type", "limit"}
    assert {"200", "400", "401", "403", "429"} <= set(operation["responses"])
    assert "EventFeed" in json.dumps(operation["responses"]["200"])


# --- while events are being written (PostgreSQL: real concurrent transactions) ----------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_event_committed_late_with_a_lower_id_is_not_skipped(marketer):
    """Ids are handed out at insert; a reader must not pass an id whose transaction is still open."""
    client = client_for(marketer)
    inserted, release = threading.Event(), threading.Event()

    def slow_writer():
        try:
            with transaction.atomic():
                lead_upsert(email="slow@example.com", values=WEB)  # takes the lower id
                inserted.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert inserted.wait(timeout=10)
    lead_upsert(email="fast@example.com", values=WEB)  # higher id, committed first
    first = client.get(FEED).json()
    assert [e["data"]["lead"]["email"] for e in first["results"]] == ["fast@example.com"]
    release.set()
    writer.join(timeout=10)
    after = client.get(FEED, {"after": first["cursor"]}).json()
    assert [e["data"]["lead"]["email"] for e in after["results"]] == ["slow@example.com"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_paging_while_events_are_written_neither_skips_nor_repeats(marketer, manager):
    client = client_for(marketer)
    leads = [LeadFactory().pk for _ in range(8)]
    STEPS_TO_SQL = [
        ("promote", lambda: marketer, {"reason": "Met at the booth"}),
        ("accept", lambda: manager, {}),
        ("qualify", lambda: manager, QUALIFYING_BANT),
    ]
    errors = []

    def writer(mine):
        try:
            for pk in mine:
                for name, actor, data in STEPS_TO_SQL:
                    lead_transition(
                        lead=pk, name=name, actor=actor(), values=form_values(name, data)
                    )
        except Exception as exc:  # the test reports it
            errors.append(exc)
        finally:
            connection.close()

    writers = [threading.Thread(target=writer, args=(leads[i::4],)) for i in range(4)]
    for thread in writers:
        thread.start()
    seen, after = [], None
    while True:
        done = not any(t.is_alive() for t in writers)
        body = client.get(FEED, {"limit": 3, **({"after": after} if after else {})}).json()
        seen += [e["id"] for e in body["results"]]
        after = body["cursor"]
        if done and not body["has_more"] and not body["results"]:
            break
    assert not errors, errors
    stored = set(Event.objects.values_list("public_id", flat=True))
    assert len(stored) == 8 * 3
    assert len(seen) == len(set(seen)), "an event was read twice"
    assert set(seen) == stored, "an event was skipped"
