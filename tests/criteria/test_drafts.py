"""Draft MQL criteria: never active until published; publishing one gives it the next version."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from apps.criteria.models import FitRule, MQLCriteria
from apps.leads.services import EngagementInput, engagements_record
from tests.criteria.helpers import mql_criteria_change_url, mql_criteria_form
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

TIGHTER = {
    "score_threshold": 12,
    "min_engagements": 3,
    "required_kinds": ["pricing_page_view"],
    "fit_required": True,
}
EMPLOYEES_100_TO_1000 = {
    "employees_min": 100,
    "employees_max": 1000,
    "allowed_industries": "",
    "allowed_countries": "",
}


def draft(**overrides):
    values = {**TIGHTER, **overrides}
    return MQLCriteria.create_draft(
        values=values, fit_rule_change=None, author=None, note="from a suggestion"
    )


def test_a_draft_has_no_version_and_is_never_the_active_criteria():
    v1 = MQLCriteria.active()

    made = draft()

    assert made.is_draft and made.version is None and not made.is_active
    assert MQLCriteria.active() == v1
    with translation.override("en"):
        assert str(made) == f"MQL criteria draft #{made.pk}"


def test_publishing_other_values_skips_drafts_and_leaves_them_drafts():
    made = draft()

    v2 = MQLCriteria.publish(values={"score_threshold": 15}, author=None, note="by hand")

    assert v2.version == 2 and v2.is_active
    made.refresh_from_db()
    assert made.is_draft and not made.is_active


def test_publishing_a_draft_makes_it_the_next_active_version_with_its_fit_rule(admin_user):
    made = MQLCriteria.create_draft(
        values=TIGHTER, fit_rule_change=EMPLOYEES_100_TO_1000, author=None, note="suggested"
    )

    published = MQLCriteria.publish(
        values={**TIGHTER, "score_threshold": 11}, author=admin_user, note="", draft=made
    )

    assert published.pk == made.pk
    assert (published.version, published.is_active, published.score_threshold) == (2, True, 11)
    assert published.created_by == admin_user and published.note == "suggested"
    assert MQLCriteria.active() == published
    assert list(MQLCriteria.objects.filter(is_active=True)) == [published]
    rule = FitRule.load()
    assert (rule.employees_min, rule.employees_max) == (100, 1000)
    assert published.fit_rule_change == EMPLOYEES_100_TO_1000  # kept as the version's record


def test_a_draft_is_published_once():
    made = draft()
    MQLCriteria.publish(values=TIGHTER, author=None, draft=made)

    with translation.override("en"), pytest.raises(ValidationError, match="already published as v"):
        MQLCriteria.publish(values=TIGHTER, author=None, draft=made)
    assert MQLCriteria.objects.filter(version__isnull=False).count() == 2


def test_an_identical_open_draft_is_reused_instead_of_piling_up():
    first = draft()

    again = draft(required_kinds=["pricing_page_view"])
    other = draft(score_threshold=20)

    assert again == first and other != first
    assert MQLCriteria.objects.filter(version__isnull=True).count() == 2


def test_a_draft_with_unknown_kinds_or_a_bad_fit_rule_is_refused():
    with pytest.raises(ValidationError):
        draft(required_kinds=["telepathy"])
    with translation.override("en"), pytest.raises(ValidationError, match="at least the minimum"):
        MQLCriteria.create_draft(
            values=TIGHTER,
            fit_rule_change={**EMPLOYEES_100_TO_1000, "employees_min": 2000},
            author=None,
        )
    with translation.override("en"), pytest.raises(ValidationError, match="Not two-letter"):
        MQLCriteria.create_draft(
            values=TIGHTER,
            fit_rule_change={**EMPLOYEES_100_TO_1000, "allowed_countries": "Japan"},
            author=None,
        )
    assert not MQLCriteria.objects.filter(version__isnull=True).exists()
    assert MQLCriteria.active().version == 1
    assert FitRule.load().employees_min == 50  # nothing half-applied


def test_the_next_promotion_is_stamped_with_the_published_draft(rep):
    made = draft(score_threshold=3, min_engagements=1, required_kinds=[], fit_required=False)
    published = MQLCriteria.publish(
        values={
            "score_threshold": 3,
            "min_engagements": 1,
            "required_kinds": [],
            "fit_required": False,
        },
        author=None,
        draft=made,
    )
    lead = LeadFactory()

    engagements_record(
        items=[
            EngagementInput(lead_id=lead.pk, kind="pricing_page_view", occurred_at=lead.created_at)
        ]
    )

    promotion = lead.transitions.get(transition="promote")
    assert promotion.criteria == published and promotion.criteria.version == 2


def test_saving_a_draft_in_admin_publishes_that_draft(admin_client):
    made = MQLCriteria.create_draft(
        values=TIGHTER, fit_rule_change=EMPLOYEES_100_TO_1000, author=None, note="suggested"
    )
    page = admin_client.get(f"/admin/criteria/mqlcriteria/{made.pk}/change/").content.decode()
    assert "Draft, not active." in page
    assert "Publishing it also sets the fit rule to: employees 100–1,000" in page

    response = admin_client.post(
        mql_criteria_change_url(made),
        mql_criteria_form(
            score_threshold="12", note="Suggested, checked in the what-if", _save="Save"
        ),
    )

    assert response.status_code == 302
    made.refresh_from_db()
    assert (made.version, made.is_active, made.note) == (
        2,
        True,
        "Suggested, checked in the what-if",
    )
    assert MQLCriteria.objects.count() == 2  # the draft became v2; no copy was made
    assert FitRule.load().employees_max == 1000
