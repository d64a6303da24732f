"""POST /api/v1/engagements/: one or a list, all or nothing, idempotent, scored and promoted."""

import datetime as dt
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.leads.models import Engagement, Lead, StageTransition
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

ENGAGEMENTS = "/api/v1/engagements/"


def an_hour_ago() -> str:
    return (timezone.now() - dt.timedelta(hours=1)).isoformat()


def item(lead, kind="page_view", **extra):
    return {"lead_id": lead.pk, "kind": kind, "occurred_at": an_hour_ago(), **extra}


def test_one_engagement_is_stored_and_scored(api, marketer):
    lead = LeadFactory()

    response = api(marketer).post(
        ENGAGEMENTS, item(lead, "pricing_page_view", metadata={"url": "/pricing"}), format="json"
    )

    assert response.status_code == 201
    assert response.json() == {"created": 1, "duplicates": [], "promoted": []}
    lead.refresh_from_db()
    assert lead.score == 3
    assert Engagement.objects.get(lead=lead).metadata == {"url": "/pricing"}


def test_a_lead_may_be_named_by_email_in_any_case(api, marketer):
    lead = LeadFactory(email="ken@example.com")
    body = {
        "lead_email": "Ken@Example.com",
        "kind": "content_download",
        "occurred_at": an_hour_ago(),
    }

    assert api(marketer).post(ENGAGEMENTS, body, format="json").status_code == 201
    assert Engagement.objects.get().lead == lead


def test_a_list_is_stored_and_scored_for_every_lead_it_names(api, marketer):
    leads = [LeadFactory(), LeadFactory()]
    items = [item(leads[i % 2], "webinar_registration") for i in range(10)]

    response = api(marketer).post(ENGAGEMENTS, items, format="json")

    assert response.status_code == 201
    assert response.json()["created"] == 10
    assert sorted(Lead.objects.values_list("score", flat=True)) == [10, 10]


def test_a_list_costs_the_same_queries_for_5_or_50_items(api, marketer):
    leads = [LeadFactory(), LeadFactory()]
    client = api(marketer)
    client.post(ENGAGEMENTS, item(leads[0]), format="json")  # warm: token, permissions, rate window

    def queries_for(n):
        items = [item(leads[i % 2], "page_view", external_id=f"{n}-{i}") for i in range(n)]
        with CaptureQueriesContext(connection) as captured:
            assert client.post(ENGAGEMENTS, items, format="json").status_code == 201
        return len(captured)

    assert queries_for(5) == queries_for(50)


def test_a_list_that_meets_the_mql_criteria_promotes_the_lead_in_the_same_request(
    api, marketer, rep
):
    lead = LeadFactory()
    kinds = ["pricing_page_view", "demo_request", "page_view"]

    response = api(marketer).post(ENGAGEMENTS, [item(lead, kind) for kind in kinds], format="json")

    assert response.status_code == 201
    assert response.json()["promoted"] == [lead.pk]
    lead.refresh_from_db()
    assert (lead.stage, lead.owner, lead.score) == ("mql", rep, 12)
    promotion = StageTransition.objects.get(lead=lead, transition="promote")
    assert promotion.actor is None
    detail = api(rep).get(f"/api/v1/leads/{lead.pk}/").json()
    assert (detail["stage"], detail["owner"]) == ("mql", "rita")


def test_a_list_of_500_with_one_bad_item_stores_nothing_and_names_the_bad_index(api, marketer):
    lead = LeadFactory()
    items = [item(lead, external_id=f"evt-{i}") for i in range(500)]
    items[317]["kind"] = "pageview"

    response = api(marketer).post(ENGAGEMENTS, items, format="json")

    assert response.status_code == 400
    body = response.json()
    assert list(body["errors"]) == ["317"]
    assert "'pageview' is not an engagement kind" in body["errors"]["317"]["kind"][0]
    assert "1 of 500 engagements are invalid; nothing was stored" in body["detail"]
    assert not Engagement.objects.exists()
    lead.refresh_from_db()
    assert lead.score == 0


def test_every_bad_item_is_reported_by_index_with_its_own_reason(api, marketer):
    lead = LeadFactory()
    items = [
        item(lead),
        {"lead_id": 99_999_999, "kind": "page_view", "occurred_at": an_hour_ago()},
        {"lead_email": "nobody@example.com", "kind": "page_view", "occurred_at": an_hour_ago()},
        item(lead, occurred_at="yesterday-ish"),
        item(lead, metadata={"blob": "x" * 20_000}),
        item(lead, metadata=["not", "an", "object"]),
        {"kind": "page_view", "occurred_at": an_hour_ago()},
        {**item(lead), "lead_email": lead.email},
        item(lead, external_id="e" * 201),
        item(lead, occurred_at=(timezone.now() + dt.timedelta(days=1)).isoformat()),
        "not an object",
        item(lead, colour="blue"),
        item(lead),
    ]

    response = api(marketer).post(ENGAGEMENTS, items, format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == [str(i) for i in range(1, 12)]
    assert errors["1"] == {"lead_id": ["No lead with id 99999999."]}
    assert errors["2"] == {"lead_email": ["No lead with email nobody@example.com."]}
    assert "Datetime has wrong format" in errors["3"]["occurred_at"][0]
    assert "the most is 16384" in errors["4"]["metadata"][0]
    assert "Expected a dictionary" in errors["5"]["metadata"][0]
    assert errors["6"] == {"lead_id": ["Name the lead by lead_id or lead_email."]}
    assert errors["7"] == {"lead_id": ["Name the lead by lead_id or by lead_email, not both."]}
    assert "no more than 200" in errors["8"]["external_id"][0]
    assert errors["9"] == {"occurred_at": ["This time is in the future."]}
    assert "Expected a dictionary" in errors["10"]["non_field_errors"][0]
    assert "Unknown field" in errors["11"]["colour"][0]
    assert not Engagement.objects.exists()


def test_an_archived_lead_takes_no_engagements(api, marketer):
    lead = LeadFactory()
    Lead.objects.filter(pk=lead.pk).update(archived_at=timezone.now())

    response = api(marketer).post(ENGAGEMENTS, [item(LeadFactory()), item(lead)], format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "1": {"lead_id": [f"Lead {lead.pk} is archived; it takes no engagements."]}
    }
    assert not Engagement.objects.exists()


@pytest.mark.parametrize(
    "metadata", ['{"note": "a\\u0000b"}', '{"note": "\\ud800"}', '{"\\ud800": 1}']
)
def test_metadata_no_database_could_store_gets_400_not_500(api, marketer, metadata):
    lead = LeadFactory()
    body = f'{{"lead_id": {lead.pk}, "kind": "page_view", "occurred_at": "{an_hour_ago()}", "metadata": {metadata}}}'

    response = api(marketer).post(ENGAGEMENTS, data=body, content_type="application/json")

    assert response.status_code == 400
    assert "NUL character or half a surrogate pair" in response.json()["errors"]["metadata"][0]
    assert not Engagement.objects.exists()


def test_a_single_bad_engagement_gets_field_errors(api, marketer):
    response = api(marketer).post(
        ENGAGEMENTS, {"lead_id": LeadFactory().pk, "kind": "fax"}, format="json"
    )

    assert response.status_code == 400
    body = response.json()
    assert set(body["errors"]) == {"kind", "occurred_at"}
    assert body["detail"].startswith("kind: 'fax' is not an engagement kind")


@pytest.mark.parametrize(
    "body, message",
    [
        ([], "The list is empty"),
        ("page_view", "one engagement object or a list"),
        (42, "one engagement object"),
    ],
)
def test_a_body_that_is_neither_an_engagement_nor_a_list_gets_400(api, marketer, body, message):
    response = api(marketer).post(ENGAGEMENTS, body, format="json")
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_a_list_of_more_than_1000_gets_400(api, marketer):
    lead = LeadFactory()
    response = api(marketer).post(ENGAGEMENTS, [item(lead)] * 1001, format="json")
    assert response.status_code == 400
    assert "at most 1000 engagements; this one has 1001" in response.json()["detail"]
    assert not Engagement.objects.exists()


def test_a_list_of_1000_is_accepted(api, marketer):
    lead = LeadFactory()
    response = api(marketer).post(ENGAGEMENTS, [item(lead)] * 1000, format="json")
    assert response.status_code == 201
    assert Engagement.objects.count() == 1000


def test_a_repeated_external_id_is_stored_once_and_the_repeat_answers_200(api, marketer):
    lead = LeadFactory()
    client = api(marketer)
    body = item(lead, "demo_request", external_id="crm-123")

    first = client.post(ENGAGEMENTS, body, format="json")
    again = client.post(ENGAGEMENTS, body, format="json")

    assert (first.status_code, first.json()["created"]) == (201, 1)
    assert again.status_code == 200
    assert again.json() == {"created": 0, "duplicates": [0], "promoted": []}
    lead.refresh_from_db()
    assert (lead.score, Engagement.objects.count()) == (8, 1)


def test_duplicates_inside_one_list_are_reported_by_index(api, marketer):
    lead = LeadFactory()
    items = [item(lead, external_id="a"), item(lead, external_id="b"), item(lead, external_id="a")]

    response = api(marketer).post(ENGAGEMENTS, items, format="json")

    assert response.status_code == 201
    assert response.json() == {"created": 2, "duplicates": [2], "promoted": []}


def test_a_time_without_offset_is_read_in_the_site_time_zone(api, marketer, settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    lead = LeadFactory()
    yesterday = timezone.localdate(timezone=zoneinfo.ZoneInfo("Asia/Tokyo")) - dt.timedelta(days=1)

    api(marketer).post(ENGAGEMENTS, item(lead, occurred_at=f"{yesterday}T09:00:00"), format="json")

    stored = Engagement.objects.get().occurred_at
    assert stored == dt.datetime.combine(yesterday, dt.time(0, 0), tzinfo=dt.UTC)


@pytest.mark.parametrize("role", ["rep", "manager", "nobody"])
def test_only_marketing_may_record_engagements(api, role, request):
    lead = LeadFactory()
    response = api(request.getfixturevalue(role)).post(ENGAGEMENTS, item(lead), format="json")
    assert response.status_code == 403
    assert not Engagement.objects.exists()


def test_recording_engagements_needs_a_token(api):
    assert api(None).post(ENGAGEMENTS, item(LeadFactory()), format="json").status_code == 401


def test_a_lead_id_beyond_any_database_integer_is_a_400_not_a_crash(api, marketer):
    response = api(marketer).post(
        "/api/v1/engagements/",
        {"lead_id": 10**30, "kind": "page_view", "occurred_at": an_hour_ago()},
        format="json",
    )
    assert response.status_code == 400
    assert "lead_id" in response.json()["errors"]
    assert not Engagement.objects.exists()


@pytest.mark.parametrize("time_zone", ["America/Los_Angeles", "Asia/Tokyo", "UTC"])
@pytest.mark.parametrize(
    "occurred_at",
    ["0001-01-01T00:00:00", "0001-01-01T00:00:00+00:00", "1999-12-31T23:00:00Z", "1970-01-01"],
)
def test_a_time_before_2000_gets_400_naming_the_field_in_any_time_zone(
    api, marketer, settings, time_zone, occurred_at
):
    settings.TIME_ZONE = time_zone
    lead = LeadFactory()

    response = api(marketer).post(ENGAGEMENTS, item(lead, occurred_at=occurred_at), format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["occurred_at"]
    assert not Engagement.objects.exists()


def test_a_time_in_2000_or_later_without_offset_is_stored(api, marketer, settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    lead = LeadFactory()

    response = api(marketer).post(
        ENGAGEMENTS, item(lead, occurred_at="2000-01-02T00:00:00"), format="json"
    )

    assert response.status_code == 201
    assert Engagement.objects.get().occurred_at == dt.datetime(2000, 1, 1, 15, tzinfo=dt.UTC)


def test_unusual_items_answer_as_the_serializer_does(api, marketer):
    lead = LeadFactory()
    items = [
        item(lead, source="  ads  ", external_id="  key-1  "),
        {
            "lead_email": f"  {lead.email.upper()} ",
            "kind": "page_view",
            "occurred_at": an_hour_ago(),
        },
        item(lead, external_id=""),
        item(lead, lead_id=True),
        item(lead, kind=None),
        item(lead, source=None),
        item(lead, metadata={"a": "\x00"}),
    ]

    response = api(marketer).post(ENGAGEMENTS, items, format="json")

    errors = response.json()["errors"]
    assert list(errors) == ["3", "4", "5", "6"]
    assert errors["3"] == {"lead_id": ["A valid integer is required."]}
    assert errors["4"] == {"kind": ["This field may not be null."]}
    assert errors["5"] == {"source": ["This field may not be null."]}
    assert "NUL" in errors["6"]["metadata"][0]
    stored = api(marketer).post(ENGAGEMENTS, items[:3], format="json")
    assert stored.status_code == 201
    assert sorted(Engagement.objects.values_list("source", "external_id")) == [
        ("", None),
        ("", None),
        ("ads", "key-1"),
    ]
