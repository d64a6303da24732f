"""What people trip on, in a real browser: a form fixed after an error, the keyboard, local time."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from apps.leads.models import Lead
from tests.browser.conftest import log_in
from tests.factories import LeadFactory
from tests.leads.helpers import walk_to

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("oscar_away"),  # every MQL of these stories goes to Rita
]


def lead_at(team, stage, **profile):
    return walk_to(
        LeadFactory(**profile), stage, marketer=team["marketer"], manager=team["manager"]
    )


def fill_bant_without_a_date(page):
    page.fill("#id_qualify_budget_amount", "50000")
    page.select_option("#id_qualify_authority", "decision_maker")
    page.fill("#id_qualify_need", "Replace three spreadsheets")


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_a_bant_form_fixed_after_an_error_saves_and_says_so(open_page, team, javascript):
    lead = lead_at(team, "accepted", first_name="Aiko", last_name="Tanaka", company="Kumo")
    page = open_page(javascript=javascript)
    log_in(page, "rita")
    page.goto(f"/leads/{lead.pk}/")

    fill_bant_without_a_date(page)
    page.get_by_role("button", name="Qualify as SQL").click()

    expect(page.locator(".field-error")).to_contain_text("The expected decision date is required.")
    expect(page.get_by_test_id("lead-stage")).to_have_text("Accepted")
    page.fill("#id_qualify_timeline", (dt.date.today() + dt.timedelta(days=30)).isoformat())
    page.get_by_role("button", name="Qualify as SQL").click()

    expect(page.get_by_test_id("lead-stage")).to_have_text("SQL")
    expect(page.locator("#messages")).to_contain_text("Aiko Tanaka")
    expect(page.locator("#messages")).not_to_contain_text("did not work")
    expect(page).to_have_url(re.compile(rf"/leads/{lead.pk}/$"))
    assert Lead.objects.get(pk=lead.pk).stage == "sql"


FOCUSED = (
    "(() => { const e = document.activeElement;"
    " const card = e.closest('.lead-card');"
    " return (card ? card.id + ' ' : '') + e.tagName + ' ' + e.textContent.trim(); })()"
)


def assert_focus(page, expected: str):
    """The focus reaches an element described as "<card id> <TAG> <text…>" (it may move a moment later)."""
    for _attempt in range(50):
        now = page.evaluate(FOCUSED)
        if now.startswith(expected):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"focus is on {now[:80]!r}, not {expected!r}")


def test_a_keyboard_user_accepts_and_rejects_and_the_focus_stays_in_the_list(open_page, team):
    first, second, third = (
        lead_at(team, "mql", company=company) for company in ("Alpha", "Beta", "Gamma")
    )
    page = open_page()
    log_in(page, "rita")
    cards = page.get_by_test_id("lead-card")
    expect(cards).to_have_count(3)
    order = [card.get_attribute("id") for card in cards.all()]

    # Accept the first card from the keyboard: focus moves to the card that takes its place.
    page.locator(f"#{order[0]}").get_by_role("button", name="Accept").focus()
    page.keyboard.press("Enter")
    expect(page.locator(f"#{order[0]}")).to_have_count(0)
    expect(page.locator("#messages")).to_contain_text("You accepted")
    assert_focus(page, f"{order[1]} BUTTON Accept")

    # Reject it: Tab to the pop-over, open it, Escape closes it and returns to its button.
    page.keyboard.press("Tab")
    assert_focus(page, f"{order[1]} SUMMARY Reject")
    page.keyboard.press("Enter")
    assert_focus(page, f"{order[1]} SELECT")  # straight into the reason
    page.keyboard.press("Escape")
    expect(page.locator(f"#{order[1]} details.popover")).not_to_have_attribute("open", "")
    assert_focus(page, f"{order[1]} SUMMARY Reject")

    page.keyboard.press("Enter")
    assert_focus(page, f"{order[1]} SELECT")  # reopened: into the reason again
    page.keyboard.press("ArrowDown")  # the first reason
    page.keyboard.press("Tab")
    page.keyboard.type("No project this year")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator(f"#{order[1]}")).to_have_count(0)
    expect(page.locator("#messages")).to_contain_text("You rejected")
    assert_focus(page, f"{order[2]} BUTTON Accept")
    stages = dict(
        Lead.objects.filter(pk__in=[first.pk, second.pk, third.pk]).values_list("company", "stage")
    )
    assert sorted(stages.values()) == ["accepted", "mql", "rejected"]


def test_a_tokyo_user_sees_deadlines_in_tokyo_time(open_page, team):
    lead = lead_at(team, "mql", company="Sakura Fintech")
    due = dt.datetime(2030, 11, 30, 4, 58, tzinfo=dt.UTC)  # 13:58 in Tokyo
    Lead.objects.filter(pk=lead.pk).update(accept_due_at=due)

    # Taken from the browser while the account names no zone...
    page = open_page(timezone_id="Asia/Tokyo")
    log_in(page, "rita")
    card = page.locator(f"#lead-{lead.pk}")
    expect(card.locator(".deadline")).to_contain_text("Nov 30, 2030, 13:58")
    page.goto(f"/leads/{lead.pk}/")
    expect(page.locator(".sla-card")).to_contain_text("Nov 30, 2030, 13:58")
    # ...and the same countdown words with JavaScript and without.
    countdown = page.locator(".sla-card time.countdown").inner_text()
    assert re.fullmatch(r"\d+ d \d+ h left", countdown)

    # Chosen on the account, in the header, it wins over a browser elsewhere.
    team["rep"].refresh_from_db()
    elsewhere = open_page(timezone_id="America/New_York", locale="ja-JP")
    log_in(elsewhere, "rita")
    elsewhere.select_option("#id_time_zone_choice", "Asia/Tokyo")
    expect(elsewhere.locator(f"#lead-{lead.pk} .deadline")).to_contain_text("2030年11月30日 13:58")
    assert Lead.objects.get(pk=lead.pk).accept_due_at == due
    team["rep"].refresh_from_db()
    assert team["rep"].time_zone == "Asia/Tokyo"
    no_js = open_page(javascript=False)
    log_in(no_js, "rita")
    no_js.goto(f"/leads/{lead.pk}/")
    expect(no_js.locator(".sla-card")).to_contain_text("Nov 30, 2030, 13:58")
    assert re.fullmatch(r"\d+ d \d+ h left", no_js.locator(".sla-card time.countdown").inner_text())
