"""Two intake requests carrying the same thing at the same moment, on PostgreSQL."""

import datetime as dt

import pytest
from django.utils import timezone

from apps.leads.models import Engagement, Lead
from tests.api.conftest import client_for
from tests.factories import LeadFactory, UserFactory
from tests.threads import burst

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_same_external_id_in_two_requests_at_once_is_stored_once():
    marketer = UserFactory(username="maya", roles=["marketing"])
    client_for(marketer)
    lead = LeadFactory()
    an_hour_ago = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    body = [
        {
            "lead_id": lead.pk,
            "kind": "demo_request",
            "occurred_at": an_hour_ago,
            "external_id": "form-submission-77",
        },
    ]

    responses = burst(
        lambda: client_for(marketer).post("/api/v1/engagements/", body, format="json"), 2
    )

    assert sorted(r.status_code for r in responses) == [200, 201]
    assert sorted(r.json()["created"] for r in responses) == [0, 1]
    assert Engagement.objects.filter(external_id="form-submission-77").count() == 1
    lead.refresh_from_db()
    assert lead.score == 8


def test_the_same_new_email_posted_twice_at_once_makes_one_lead():
    marketer = UserFactory(username="maya", roles=["marketing"])
    client_for(marketer)
    body = {"email": "ken@example.com", "source": "event", "company": "Kumo"}

    responses = burst(lambda: client_for(marketer).post("/api/v1/leads/", body, format="json"), 2)

    assert sorted(r.status_code for r in responses) == [200, 201]
    assert Lead.objects.filter(email="ken@example.com").count() == 1
    assert len({r.json()["id"] for r in responses}) == 1
