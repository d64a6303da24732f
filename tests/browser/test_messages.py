"""Messages after an action, in a real browser: in the flow, dismissible, replaced by the next one."""

import re

import pytest
from playwright.sync_api import expect

from apps.criteria.models import RejectReason
from apps.leads.services import lead_transition
from tests.browser.conftest import log_in, ritas_mql
from tests.factories import LeadFactory
from tests.leads.helpers import form_values, walk_to

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_done_message_sits_above_the_cards_goes_on_a_later_error_and_closes_from_the_keyboard(
    open_page, screenshot, team
):
    first, second = (
        walk_to(LeadFactory(company=company), "mql", marketer=team["maya"], manager=team["mona"])
        for company in ("First Co", "Second Co")
    )
    page = open_page(width=390)
    log_in(page, "mona")
    page.locator(f"#lead-{first.pk}").get_by_role("button", name="Accept").click()
    flash = page.locator("#messages .flash")
    expect(flash).to_have_count(1)
    expect(flash).to_contain_text("First Co")

    # In the flow: the card below starts under the message, whatever the scroll.
    card = page.locator(f"#lead-{second.pk}")
    page.mouse.wheel(0, 400)
    assert card.bounding_box()["y"] >= flash.bounding_box()["y"] + flash.bounding_box()["height"]

    # A refused reject (its reason retired meanwhile): the error shows in the pop-over and
    # the old "accepted" goes.
    card.locator("summary", has_text="Reject").click()
    card.locator("select[name=reason]").select_option("no_need")
    RejectReason.objects.filter(code="no_need").update(is_active=False)
    card.get_by_role("button", name="Reject lead").click()
    expect(card.locator("#reject-form .field-error")).to_be_visible()
    expect(page.locator("#messages")).not_to_contain_text("First Co")

    # Accept the second: its message only, closed from the keyboard by its labelled button.
    card.locator("details[open] summary").click()
    card.get_by_role("button", name="Accept").click()
    expect(flash).to_have_count(1)
    expect(flash).to_contain_text("Second Co")
    close = page.get_by_role("button", name="Dismiss this message")
    close.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#messages .flash")).to_have_count(0)
    screenshot(page)


def test_acting_on_a_card_whose_lead_was_just_taken_away_names_the_lead(
    open_page, settings, team, oscar_away
):
    settings.LEADFLOW_LIVE_POLL_SECONDS = 600  # the card stays: the user acts before the poll
    lead = ritas_mql(team, first_name="Cleo", last_name="Park", company="Harbor Labs")
    page = open_page()
    log_in(page, "rita")
    card = page.locator(f"#lead-{lead.pk}")
    expect(card).to_be_visible()
    lead_transition(
        lead=lead.pk,
        name="reassign",
        actor=team["manager"],
        values=form_values("reassign", {"owner": "oscar"}),
    )
    card.get_by_role("button", name="Accept").click()
    expect(page.locator("#messages .flash")).to_have_text(
        re.compile(r"^Cleo Park is no longer available to you\. Reload the page")
    )
