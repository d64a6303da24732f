"""POST /api/v1/leads/ (create or update by email) and GET /api/v1/leads/, /api/v1/leads/{id}/."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.api import examples
from apps.criteria.models import LeadSource
from apps.leads.models import Lead
from tests.factories import LeadFactory
from tests.leads.helpers import engage, walk_to

pytestmark = pytest.mark.django_db

LEADS = "/api/v1/leads/"

# The docs' example lead as a careless web form sends it: the email and country case vary.
AIKO = {**examples.AIKO, "email": "Aiko.Tanaka@Kumo.example", "country": "jp"}


# --- create or update -----------------------------------------------------------------


def test_marketing_creates_a_lead_and_gets_its_id_stage_score_and_fit(api, marketer):
    response = api(marketer).post(LEADS, AIKO, format="json")

    assert response.status_code == 201
    body = response.json()
    lead = Lead.objects.get(email="aiko.tanaka@kumo.example")
    assert body["id"] == lead.pk
    assert (body["stage"], body["score"], body["fit"]) == ("new", 0, "pass")
    assert body["email"] == "aiko.tanaka@kumo.example"
    assert body["country"] == "JP"
    assert body["owner"] is None and body["mql_at"] is None
    assert response["Location"] == f"/api/v1/leads/{lead.pk}/"


def test_posting_the_same_email_again_updates_the_lead_and_answers_200(api, marketer):
    client = api(marketer)
    first = client.post(LEADS, AIKO, format="json").json()

    response = client.post(
        LEADS,
        {
            "email": "aiko.tanaka@kumo.example",
            "source": "event",
            "employees": 20,
            "title": "VP Sales",
        },
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == first["id"]
    assert Lead.objects.count() == 1
    assert body["title"] == "VP Sales"
    assert (body["employees"], body["fit"]) == (20, "fail")
    # Blank or missing values keep what is stored; source and campaign keep the first touch.
    assert (body["first_name"], body["company"]) == ("Aiko", "Kumo Systems")
    assert (body["source"], body["campaign"]) == ("website", "spring-webinar")


def test_posting_identical_data_twice_changes_nothing(api, marketer):
    client = api(marketer)
    first = client.post(LEADS, AIKO, format="json").json()
    second = client.post(LEADS, AIKO, format="json").json()
    assert {k: v for k, v in first.items() if k != "updated_at"} == {
        k: v for k, v in second.items() if k != "updated_at"
    }


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"email": None}, "email", "null"),
        ({"source": "fax"}, "source", "not an active lead source"),
        ({"employees": -1}, "employees", "greater than or equal to 0"),
        ({"employees": "many"}, "employees", "valid integer"),
        ({"country": "JPN"}, "country", "at most 2 characters"),
        ({"country": "J1"}, "country", "two-letter"),
        ({"first_name": {"given": "Aiko"}}, "first_name", "valid string"),
        ({"fax": "+81 3 0000"}, "fax", "Unknown field"),
        ({"first_name": "Ai\u0000ko"}, "first_name", "Null characters are not allowed"),
    ],
)
def test_a_bad_lead_gets_400_naming_the_field_and_nothing_is_stored(
    api, marketer, change, field, message
):
    response = api(marketer).post(LEADS, {**AIKO, **change}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert message in " ".join(body["errors"][field])
    assert field in body["detail"]
    assert not Lead.objects.exists()


def test_a_lead_without_source_is_refused(api, marketer):
    response = api(marketer).post(LEADS, {"email": "ken@example.com"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["source"] == ["This field is required."]


def test_an_inactive_source_is_refused(api, marketer):
    LeadSource.objects.filter(code="ads").update(is_active=False)
    response = api(marketer).post(LEADS, {**AIKO, "source": "ads"}, format="json")
    assert response.status_code == 400
    assert "'ads' is not an active lead source" in response.json()["errors"]["source"][0]


def test_bad_json_gets_400_with_a_parse_message(api, marketer):
    response = api(marketer).post(LEADS, data='{"email": ', content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_absurdly_nested_json_gets_400_not_500(api, marketer):
    response = api(marketer).post(
        LEADS, data="[" * 100_000 + "]" * 100_000, content_type="application/json"
    )
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]


def test_a_form_encoded_body_gets_415(api, marketer):
    response = api(marketer).post(
        LEADS, data="email=ken@example.com", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415


def test_a_list_body_gets_400(api, marketer):
    response = api(marketer).post(LEADS, [AIKO], format="json")
    assert response.status_code == 400
    assert "Expected a dictionary" in response.json()["detail"]


@pytest.mark.parametrize("role", ["rep", "manager", "nobody"])
def test_only_marketing_may_create_leads(api, role, request):
    response = api(request.getfixturevalue(role)).post(LEADS, AIKO, format="json")
    assert response.status_code == 403
    assert not Lead.objects.exists()


def test_a_superuser_may_create_leads(api, admin_user):
    assert api(admin_user).post(LEADS, AIKO, format="json").status_code == 201


def test_without_a_token_the_api_answers_401(api):
    response = api(None).post(LEADS, AIKO, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_wrong_token_gets_401(api):
    client = api(None)
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get(LEADS).status_code == 401


# --- list and detail ----------------------------------------------------------------


def _ids(response):
    return [lead["id"] for lead in response.json()["results"]]


def test_marketing_and_managers_list_every_lead_newest_first(api, marketer, manager):
    leads = [LeadFactory() for _ in range(3)]
    for user in (marketer, manager):
        response = api(user).get(LEADS)
        assert response.status_code == 200
        assert _ids(response) == [lead.pk for lead in reversed(leads)]


def test_a_rep_lists_only_their_own_leads_and_the_unassigned_mqls(
    api, rep, other_rep, marketer, manager
):
    mine = walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager)
    theirs = walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager)
    assert {mine.owner, theirs.owner} == {rep, other_rep}
    if mine.owner != rep:
        mine, theirs = theirs, mine
    LeadFactory()  # a new lead, nobody's yet

    assert _ids(api(rep).get(LEADS)) == [mine.pk]


def test_a_user_without_a_role_may_not_list_leads(api, nobody):
    LeadFactory()
    assert api(nobody).get(LEADS).status_code == 403


def test_the_list_filters_by_stage_source_owner_score_and_dates(api, marketer, manager, rep):
    mql = walk_to(LeadFactory(source_id="webinar"), "mql", marketer=marketer, manager=manager)
    fresh = LeadFactory(source_id="event", last_name="Okabe", company="Kumo Systems")
    engage(fresh, "page_view", "page_view")
    old = LeadFactory()
    Lead.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=40))
    client = api(marketer)
    today = timezone.localdate().isoformat()

    assert _ids(client.get(LEADS, {"stage": "mql"})) == [mql.pk]
    assert set(_ids(client.get(LEADS, {"stage": ["mql", "new"]}))) == {mql.pk, fresh.pk, old.pk}
    assert _ids(client.get(LEADS, {"source": "event"})) == [fresh.pk]
    assert _ids(client.get(LEADS, {"owner": rep.username})) == [mql.pk]
    assert set(_ids(client.get(LEADS, {"owner": "none"}))) == {fresh.pk, old.pk}
    assert _ids(client.get(LEADS, {"score_min": 2, "score_max": 2})) == [fresh.pk]
    assert set(_ids(client.get(LEADS, {"created_from": today}))) == {mql.pk, fresh.pk}
    assert _ids(
        client.get(
            LEADS, {"created_to": (timezone.localdate() - dt.timedelta(days=30)).isoformat()}
        )
    ) == [old.pk]
    assert _ids(client.get(LEADS, {"mql_from": today, "mql_to": today})) == [mql.pk]
    assert _ids(client.get(LEADS, {"email": fresh.email.upper()})) == [fresh.pk]
    assert _ids(client.get(LEADS, {"sla": "on_time"})) == [mql.pk]
    assert _ids(client.get(LEADS, {"q": "okabe KUMO"})) == [fresh.pk]


def test_a_bad_filter_value_gets_400_naming_it(api, marketer):
    response = api(marketer).get(LEADS, {"stage": "hot", "score_min": "lots"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"stage", "score_min"}


def test_the_list_pages_with_a_cursor(api, marketer):
    leads = [LeadFactory() for _ in range(5)]
    client = api(marketer)

    first = client.get(LEADS, {"page_size": 2}).json()
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()

    assert [lead["id"] for page in (first, second, third) for lead in page["results"]] == [
        lead.pk for lead in reversed(leads)
    ]
    assert third["next"] is None


def test_an_invalid_cursor_gets_404(api, marketer):
    response = api(marketer).get(LEADS, {"cursor": "garbage"})
    assert response.status_code == 404
    assert response.json()["detail"] == "Invalid cursor"


def test_the_list_costs_the_same_number_of_queries_for_3_or_30_leads(api, marketer, manager, rep):
    client = api(marketer)

    def queries_for_a_page():
        client.get(LEADS)  # warm: token, permissions, rate-limit window row
        with CaptureQueriesContext(connection) as captured:
            response = client.get(LEADS)
        assert response.status_code == 200
        return len(captured), len(response.json()["results"])

    for _ in range(3):
        walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager)
    few, shown_few = queries_for_a_page()
    for _ in range(27):
        walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager)
    many, shown_many = queries_for_a_page()

    assert (shown_few, shown_many) == (3, 30)
    assert few == many


def test_the_detail_shows_engagements_and_the_stage_history(api, marketer, manager, rep):
    lead = LeadFactory()
    engage(lead, "pricing_page_view", "demo_request")
    walk_to(lead, "accepted", marketer=marketer, manager=manager)

    response = api(marketer).get(f"{LEADS}{lead.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert [e["kind"] for e in body["engagements"]] == ["demo_request", "pricing_page_view"]
    assert body["engagements_total"] == 2
    assert [(t["transition"], t["from"], t["to"], t["actor"]) for t in body["transitions"]] == [
        ("promote", "new", "mql", "maya"),
        ("accept", "mql", "accepted", "mona"),
    ]
    assert body["transitions"][0]["reason"] == "Asked for a call at the booth"
    assert set(body["transitions"][0]) == {
        "transition",
        "from",
        "to",
        "actor",
        "at",
        "reason",
        "note",
    }
    assert body["owner"] == rep.username


def test_a_rep_gets_404_for_another_reps_lead(api, rep, other_rep, marketer, manager):
    lead = walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager)
    outsider = other_rep if lead.owner == rep else rep
    assert api(outsider).get(f"{LEADS}{lead.pk}/").status_code == 404
    assert api(lead.owner).get(f"{LEADS}{lead.pk}/").status_code == 200


def test_an_unknown_lead_gets_404_as_json(api, marketer):
    response = api(marketer).get(f"{LEADS}999999/")
    assert response.status_code == 404
    assert "detail" in response.json()


def test_an_unknown_api_path_gets_404_as_json(api, marketer):
    response = api(marketer).get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert "no API endpoint" in response.json()["detail"]


@pytest.mark.parametrize(
    "role, list_status, detail_status",
    [
        ("marketer", 200, 200),
        ("manager", 200, 200),
        ("rep", 200, 404),  # a new lead belongs to no rep yet
        ("nobody", 403, 403),
        (None, 401, 401),
    ],
)
def test_who_may_read_leads(api, role, list_status, detail_status, request):
    lead = LeadFactory()
    client = api(request.getfixturevalue(role) if role else None)
    assert client.get(LEADS).status_code == list_status
    assert client.get(f"{LEADS}{lead.pk}/").status_code == detail_status


def test_the_api_and_the_csv_import_refuse_a_lead_in_the_same_words(api, marketer, tmp_path):
    from apps.leads.imports import active_source_codes, lead_row_clean

    bad = {"email": "aiko@example.com", "source": "fax", "country": "JPN", "first_name": "x" * 101}
    response = api(marketer).post(LEADS, bad, format="json")
    _values, csv_errors = lead_row_clean(bad, active_sources=active_source_codes())

    assert response.status_code == 400
    assert response.json()["errors"] == csv_errors


def test_a_profile_update_that_makes_a_lead_meet_the_criteria_promotes_it(api, marketer, rep):
    from tests.leads.helpers import engage

    lead = LeadFactory(email="late@example.com", employees=None)
    engage(lead, "pricing_page_view", "demo_request", "inquiry")
    lead.refresh_from_db()
    assert (lead.stage, lead.fit) == ("new", "unknown")

    response = api(marketer).post(
        LEADS, {"email": "late@example.com", "source": "website", "employees": 120}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["stage"] == "mql"
    lead.refresh_from_db()
    assert (lead.stage, lead.owner, lead.transitions.get().transition) == ("mql", rep, "promote")
