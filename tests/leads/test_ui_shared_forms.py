"""Lists render each pop-over form once, not once per card, and still work without JavaScript."""

import pytest
from django.urls import reverse

from apps.leads.models import Lead
from tests.factories import LeadFactory, UserFactory
from tests.leads.helpers import mqls, run_transition, walk_to

pytestmark = pytest.mark.django_db

INBOX = "/leads/inbox/"
REVIEW = "/leads/review/"


def transition_url(lead, name):
    return reverse("leads:transition", args=[lead.pk, name])


def card_of(lead, body):
    """The HTML of ``lead``'s card on a list page."""
    card = body[body.index(f'id="lead-{lead.pk}"') :]
    return card[: card.index("</article>")]


def test_the_inbox_has_one_reject_form_and_one_reassign_form_whatever_the_cards(
    client, manager, marketer, rep
):
    leads = mqls(6, marketer=marketer, manager=manager)
    client.force_login(manager)

    body = client.get(INBOX).content.decode()

    assert body.count('data-testid="lead-card"') == 6
    assert body.count('id="reject-form"') == 1 and body.count('id="reassign-form"') == 1
    assert body.count('name="reason"') == 2  # the reject reason and the reassign reason
    for lead in leads:
        assert f'data-url="{transition_url(lead, "reject")}"' in body
        assert f'data-url="{transition_url(lead, "reassign")}"' in body


def test_without_javascript_a_cards_link_opens_the_reject_form_inside_it(
    client, rep, marketer, manager
):
    first, second = mqls(2, marketer=marketer, manager=manager)
    client.force_login(rep)

    body = client.get(INBOX, {"open": "reject", "lead": second.pk}).content.decode()

    card = card_of(second, body)
    assert f'action="{transition_url(second, "reject")}"' in card
    assert '<details class="popover js-shared-form" data-form="reject-form"' in card
    assert " open>" in card and 'id="reject-reason"' in card
    assert body.count('id="reject-form"') == 1
    # Posted from there, it rejects and sends the rep back to the plain inbox.
    response = client.post(
        transition_url(second, "reject"),
        {"expected_stage": "mql", "reason": "no_need", "next": INBOX, "origin": "inbox"},
    )
    assert response.status_code == 302 and response["Location"] == INBOX
    assert Lead.objects.get(pk=second.pk).stage == "rejected"
    assert Lead.objects.get(pk=first.pk).stage == "mql"


@pytest.mark.parametrize("lead", ["²", "9" * 20, "x"])
def test_an_open_form_link_to_no_lead_shows_the_plain_inbox(client, rep, marketer, manager, lead):
    mqls(1, marketer=marketer, manager=manager)
    client.force_login(rep)

    response = client.get(INBOX, {"open": "reject", "lead": lead})

    assert response.status_code == 200
    assert " open>" not in response.content.decode()


def test_the_open_form_link_keeps_the_page_the_rep_was_on(client, manager, marketer, rep):
    lead = mqls(1, marketer=marketer, manager=manager)[0]
    client.force_login(manager)

    body = client.get(INBOX, {"rep": rep.username}).content.decode()

    assert (
        f'href="/leads/inbox/?rep={rep.username}&amp;open=reject&amp;lead={lead.pk}#lead-{lead.pk}"'
        in body
    )
    opened = client.get(INBOX, {"rep": rep.username, "open": "reject", "lead": lead.pk})
    assert f'name="next" value="/leads/inbox/?rep={rep.username}"' in opened.content.decode()


def test_a_form_is_not_opened_for_a_lead_the_user_may_not_act_on(client, marketer, manager):
    pooled = walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager)
    assert pooled.owner is None
    rep = UserFactory(username="rita", roles=["sales"])
    client.force_login(rep)

    body = client.get(INBOX, {"open": "reject", "lead": pooled.pk}).content.decode()

    assert f'action="{transition_url(pooled, "reject")}"' not in body
    assert f'data-url="{transition_url(pooled, "reject")}"' not in body


def test_the_reassign_form_opened_without_javascript_leaves_out_the_current_owner(
    client, manager, marketer, rep, other_rep
):
    lead = mqls(1, marketer=marketer, manager=manager)[0]
    assert lead.owner == rep
    client.force_login(manager)

    body = client.get(INBOX, {"open": "reassign", "lead": lead.pk}).content.decode()

    form = body[body.index('id="reassign-form"') :]
    form = form[: form.index("</form>")]
    assert f'value="{other_rep.username}"' in form
    assert f'value="{rep.username}"' not in form


def test_the_review_queue_has_one_resubmit_and_one_disqualify_form(client, marketer, manager):
    for lead in mqls(4, marketer=marketer, manager=manager):
        run_transition(lead, "reject", actor=manager, data={"reason": "no_need"})
    client.force_login(marketer)

    body = client.get(REVIEW).content.decode()

    assert body.count('data-testid="review-card"') == 4
    assert body.count('id="resubmit-form"') == 1 and body.count('id="disqualify-form"') == 1
    assert body.count("<textarea") == 2  # the resubmit note and the disqualify note


def test_without_javascript_the_resubmit_form_opens_in_its_card(client, marketer, manager):
    lead = mqls(1, marketer=marketer, manager=manager)[0]
    run_transition(lead, "reject", actor=manager, data={"reason": "no_need"})
    client.force_login(marketer)

    body = client.get(REVIEW, {"open": "resubmit", "lead": lead.pk}).content.decode()

    card = card_of(lead, body)
    assert f'action="{transition_url(lead, "resubmit")}"' in card
    assert 'name="origin" value="review"' in card
