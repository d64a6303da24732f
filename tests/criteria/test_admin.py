"""Admins tune the criteria in Django admin; saves validate and MQL criteria are versioned."""

import pytest

from apps.criteria.models import FitRule, MQLCriteria, ScoringRule
from apps.leads.models import StageTransition
from tests.criteria.helpers import SPEC_POINTS, mql_criteria_change_url, mql_criteria_form
from tests.factories import LeadFactory
from tests.leads.helpers import walk_to

pytestmark = pytest.mark.django_db


def test_every_criteria_page_opens_for_an_admin(admin_client):
    for url in (
        "/admin/criteria/scoringrule/",
        "/admin/criteria/scoringsettings/1/change/",
        "/admin/criteria/fitrule/1/change/",
        "/admin/criteria/mqlcriteria/",
        "/admin/criteria/mqlcriteria/add/",
        "/admin/criteria/sqlcriteria/1/change/",
        "/admin/criteria/slapolicy/1/change/",
        "/admin/criteria/leadsource/",
        "/admin/criteria/rejectreason/",
        "/admin/criteria/disqualifyreason/",
        "/admin/criteria/currencyrate/",
        "/admin/leads/lead/",
        "/admin/leads/stagetransition/",
        "/admin/leads/engagement/",
        "/admin/accounts/user/",
    ):
        assert admin_client.get(url).status_code == 200, url


def test_the_default_scoring_table_is_seeded():
    assert dict(ScoringRule.objects.values_list("kind", "points")) == SPEC_POINTS


def test_saving_mql_criteria_in_admin_publishes_a_new_active_version(admin_client):
    v1 = MQLCriteria.objects.get(is_active=True)
    response = admin_client.post(
        mql_criteria_change_url(v1),
        mql_criteria_form(
            score_threshold="20",
            required_kinds=["pricing_page_view", "demo_request"],
            note="Tighter after Q3 review",
        ),
    )
    assert response.status_code == 302
    v1.refresh_from_db()
    v2 = MQLCriteria.objects.get(is_active=True)
    assert (v1.version, v1.score_threshold, v1.is_active) == (1, 10, False)
    assert (v2.version, v2.score_threshold, v2.required_kinds) == (
        2,
        20,
        ["pricing_page_view", "demo_request"],
    )
    assert v2.created_by.username == "ada"


def test_a_negative_threshold_is_refused_with_a_message(admin_client):
    response = admin_client.post(
        mql_criteria_change_url(), mql_criteria_form(score_threshold="-1", required_kinds=[])
    )
    assert response.status_code == 200
    assert "greater than or equal to 0" in response.content.decode()
    assert MQLCriteria.objects.count() == 1


def test_an_employee_minimum_above_the_maximum_is_refused(admin_client):
    response = admin_client.post(
        "/admin/criteria/fitrule/1/change/",
        {
            "employees_min": "600",
            "employees_max": "500",
            "allowed_industries": "",
            "allowed_countries": "US, JPN",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "at least the minimum" in body and "JPN" in body
    assert FitRule.load().employees_min == 50


def test_criteria_versions_cannot_be_deleted(admin_client):
    v1 = MQLCriteria.objects.get(is_active=True)
    assert admin_client.get(f"/admin/criteria/mqlcriteria/{v1.pk}/delete/").status_code == 403


def test_an_admin_transition_goes_through_the_lifecycle_service(
    admin_client, marketer, manager, rep
):
    lead = walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager)
    page = admin_client.get(f"/admin/leads/lead/{lead.pk}/change/").content.decode()
    assert f"/admin/leads/lead/{lead.pk}/transition/accept/" in page
    assert f"/admin/leads/lead/{lead.pk}/transition/qualify/" not in page  # not from mql

    refused = admin_client.post(
        f"/admin/leads/lead/{lead.pk}/transition/reject/", {"expected_stage": "mql"}
    )
    assert refused.status_code == 200 and "Choose a reject reason" in refused.content.decode()

    admin_client.post(
        f"/admin/leads/lead/{lead.pk}/transition/reject/",
        {"expected_stage": "mql", "reason": "no_budget", "note": "Said next year"},
    )
    row = StageTransition.objects.filter(lead=lead).last()
    assert (row.transition, row.reason, row.note, row.actor.username) == (
        "reject",
        "no_budget",
        "Said next year",
        "ada",
    )


def test_the_lead_admin_shows_stage_read_only_and_offers_no_delete(admin_client, marketer, manager):
    lead = LeadFactory()
    page = admin_client.get(f"/admin/leads/lead/{lead.pk}/change/").content.decode()
    assert 'name="stage"' not in page
    assert admin_client.get(f"/admin/leads/lead/{lead.pk}/delete/").status_code == 403
