"""The sweep builds its events' bodies from plain rows: they are the serializer's, to the byte."""

import datetime as dt
import json

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.leads.models import Lead
from apps.sla.models import SLAEvent
from apps.sla.services import sla_sweep
from apps.webhooks import events as vocabulary
from apps.webhooks.models import Event
from leadflow.rows import values_rows
from tests.factories import LeadFactory
from tests.leads.helpers import mqls

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)


def typed(value, *, ordered=True):
    """``value`` with the type of every part, so 1 and "1", or 1 and 1.0, never compare equal.

    ``ordered=False`` for a body read back from PostgreSQL, whose ``jsonb`` orders the keys.
    """
    if isinstance(value, dict):
        items = [(key, typed(item, ordered=ordered)) for key, item in value.items()]
        return items if ordered else sorted(items)
    if isinstance(value, list):
        return [typed(item, ordered=ordered) for item in value]
    return (type(value).__name__, value)


def assorted_leads(marketer, manager):
    """MQLs with owners and clocks, and leads with empty fields and moments on the second."""
    leads = mqls(3, marketer=marketer, manager=manager)
    leads.append(LeadFactory(employees=None, company="", title="Ｃ.T.O. 「営業」"))
    on_the_second = timezone.now().replace(microsecond=0)
    Lead.objects.filter(pk=leads[-1].pk).update(
        mql_at=on_the_second, accept_due_at=on_the_second + H, updated_at=on_the_second
    )
    return Lead.objects.filter(pk__in=[lead.pk for lead in leads]).order_by("pk")


def plain_bodies(leads):
    return vocabulary.lead_data_from_rows(values_rows(leads, vocabulary.lead_data_paths()))


@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo", "America/New_York"])
def test_the_plain_lead_body_is_the_serializers_field_for_field(marketer, manager, rep, zone):
    leads = assorted_leads(marketer, manager)
    with timezone.override(zone):
        expected = [vocabulary.as_json(vocabulary.lead_data(lead)) for lead in leads]
        plain = plain_bodies(leads)

    assert [typed(body) for body in plain] == [typed(body) for body in expected]
    assert json.dumps(plain) == json.dumps(expected)
    assert any(body["owner"] for body in plain) and any(body["owner"] is None for body in plain)
    assert any(body["employees"] is None for body in plain)


def test_a_moment_reads_the_same_through_values_rows_as_through_the_orm(marketer, manager, rep):
    leads = assorted_leads(marketer, manager)
    paths = ["pk", "mql_at", "accept_due_at", "owner__date_joined", "created_at", "stage"]

    assert values_rows(leads, paths) == list(leads.values_list(*paths))
    assert json_datetimes(values_rows(leads, paths)) == json_datetimes(leads.values_list(*paths))


def json_datetimes(rows):
    return [
        [vocabulary.json_datetime(v) if isinstance(v, dt.datetime) else v for v in row]
        for row in rows
    ]


def test_the_sweeps_event_bodies_are_the_ones_the_serializer_makes(marketer, manager, rep):
    leads = mqls(3, marketer=marketer, manager=manager)

    result = sla_sweep(now=max(lead.mql_at for lead in leads) + 21 * H)

    assert result.events == {"accept_reminder": 3}
    username = get_user_model().USERNAME_FIELD
    for event in Event.objects.filter(type=vocabulary.SLA_REMINDER).select_related("lead"):
        lead = Lead.objects.select_related("owner").get(pk=event.lead_id)
        sla = SLAEvent.objects.select_related("owner").get(lead=lead)
        expected = vocabulary.as_json(
            {
                "lead": vocabulary.lead_data(lead),
                "sla": {
                    "kind": sla.kind,
                    "clock": "accept",
                    "deadline": sla.deadline,
                    "owner": getattr(sla.owner, username),
                },
                "deadlines": vocabulary.deadlines_data(lead),
            }
        )
        assert typed(event.body, ordered=False) == typed(expected, ordered=False)
        assert event.occurred_at == sla.created_at
        assert event.public_id.startswith("evt_") and event.sequence is None
