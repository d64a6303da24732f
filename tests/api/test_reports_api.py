"""GET /api/v1/reports/weekly/{YYYY-Www}/ — the weekly report document of SPEC §6."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.leads.services import lead_transition
from apps.reports.models import WeeklyReport
from tests.factories import LeadFactory
from tests.leads.helpers import form_values
from tests.reports.conftest import REPORT_KEYS

pytestmark = pytest.mark.django_db

KEYS = set(REPORT_KEYS)


def last_week() -> str:
    year, week, _ = (timezone.localdate() - dt.timedelta(days=7)).isocalendar()
    return f"{year}-W{week:02d}"


@pytest.fixture
def promoted_last_week(marketer, rep):
    lead = LeadFactory(source_id="webinar")
    lead_transition(
        lead=lead.pk,
        name="promote",
        actor=marketer,
        values=form_values(
            "promote", {"reason": "booth"}, at=timezone.now() - dt.timedelta(days=7)
        ),
        at=timezone.now() - dt.timedelta(days=7),
    )
    return lead


def test_marketing_reads_last_weeks_report_with_every_key(api, marketer, promoted_last_week):
    response = api(marketer).get(f"/api/v1/reports/weekly/{last_week()}/")
    assert response.status_code == 200
    document = response.json()
    assert set(document) == KEYS
    assert document["week"] == last_week()
    assert document["mqls"] == 1 and document["by_source"]["webinar"]["mqls"] == 1
    assert document["by_criteria_version"] == {
        "manual": {"mqls": 1, "sqls": 0, "mql_to_sql_rate": 0.0}
    }


def test_the_api_answers_the_same_document_as_the_command(api, manager, promoted_last_week, capsys):
    via_api = api(manager).get(f"/api/v1/reports/weekly/{last_week()}/").json()
    call_command("weekly_report", "--week", last_week(), "--format", "json")
    import json

    assert json.loads(capsys.readouterr().out) == via_api
    assert WeeklyReport.objects.filter(week=last_week()).count() == 1


def test_a_rep_may_not_read_reports(api, rep):
    response = api(rep).get(f"/api/v1/reports/weekly/{last_week()}/")
    assert response.status_code == 403
    assert "reports" in response.json()["detail"]


def test_without_a_token_the_answer_is_401(api):
    assert api(None).get(f"/api/v1/reports/weekly/{last_week()}/").status_code == 401


@pytest.mark.parametrize("week", ["2025-W53", "2026-47", "next-week", "2026-W00"])
def test_a_week_that_does_not_exist_is_a_400_that_says_why(api, marketer, week):
    response = api(marketer).get(f"/api/v1/reports/weekly/{week}/")
    assert response.status_code == 400
    assert response.json()["detail"]


def test_a_future_week_is_refused(api, marketer):
    year, week, _ = (timezone.localdate() + dt.timedelta(days=21)).isocalendar()
    response = api(marketer).get(f"/api/v1/reports/weekly/{year}-W{week:02d}/")
    assert response.status_code == 400
    assert "not started" in response.json()["detail"]
