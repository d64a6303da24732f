"""The inbox's one reject form and one reassign form follow the card that is clicked, in a real browser."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from apps.accounts.roles import ROLE_GROUPS
from apps.leads.models import Lead
from tests.browser.conftest import log_in
from tests.factories import LeadFactory
from tests.leads.helpers import walk_to

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def migrated_roles_are_back():
    # The live server's database is flushed between tests; the migrations' rows come back with it.
    assert Group.objects.filter(name__in=ROLE_GROUPS).count() == len(ROLE_GROUPS)


def test_the_reject_form_moves_to_the_card_opened_last_and_rejects_that_lead(
    open_page, screenshot, team
):
    first, second = (
        walk_to(LeadFactory(company=company), "mql", marketer=team["maya"], manager=team["mona"])
        for company in ("First Co", "Second Co")
    )
    page = open_page()
    log_in(page, "mona")
    first_card, second_card = page.locator(f"#lead-{first.pk}"), page.locator(f"#lead-{second.pk}")

    first_card.locator("summary", has_text="Reject").click()
    expect(first_card.locator("#reject-form")).to_have_count(1)
    # The open pop-over covers the next card; a keyboard user opens the second one anyway.
    second_card.locator("summary", has_text="Reject").press("Enter")
    expect(second_card.locator("#reject-form")).to_have_count(1)
    expect(first_card.locator("#reject-form")).to_have_count(0)
    expect(first_card.locator("details[open]")).to_have_count(0)

    second_card.locator("select[name=reason]").select_option("no_need")
    second_card.get_by_role("button", name="Reject lead").click()

    expect(second_card).to_have_count(0)
    expect(page.locator("#messages")).to_contain_text("Second Co")
    assert Lead.objects.get(pk=second.pk).stage == "rejected"
    assert Lead.objects.get(pk=first.pk).stage == "mql"
    screenshot(page)


def test_the_reassign_form_offers_everyone_but_the_current_owner(open_page, team):
    lead = walk_to(LeadFactory(), "mql", marketer=team["maya"], manager=team["mona"])
    owner = lead.owner.username
    page = open_page()
    log_in(page, "mona")
    card = page.locator(f"#lead-{lead.pk}")

    card.locator("summary", has_text="Reassign").click()

    options = card.locator("#reassign-form select[name=owner] option:not([disabled])")
    expect(options).to_have_count(2)  # "Choose a rep…" and the other rep
    assert [option.get_attribute("value") for option in options.all()] == ["", "oscar"]
    assert owner == "rita"


def test_a_refused_reject_keeps_the_form_open_with_the_note_and_focus_on_the_reason(
    open_page, team
):
    from apps.criteria.models import RejectReason

    lead = walk_to(
        LeadFactory(company="Kept Co"), "mql", marketer=team["maya"], manager=team["mona"]
    )
    page = open_page()
    log_in(page, "mona")
    card = page.locator(f"#lead-{lead.pk}")
    card.locator("summary", has_text="Reject").click()
    card.locator("select[name=reason]").select_option("no_need")
    card.locator("textarea[name=note]").fill("Called twice, no budget this year")
    # The reason is retired while the form is open: the server refuses it.
    RejectReason.objects.filter(code="no_need").update(is_active=False)
    card.get_by_role("button", name="Reject lead").click()

    expect(card.locator("#reject-form .field-error")).to_be_visible()
    expect(card.locator("details.popover[open] #reject-form")).to_have_count(1)
    expect(card.locator("textarea[name=note]")).to_have_value("Called twice, no budget this year")
    expect(card.locator("select[name=reason]")).to_be_focused()
    assert Lead.objects.get(pk=lead.pk).stage == "mql"
