"""The paths people click every day, in a real browser: accept, reject, review and resubmit."""

import re

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from apps.accounts.roles import ROLE_GROUPS
from apps.criteria.models import RejectReason
from apps.leads.models import Lead
from tests.browser.conftest import log_in, ritas_mql
from tests.factories import LeadFactory
from tests.leads.helpers import walk_to

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("oscar_away"),  # every MQL of these stories goes to Rita
]


@pytest.fixture(autouse=True)
def migrated_rows_are_back():
    # The live server's database is flushed between tests; the migrations' rows come back with it.
    assert set(Group.objects.filter(name__in=ROLE_GROUPS).values_list("name", flat=True)) == set(
        ROLE_GROUPS
    )
    assert RejectReason.objects.filter(code="no_budget", is_active=True).exists()


def test_a_rep_accepts_an_mql_and_sees_it_leave_the_inbox(open_page, screenshot, team):
    lead = ritas_mql(
        team, first_name="Aiko", last_name="Tanaka", company="Kumo Systems", title="VP Sales"
    )
    ritas_mql(team, first_name="Ben", last_name="Okafor", company="Granite Freight")
    page = open_page()

    log_in(page, "rita")

    expect(page).to_have_url(re.compile(r"/leads/inbox/$"))
    card = page.locator(f"#lead-{lead.pk}")
    expect(card).to_contain_text("Kumo Systems")
    expect(card.locator("time.countdown")).to_have_text(re.compile(r"^\d+ h \d+ min left$"))
    expect(page.get_by_test_id("inbox-count")).to_have_text("2")
    phone = open_page(width=390)
    log_in(phone, "rita")
    screenshot(phone, "-phone")
    page.evaluate("window.notReloaded = true")

    card.get_by_role("button", name="Accept").click()

    expect(card).to_have_count(0)
    expect(page.locator("#messages")).to_contain_text("You accepted Aiko Tanaka (Kumo Systems).")
    expect(page.get_by_test_id("inbox-count")).to_have_text("1")
    assert page.evaluate("window.notReloaded") is True  # htmx swapped the inbox in place
    assert Lead.objects.get(pk=lead.pk).stage == "accepted"
    screenshot(page)


def test_accept_still_works_with_javascript_off(open_page, screenshot, team):
    lead = ritas_mql(team, company="Hikari Logistics")
    page = open_page(javascript=False)
    log_in(page, "rita")

    page.locator(f"#lead-{lead.pk}").get_by_role("button", name="Accept").click()

    expect(page).to_have_url(re.compile(r"/leads/inbox/$"))
    expect(page.locator("#messages")).to_contain_text("You accepted")
    expect(page.locator(f"#lead-{lead.pk}")).to_have_count(0)
    assert Lead.objects.get(pk=lead.pk).stage == "accepted"
    screenshot(page)


ENGLISH = {
    "locale": "en-US",
    "reject": "Reject",
    "reject_lead": "Reject lead",
    "rejected": "You rejected",
    "reason_label": "No budget",
    "filter": "Filter",
    "resubmit": "Resubmit",
    "resubmit_lead": "Resubmit to sales",
    "resubmitted": "back in sales' inbox",
    "queue": "Review queue",
}
JAPANESE = {
    "locale": "ja-JP",
    "reject": "却下",
    "reject_lead": "リードを却下",
    "rejected": "を却下しました",
    "reason_label": "予算なし",
    "filter": "絞り込む",
    "resubmit": "再提出",
    "resubmit_lead": "営業に再提出",
    "resubmitted": "営業の受信箱に戻しました",
    "queue": "レビューキュー",
}


def reject_then_resubmit(open_page, screenshot, team, words):
    lead = ritas_mql(team, first_name="Yui", last_name="Sato", company="Sakura Fintech")
    bystander = ritas_mql(team, company="Minato Retail Group")
    walk_to(
        LeadFactory(company="Other Reason Co"),
        "rejected",
        marketer=team["marketer"],
        manager=team["manager"],
    )
    Lead.objects.filter(company="Other Reason Co").update(last_reject_reason="bad_timing")

    # The rep rejects with a reason from the list and a note.
    rep_page = open_page(locale=words["locale"])
    log_in(rep_page, "rita")
    card = rep_page.locator(f"#lead-{lead.pk}")
    card.locator("summary", has_text=words["reject"]).click()
    card.locator("select[name=reason]").select_option("no_budget")
    card.locator("textarea[name=note]").fill("Student project, no company budget")
    card.get_by_role("button", name=words["reject_lead"]).click()
    expect(card).to_have_count(0)
    expect(rep_page.locator(f"#lead-{bystander.pk}")).to_have_count(1)
    expect(rep_page.locator("#messages")).to_contain_text(words["rejected"])
    expect(rep_page.locator("#messages")).to_contain_text(words["reason_label"])
    assert Lead.objects.get(pk=lead.pk).stage == "rejected"

    # Marketing finds it in the review queue by that reason and resubmits it.
    page = open_page(locale=words["locale"])
    log_in(page, "maya")
    expect(page).to_have_url(re.compile(r"/leads/review/$"))
    expect(page.locator("h1")).to_have_text(words["queue"])
    expect(page.get_by_test_id("review-card")).to_have_count(2)
    page.locator("#id_reason").select_option("no_budget")
    page.get_by_role("button", name=words["filter"], exact=True).click()
    expect(page).to_have_url(re.compile(r"reason=no_budget"))
    expect(page.get_by_test_id("review-card")).to_have_count(1)
    expect(page.get_by_test_id("review-count")).to_have_text("1")
    row = page.locator(f"#lead-{lead.pk}")
    expect(row).to_contain_text("Student project, no company budget")
    expect(row).to_contain_text(words["reason_label"])
    row.locator("summary", has_text=words["resubmit"]).click()
    row.locator("textarea[name=note]").fill("Came back to the pricing page twice this week")
    screenshot(page, "-review")
    row.get_by_role("button", name=words["resubmit_lead"]).click()

    expect(row).to_have_count(0)
    expect(page.locator("#messages")).to_contain_text(words["resubmitted"])
    expect(page.get_by_test_id("review-count")).to_have_text("0")
    lead.refresh_from_db()
    assert lead.stage == "mql"
    assert lead.transitions.filter(
        transition="resubmit", note="Came back to the pricing page twice this week"
    ).exists()
    screenshot(page)
    return page


def test_a_rep_rejects_with_a_reason_and_marketing_resubmits_it_from_the_filtered_queue(
    open_page, screenshot, team
):
    reject_then_resubmit(open_page, screenshot, team, ENGLISH)


def test_the_same_handoff_in_japanese(open_page, screenshot, team):
    page = reject_then_resubmit(open_page, screenshot, team, JAPANESE)
    assert page.locator("html").get_attribute("lang") == "ja"
