"""The review queue's bars by reason, clicked in a real browser: each stays, the picked one marked."""

import re

import pytest
from playwright.sync_api import expect

from apps.leads.models import Lead
from tests.browser.conftest import log_in
from tests.factories import LeadFactory
from tests.leads.helpers import walk_to

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_clicking_a_reason_bar_keeps_every_bar_and_clicking_it_again_clears(open_page, team):
    for company, reason in (("Budget Co", "no_budget"), ("Timing Co", "bad_timing")):
        walk_to(
            LeadFactory(company=company),
            "rejected",
            marketer=team["marketer"],
            manager=team["manager"],
        )
        Lead.objects.filter(company=company).update(last_reject_reason=reason)
    page = open_page()
    log_in(page, "maya")
    page.goto("/leads/review/")
    bars = page.locator(".reason-counts li")
    expect(bars).to_have_count(2)

    page.locator('li[data-reason="bad_timing"] a').click()

    expect(page).to_have_url(re.compile(r"reason=bad_timing"))
    expect(page.get_by_test_id("review-card")).to_have_count(1)
    expect(bars).to_have_count(2)
    picked = page.locator('li[data-reason="bad_timing"]')
    expect(picked).to_have_class(re.compile(r"\bis-selected\b"))
    expect(picked.locator("a")).to_have_attribute("aria-current", "true")
    expect(page.locator('li[data-reason="no_budget"]')).not_to_have_class(
        re.compile(r"is-selected")
    )

    picked.locator("a").click()

    expect(page).not_to_have_url(re.compile(r"reason="))
    expect(page.get_by_test_id("review-card")).to_have_count(2)
    expect(page.locator(".reason-counts li.is-selected")).to_have_count(0)
