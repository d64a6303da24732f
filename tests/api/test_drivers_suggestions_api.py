"""GET /api/v1/reports/drivers/ and /api/v1/reports/suggestions/: the pages' data as JSON."""

import pytest
import time_machine

from tests.reports.conftest import (  # noqa: F401  (the reports' history fixtures)
    history,
    jst,
    team,
    tokyo,
)
from tests.reports.funnels import NOW, indistinguishable, worked_example

pytestmark = pytest.mark.django_db

CANDIDATE_KEYS = {
    "criteria",
    "fit_rule_change",
    "mqls",
    "mqls_per_week",
    "sqls",
    "mql_to_sql_rate",
    "mql_to_sql_rate_interval",
    "sqls_kept",
    "conditions",
    "changes",
    "description",
}


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=False):
        yield


def test_marketing_reads_the_worked_examples_drivers(tokyo, history, api, marketer, at_now):
    worked_example(history)

    response = api(marketer).get("/api/v1/reports/drivers/")

    assert response.status_code == 200
    body = response.json()
    assert (body["from"], body["to"], body["weeks"]) == ("2026-W09", "2026-W20", 12)
    assert (body["mqls"], body["sqls"], body["mql_to_sql_rate"]) == (390, 31, 0.0795)
    top = body["drivers"][:3]
    assert {d["key"] for d in top} == {
        "engagements:3–4",
        "employees:50–500",
        "kind:pricing_page_view:any",
    }
    pricing = next(d for d in top if d["key"] == "kind:pricing_page_view:any")
    assert pricing == {
        "family": "kind",
        "key": "kind:pricing_page_view:any",
        "label": "Pricing page view: at least once",
        "mqls": 180,
        "sqls": 30,
        "sql_rate": 0.1667,
        "sql_rate_interval": [0.1193, 0.228],  # Wilson, 30 of 180
        "lift": 2.097,
        "lift_interval": [1.501, 2.868],  # over 31/390
        "small_sample": False,
    }


def test_a_manager_reads_the_suggestions_with_their_criteria_and_words(
    tokyo, history, api, manager, at_now
):
    worked_example(history)

    response = api(manager).get("/api/v1/reports/suggestions/", {"low": "20", "high": "30"})

    assert response.status_code == 200
    body = response.json()
    assert body["band"] == {"low": 0.2, "high": 0.3}
    assert body["reason"] is None and body["closest"] is None
    assert (body["mqls"], body["sqls"]) == (390, 31)
    assert body["active"]["criteria"] == {
        "score_threshold": 3,
        "min_engagements": 1,
        "required_kinds": [],
        "fit_required": False,
    }
    assert body["candidates"] and all(set(c) == CANDIDATE_KEYS for c in body["candidates"])
    worked = next(c for c in body["candidates"] if c["mql_to_sql_rate"] == 0.28)
    assert worked["criteria"]["required_kinds"] == ["pricing_page_view"]
    assert worked["criteria"]["fit_required"] is True
    assert worked["fit_rule_change"] == {
        "employees_min": 50,
        "employees_max": 500,
        "allowed_industries": "",
        "allowed_countries": "",
    }
    assert (worked["mqls"], worked["sqls"], worked["sqls_kept"]) == (100, 28, 0.9032)
    assert "employees 50–500 (was employees 10–5,000)" in worked["changes"]


def test_the_suggestions_say_why_there_are_none(tokyo, history, api, marketer, at_now):
    indistinguishable(history)

    body = api(marketer).get("/api/v1/reports/suggestions/").json()

    assert body["candidates"] == []
    assert body["reason"] == "out_of_reach"
    assert body["closest"]["mql_to_sql_rate"] == 0.08


@pytest.mark.parametrize(
    "path, query, message",
    [
        ("drivers", {"from": "2026-W20", "to": "2026-W01"}, "after it ends"),
        ("drivers", {"to": "2026W20"}, "not an ISO week"),
        ("suggestions", {"low": "35", "high": "30"}, "from a lower to a higher rate"),
        ("suggestions", {"high": "101"}, "less than or equal to 100"),
        ("suggestions", {"low": "NaN"}, "Enter a number"),
    ],
)
def test_bad_query_parameters_are_a_400_naming_the_problem(
    api, marketer, at_now, path, query, message
):
    response = api(marketer).get(f"/api/v1/reports/{path}/", query)

    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert response.json()["errors"]


@pytest.mark.parametrize("path", ["drivers", "suggestions"])
def test_reps_and_strangers_may_not_read_them(api, rep, path):
    assert api(rep).get(f"/api/v1/reports/{path}/").status_code == 403
    assert api(None).get(f"/api/v1/reports/{path}/").status_code == 401


def test_both_are_documented_in_the_schema(client, marketer):
    client.force_login(marketer)
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]

    drivers = paths["/api/v1/reports/drivers/"]["get"]
    suggestions = paths["/api/v1/reports/suggestions/"]["get"]
    assert {p["name"] for p in drivers["parameters"]} == {"from", "to"}
    assert {p["name"] for p in suggestions["parameters"]} == {"from", "to", "low", "high"}
    assert {"200", "400", "403"} <= set(drivers["responses"]) & set(suggestions["responses"])


def test_a_window_ending_this_week_counts_it_so_far(tokyo, history, api, marketer):
    with time_machine.travel(jst(2026, 5, 20, 12), tick=False):
        response = api(marketer).get("/api/v1/reports/drivers/", {"to": "2026-W21"})

    assert response.status_code == 200
    assert (response.json()["from"], response.json()["weeks"]) == ("2026-W10", 12)
