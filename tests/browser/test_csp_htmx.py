"""htmx actions stay within the Content-Security-Policy: no inline style or script after a swap.

The tour (test_tour.py) counts the violations of each page as it loads; these count the ones
an htmx action causes. A textarea the user resized carries a style attribute; htmx's settle
step used to copy it onto the swapped-in element with setAttribute, which style-src 'self'
refuses (hence "attributesToSettle" without "style" in base.html's htmx-config).
"""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from apps.accounts.roles import ROLE_GROUPS
from apps.criteria.models import RejectReason
from tests.browser.conftest import log_in
from tests.browser.test_tour import CSP_LISTENER
from tests.factories import LeadFactory, UserFactory
from tests.leads.helpers import walk_to

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_htmx_actions_in_the_inbox_break_no_csp_rule(open_page):
    assert Group.objects.filter(name__in=ROLE_GROUPS).count() == len(ROLE_GROUPS)
    UserFactory(username="rita", first_name="Rita", roles=["sales"])
    maya = UserFactory(username="maya", roles=["marketing"])
    mona = UserFactory(username="mona", first_name="Mona", roles=["sales_manager"])
    first, second = (
        walk_to(LeadFactory(company=company), "mql", marketer=maya, manager=mona)
        for company in ("First Co", "Second Co")
    )
    page = open_page()
    page.context.add_init_script(CSP_LISTENER)
    log_in(page, "mona")
    page.goto("/leads/inbox/")
    page.locator(f"#lead-{first.pk}").get_by_role("button", name="Accept").click()
    expect(page.locator(f"#lead-{first.pk}")).to_have_count(0)

    card = page.locator(f"#lead-{second.pk}")
    card.locator("summary", has_text="Reject").click()
    card.locator("select[name=reason]").select_option("no_need")
    note = card.locator("textarea[name=note]")
    note.fill("Resized by the user")
    note.evaluate("el => { el.style.height = '6rem'; }")  # what dragging its corner does
    RejectReason.objects.filter(code="no_need").update(is_active=False)
    card.get_by_role("button", name="Reject lead").click()  # refused: the form is re-drawn
    expect(card.locator("#reject-form .field-error")).to_be_visible()
    card.locator("select[name=reason]").select_option("no_budget")
    card.get_by_role("button", name="Reject lead").click()
    expect(card).to_have_count(0)
    page.wait_for_timeout(200)
    assert page.evaluate("window.__cspViolations") == []
