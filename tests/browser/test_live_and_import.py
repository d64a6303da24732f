"""Issue 12 in a real browser: the live inbox, "To qualify", notifications and the import preview."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from apps.accounts.roles import ROLE_GROUPS
from apps.leads.services import lead_transition
from tests.browser.conftest import log_in
from tests.factories import LeadFactory
from tests.leads.helpers import form_values, walk_to

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def fast_polls(settings, tmp_path):
    assert Group.objects.filter(name__in=ROLE_GROUPS).count() == len(ROLE_GROUPS)
    settings.LEADFLOW_LIVE_POLL_SECONDS = 1
    settings.LEADFLOW_IMPORT_DIR = tmp_path


@pytest.fixture
def team(team):
    """Oscar is away, taking no new leads: every MQL of these stories goes to Rita."""
    team["oscar"].accepts_new_leads = False
    team["oscar"].save(update_fields=["accepts_new_leads"])
    return team


def mql(team, **profile):
    lead = walk_to(
        LeadFactory(**profile), "mql", marketer=team["marketer"], manager=team["manager"]
    )
    assert lead.owner == team["rep"]
    return lead


def test_the_inbox_receives_an_mql_and_loses_a_taken_one_without_reload_keeping_typing(
    open_page, screenshot, team
):
    kept = mql(team, first_name="Ben", last_name="Okafor", company="Granite Freight")
    taken = mql(team, first_name="Cleo", last_name="Park", company="Harbor Labs")
    page = open_page()
    log_in(page, "rita")
    expect(page.get_by_test_id("inbox-count")).to_have_text("2")
    expect(page.locator("#pool-list")).to_be_hidden()  # nothing in the pool: no empty section
    page.evaluate("window.notReloaded = true")

    # Rita starts rejecting Ben, typing a note.
    card = page.locator(f"#lead-{kept.pk}")
    card.locator("summary", has_text="Reject").click()
    card.locator("textarea[name=note]").fill("Half-typed note")

    # Elsewhere: marketing promotes a new MQL (round-robin gives it to Rita) ...
    arrived = mql(team, first_name="Aiko", last_name="Tanaka", company="Kumo Systems")
    expect(page.locator(f"#lead-{arrived.pk}")).to_contain_text("Kumo Systems", timeout=8000)
    expect(page.get_by_test_id("inbox-count")).to_have_text("3")
    expect(page.locator(".bell .badge")).to_have_text("3")

    # ... and a manager gives Cleo to Oscar: her card says so and goes.
    lead_transition(
        lead=taken.pk,
        name="reassign",
        actor=team["manager"],
        values=form_values("reassign", {"owner": "oscar"}),
    )
    gone = page.locator(f"#lead-{taken.pk}")
    expect(gone).to_contain_text(
        "This lead changed: it is no longer available to you.", timeout=8000
    )
    expect(gone).to_have_count(0, timeout=8000)

    # Rita accepts Aiko in another tab: this one says she did, not "someone else".
    lead_transition(lead=arrived.pk, name="accept", actor=team["rep"], values={})
    accepted = page.locator(f"#lead-{arrived.pk}")
    expect(accepted).to_contain_text("Accepted by you (in another tab or window)", timeout=8000)
    expect(accepted).to_have_count(0, timeout=8000)

    # Nothing reloaded, and what Rita typed is still there.
    assert page.evaluate("window.notReloaded") is True
    expect(card.locator("textarea[name=note]")).to_have_value("Half-typed note")
    screenshot(page)


def test_the_to_qualify_view_counts_down_and_opens_the_bant_form(open_page, screenshot, team):
    lead = mql(team, first_name="Aiko", last_name="Tanaka", company="Kumo Systems")
    lead_transition(lead=lead.pk, name="accept", actor=team["rep"], values={})
    page = open_page()
    log_in(page, "rita")
    page.get_by_role("link", name="To qualify").click()
    card = page.locator(f"#lead-{lead.pk}")
    expect(card.locator("time.countdown")).to_have_text(re.compile(r"left$"))
    screenshot(page)
    card.get_by_role("link", name="Qualify (BANT)").click()
    expect(page).to_have_url(
        re.compile(rf"/leads/{lead.pk}/\?next=%2Fleads%2Fto-qualify%2F#bant-title$")
    )
    expect(page.locator("#bant-title")).to_be_in_viewport()


def test_marketing_sees_a_rejection_on_the_notifications_page(open_page, screenshot, team):
    lead = mql(team, first_name="Aiko", last_name="Tanaka", company="Kumo Systems")
    lead_transition(
        lead=lead.pk,
        name="reject",
        actor=team["rep"],
        values=form_values("reject", {"reason": "no_budget"}),
    )
    page = open_page(width=390, locale="ja-JP")
    log_in(page, "maya")
    page.locator(".bell").click()
    item = page.get_by_test_id("notification").first
    expect(item).to_contain_text("Rita Reyes")
    screenshot(page, "-ja-390")
    item.locator("a.notification-text").click()
    expect(page).to_have_url(re.compile(rf"/leads/{lead.pk}/$"))


def fair_csv(tmp_path):
    """A Shift_JIS file of four rows: one new lead, one known, one invalid, one repeat."""
    LeadFactory(email="known@example.com", last_name="Known", company="Old Co")
    csv = tmp_path / "fair.csv"
    csv.write_bytes(
        (
            "email,last_name,company,source\n"
            "sato@example.jp,佐藤,雲システム,event\n"
            "known@example.com,Known,Known Co,event\n"
            "broken,Nobody,,event\n"
            "SATO@example.jp,佐藤,雲システム株式会社,event\n"
        ).encode("cp932")
    )
    return csv


def preview(page, csv, *, link="Import leads", button="Check the file"):
    page.goto("/leads/")
    page.get_by_role("link", name=link).click()
    page.set_input_files("input[name=file]", str(csv))
    page.get_by_role("button", name=button).click()
    expect(page.get_by_test_id("import-status")).to_have_attribute("data-state", "done")


def test_a_marketer_imports_a_csv_after_a_preview(open_page, screenshot, team, tmp_path):
    page = open_page()
    log_in(page, "maya")
    preview(page, fair_csv(tmp_path))

    expect(page.get_by_test_id("import-created")).to_contain_text("1")
    expect(page.get_by_test_id("import-updated")).to_contain_text("1")
    # Row by row: what happens to each line of the file, filtered by what happens.
    rows = page.get_by_test_id("import-plan").locator("tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.nth(0)).to_contain_text("Create")
    expect(rows.nth(1)).to_contain_text("Changes: Company.")
    expect(rows.nth(2)).to_contain_text("Enter a valid email")
    expect(rows.nth(3)).to_contain_text("Same email as line 2")
    page.get_by_test_id("plan-filter-reject").click()
    expect(rows.filter(visible=True)).to_have_count(1)
    expect(rows.filter(visible=True)).to_contain_text("broken")
    page.get_by_test_id("plan-filter-merge").click()
    expect(rows.filter(visible=True)).to_have_text(re.compile("SATO@example.jp|sato@example.jp"))
    screenshot(page, "-preview")
    page.locator("label[for=plan-show-all]").click()
    expect(rows.filter(visible=True)).to_have_count(4)
    # The import waits for the box: the invalid rows are skipped only when the user says so.
    expect(page.get_by_role("button", name="Import 2 leads")).to_be_disabled()
    page.get_by_label("Skip the invalid rows").check()
    page.get_by_role("button", name="Import 2 leads").click()
    expect(page.get_by_test_id("import-status")).to_have_attribute("data-state", "done")
    expect(page.get_by_test_id("import-created")).to_contain_text("1lead created")
    screenshot(page, "-done")


@pytest.mark.parametrize("locale", ["en-US", "ja-JP"])
@pytest.mark.parametrize("width", [1440, 390])
def test_the_new_views_at_both_widths_in_both_languages(open_page, screenshot, team, locale, width):
    lead = mql(team, first_name="Aiko", last_name="Tanaka", company="Kumo Systems")
    lead_transition(lead=lead.pk, name="accept", actor=team["rep"], values={})
    lead_transition(
        lead=lead.pk,
        name="reject",
        actor=team["rep"],
        values=form_values("reject", {"reason": "no_budget"}),
    )
    accepted = mql(team, first_name="Ben", last_name="Okafor", company="Granite Freight")
    lead_transition(lead=accepted.pk, name="accept", actor=team["rep"], values={})
    japanese = locale.startswith("ja")
    rep_page = open_page(locale=locale, width=width)
    log_in(rep_page, "rita")
    rep_page.goto("/leads/to-qualify/")
    expect(rep_page.locator("h1")).to_have_text("評価待ち" if japanese else "To qualify")
    screenshot(rep_page, f"-to-qualify-{locale}-{width}")
    marketer_page = open_page(locale=locale, width=width)
    log_in(marketer_page, "maya")
    for path, name, heading in (
        ("/notifications/", "notifications", "通知" if japanese else "Notifications"),
        ("/leads/import/", "import", "リードをインポート" if japanese else "Import leads"),
        ("/leads/review/", "review", "レビューキュー" if japanese else "Review queue"),
    ):
        marketer_page.goto(path)
        expect(marketer_page.locator("h1").first).to_contain_text(heading)
        screenshot(marketer_page, f"-{name}-{locale}-{width}")
    if japanese:
        marketer_page.goto("/notifications/")
        expect(marketer_page.locator("main")).not_to_contain_text("Sales rejected")


def test_recycle_asks_first_and_only_the_confirmation_sends_the_lead_back(open_page, team):
    lead = walk_to(
        LeadFactory(first_name="Dana", last_name="Reyes", company="Lumen"),
        "rejected",
        marketer=team["marketer"],
        manager=team["manager"],
    )
    page = open_page()
    log_in(page, "maya")
    page.goto(page.url.split("/leads/")[0] + "/leads/review/")
    row = page.locator(f"#lead-{lead.pk}")

    # One click on Recycle only asks: the lead is still rejected.
    row.locator("summary", has_text="Recycle").click()
    expect(row).to_contain_text("Send Dana Reyes back to nurture?")
    page.wait_for_timeout(500)
    lead.refresh_from_db()
    assert lead.stage == "rejected"

    # Escape takes the question back; the confirmation recycles.
    page.keyboard.press("Escape")
    expect(row.locator("details.popover").first).not_to_have_attribute("open", "")
    row.locator("summary", has_text="Recycle").click()
    row.get_by_role("button", name="Yes, recycle").click()
    expect(page.locator("#messages")).to_contain_text("Dana Reyes")
    lead.refresh_from_db()
    assert lead.stage == "new"


@pytest.mark.parametrize("locale", ["en-US", "ja-JP"])
@pytest.mark.parametrize("width", [1440, 390])
def test_the_import_preview_at_both_widths_in_both_languages(
    open_page, screenshot, team, tmp_path, locale, width
):
    japanese = locale.startswith("ja")
    page = open_page(locale=locale, width=width)
    log_in(page, "maya")
    preview(
        page,
        fair_csv(tmp_path),
        link="リードをインポート" if japanese else "Import leads",
        button="ファイルをチェック" if japanese else "Check the file",
    )
    plan = page.get_by_test_id("import-plan")
    expect(plan.locator("tbody tr")).to_have_count(4)
    expect(plan).to_contain_text("行ごとの内容" if japanese else "Row by row")
    screenshot(page, f"-{locale}-{width}")
    # The table fits the phone: nothing makes the page wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # The filter's hidden radios keep their labels; the table reads in order.
    serious = [
        violation["id"]
        for violation in Axe().run(page).response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
    assert not serious
