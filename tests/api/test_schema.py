"""The OpenAPI schema at /api/schema/, the docs beside it, and the examples they show."""

import datetime as dt
import json

import pytest
import time_machine
from django.contrib.staticfiles import finders
from django.test import Client

from apps.api import examples
from apps.leads.models import Engagement, Lead
from apps.leads.transitions import TRANSITIONS
from tests.factories import LeadFactory
from tests.leads.helpers import walk_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client, nobody):
    """A signed-in browser: the schema and the docs are for signed-in users and token holders."""
    client.force_login(nobody)
    return client


def the_schema(client) -> dict:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_schema_lists_every_endpoint(client):
    paths = the_schema(client)["paths"]

    assert {"/api/v1/leads/", "/api/v1/leads/{id}/", "/api/v1/engagements/"} <= set(paths)
    assert {f"/api/v1/leads/{{id}}/transitions/{name}/" for name in TRANSITIONS} <= set(paths)
    assert set(paths["/api/v1/leads/"]) == {"get", "post"}


def test_the_schema_documents_every_status_an_endpoint_can_answer(client):
    paths = the_schema(client)["paths"]

    create = paths["/api/v1/leads/"]["post"]["responses"]
    assert {"200", "201", "400", "401", "403", "413", "415", "429"} <= set(create)
    assert "Retry-After" in create["429"]["headers"]
    reject = paths["/api/v1/leads/{id}/transitions/reject/"]["post"]
    assert {"200", "400", "403", "404", "409"} <= set(reject["responses"])
    assert reject["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "RejectTransitionRequest"
    )


def test_the_engagements_endpoint_is_documented_as_taking_one_or_a_list(client):
    body = the_schema(client)["paths"]["/api/v1/engagements/"]["post"]["requestBody"]
    one, many = body["content"]["application/json"]["schema"]["oneOf"]
    assert many["type"] == "array" and many["maxItems"] == 1000 and many["items"] == one


def test_anonymous_callers_get_no_schema_and_are_sent_to_sign_in_for_the_docs():
    anonymous = Client()
    assert anonymous.get("/api/schema/", {"format": "json"}).status_code == 401
    docs = anonymous.get("/api/docs/")
    assert docs.status_code == 302 and docs["Location"] == "/accounts/login/?next=/api/docs/"


def test_a_token_holder_reads_the_schema(api, marketer):
    response = api(marketer).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert "/api/v1/leads/" in json.loads(response.content)["paths"]


def test_the_docs_page_loads_swagger_ui_from_our_own_static_files(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page
    assert "/api/schema/" in page
    assert "cdn." not in page
    assert finders.find("vendor/swagger-ui/swagger-ui-bundle.js")
    assert finders.find("vendor/swagger-ui/swagger-ui.css")


def test_the_documented_examples_are_accepted_as_documented(api, marketer, manager, rep):
    client = api(marketer)
    with time_machine.travel(dt.datetime(2026, 6, 1, tzinfo=dt.UTC)):
        created = client.post("/api/v1/leads/", examples.LEAD_REQUEST.value, format="json")
        recorded = client.post("/api/v1/engagements/", examples.ENGAGEMENT_ONE.value, format="json")

    assert created.status_code == 201
    # In the order the docs show: a client may read the JSON as it comes.
    assert list(created.json()) == list(examples.LEAD_RESPONSE.value)
    assert recorded.status_code == 201
    assert set(recorded.json()) == set(examples.ENGAGEMENT_RESULT.value)
    assert Engagement.objects.get().lead == Lead.objects.get(email="aiko.tanaka@kumo.example")

    lead = walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager)
    reject = examples.TRANSITION_EXAMPLES["reject"][0].value
    assert (
        api(rep)
        .post(f"/api/v1/leads/{lead.pk}/transitions/reject/", reject, format="json")
        .status_code
        == 200
    )
