"""An import's new leads are events too, on either import path (row by row, or staged on PostgreSQL)."""

import pytest

from apps.leads.imports import leads_import_csv
from apps.webhooks.events import as_json, lead_data
from apps.webhooks.models import Event
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_each_lead_an_import_creates_is_a_lead_created_event_and_an_update_is_not(tmp_path):
    LeadFactory(email="known@example.com")
    path = tmp_path / "leads.csv"
    path.write_text(
        "email,first_name,company\n"
        "aiko@example.com,Aiko,Kumo\n"
        "known@example.com,Ken,Known\n"
        "ben@example.com,Ben,Nimbus\n"
    )

    summary = leads_import_csv(path=path)

    assert (summary.created, summary.updated) == (2, 1)
    events = Event.objects.filter(type="lead.created").order_by("id")
    assert [e.body["lead"]["email"] for e in events] == ["aiko@example.com", "ben@example.com"]
    assert all(e.lead_id for e in events)
    # Each body is the API's lead as the import left it, its fit included (the staged import
    # announces its new leads once their fit is known, and builds the bodies from plain rows).
    for event in events:
        assert event.body == as_json({"lead": lead_data(event.lead)})
        assert event.occurred_at == event.lead.created_at
