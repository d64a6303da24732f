"""An admin, in a real browser (Debian's chromium), from the conversion drivers to a suggestion, its
draft in the what-if, and publishing it: the next promotion is stamped with the new version."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from apps.criteria.models import FitRule, MQLCriteria
from apps.leads.services import EngagementInput, engagements_record
from apps.reports.weeks import WeekWindow
from tests.browser.conftest import log_in
from tests.factories import LeadFactory
from tests.reports.funnels import worked_example

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def shoot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_an_admin_turns_a_suggestion_into_the_active_criteria_from_the_drivers_page(
    open_page, history, admin_user, rep
):
    worked_example(history, window=WeekWindow.default())  # the last twelve complete weeks
    page = open_page(width=1360)
    log_in(page, "ada")

    page.goto("/reports/drivers/")
    expect(page.get_by_role("heading", name="Conversion drivers")).to_be_visible()
    top = page.get_by_test_id("drivers-table").locator("tbody tr")
    for row in range(3):
        expect(top.nth(row)).to_contain_text("×2.10")
    expect(page.get_by_test_id("drivers-table")).to_contain_text("Pricing page view: at least once")
    shoot(page, "drivers.png")

    page.get_by_test_id("suggestions-link").click()
    expect(page.get_by_role("heading", name="Suggested MQL criteria")).to_be_visible()
    candidate = page.get_by_test_id("candidate").filter(
        has_text=re.compile(r"employees 50–500 \(was")
    )
    expect(candidate).to_have_count(1)
    expect(candidate).to_contain_text("28.0%")
    expect(candidate).to_contain_text("require at least one pricing page view")
    shoot(page, "suggestions.png")

    candidate.get_by_test_id("make-draft").click()
    expect(page.get_by_test_id("draft-banner")).to_contain_text("Draft, not active.")
    whatif = page.get_by_test_id("whatif")
    expect(whatif).to_be_visible()
    expect(whatif).to_contain_text("fit rule: employees 50–500")
    expect(whatif.locator('tfoot [data-col="proposed-mqls"]')).to_have_text("100")
    shoot(page, "suggestion-draft-whatif.png")
    assert MQLCriteria.active().version == 2  # the draft is not active yet

    page.locator('input[name="_save"]').click()
    expect(page.locator(".messagelist")).to_contain_text("Saved as version 3, now active.")

    active = MQLCriteria.active()
    assert active.version == 3 and active.required_kinds == ["pricing_page_view"]
    assert (FitRule.load().employees_min, FitRule.load().employees_max) == (50, 500)
    lead = LeadFactory(employees=120)
    engagements_record(
        items=[
            EngagementInput(lead_id=lead.pk, kind=kind, occurred_at=lead.created_at)
            for kind in ("pricing_page_view", "page_view", "email_click")
        ]
    )
    assert lead.transitions.get(transition="promote").criteria.version == 3
