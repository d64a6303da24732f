"""The sales inbox: MQLs awaiting acceptance, Accept and Reject, the team view and the pool."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.leads.models import Lead, StageTransition
from apps.leads.services import lead_transition
from tests.factories import LeadFactory
from tests.leads.helpers import mql_owned_by, walk_to

pytestmark = pytest.mark.django_db


def transition_url(lead, name):
    return reverse("leads:transition", args=[lead.pk, name])


def htmx_post_from_inbox(client, lead, name, **fields):
    """What a card's form posts through htmx: the stage the inbox showed, where to come back."""
    return client.post(
        transition_url(lead, name),
        {"expected_stage": "mql", "next": reverse("leads:inbox"), "origin": "inbox", **fields},
        HTTP_HX_REQUEST="true",
    )


def test_a_rep_sees_their_mqls_with_score_fit_and_deadline_soonest_first(
    client, rep, marketer, manager
):
    later = mql_owned_by(rep, marketer=marketer, manager=manager, company="Later Co")
    sooner = mql_owned_by(rep, marketer=marketer, manager=manager, company="Sooner Co")
    Lead.objects.filter(pk=sooner.pk).update(accept_due_at=timezone.now() + dt.timedelta(hours=1))
    client.force_login(rep)

    response = client.get(reverse("leads:inbox"))

    body = response.content.decode()
    assert response.status_code == 200
    assert body.index("Sooner Co") < body.index("Later Co")
    assert ">Accept</button>" in body and ">Reject" in body
    assert "Fit: Pass" in body
    assert (
        f'<time class="countdown is-ontime" datetime="{timezone.localtime(later.accept_due_at).isoformat()}"'
        in body
    )


def test_an_overdue_mql_is_marked_red_and_says_how_late_it_is(client, rep, marketer, manager):
    lead = mql_owned_by(rep, marketer=marketer, manager=manager)
    Lead.objects.filter(pk=lead.pk).update(
        accept_due_at=timezone.now() - dt.timedelta(hours=3, minutes=5)
    )
    client.force_login(rep)

    body = client.get(reverse("leads:inbox")).content.decode()

    assert "is-overdue" in body
    assert "overdue by 3 h 5 min" in body


def test_the_inbox_shows_neither_another_reps_mqls_nor_accepted_leads(
    client, rep, other_rep, marketer, manager
):
    theirs = mql_owned_by(other_rep, marketer=marketer, manager=manager, company="Theirs Inc")
    accepted = mql_owned_by(rep, marketer=marketer, manager=manager, company="Done Already")
    lead_transition(lead=accepted.pk, name="accept", actor=rep)
    client.force_login(rep)

    body = client.get(reverse("leads:inbox")).content.decode()

    assert theirs.company not in body
    assert accepted.company not in body
    assert "Inbox zero." in body


def test_accepting_from_the_inbox_makes_the_lead_accepted_and_says_so(
    client, rep, marketer, manager
):
    lead = mql_owned_by(rep, marketer=marketer, manager=manager, company="Kumo Systems")
    client.force_login(rep)
    inbox = reverse("leads:inbox")

    response = client.post(
        transition_url(lead, "accept"),
        {"expected_stage": "mql", "next": inbox, "origin": "inbox"},
        follow=True,
    )

    lead.refresh_from_db()
    assert lead.stage == "accepted"
    assert response.redirect_chain == [(inbox, 302)]
    body = response.content.decode()
    assert "You accepted" in body and "Kumo Systems" in body.split("Awaiting acceptance")[0]
    assert f'id="lead-{lead.pk}"' not in body


def test_htmx_accept_answers_with_the_same_redirect_so_the_refreshed_inbox_can_be_swapped_in(
    client, rep, marketer, manager
):
    lead = mql_owned_by(rep, marketer=marketer, manager=manager)
    client.force_login(rep)
    inbox = reverse("leads:inbox")

    response = htmx_post_from_inbox(client, lead, "accept")

    assert response.status_code == 302 and response["Location"] == inbox
    refreshed = client.get(inbox, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="inbox-lists"' in refreshed and 'id="messages"' in refreshed
    assert "You accepted" in refreshed


def test_rejecting_needs_a_reason_from_the_list_and_keeps_the_optional_note(
    client, rep, marketer, manager
):
    lead = mql_owned_by(rep, marketer=marketer, manager=manager)
    client.force_login(rep)

    client.post(
        transition_url(lead, "reject"),
        {"expected_stage": "mql", "reason": "no_budget", "note": "Students"},
    )

    lead.refresh_from_db()
    assert lead.stage == "rejected"
    row = StageTransition.objects.get(lead=lead, transition="reject")
    assert (row.reason, row.note, row.actor) == ("no_budget", "Students", rep)


def test_rejecting_without_a_reason_changes_nothing_and_names_the_missing_reason(
    client, rep, marketer, manager
):
    lead = mql_owned_by(rep, marketer=marketer, manager=manager)
    client.force_login(rep)

    response = client.post(transition_url(lead, "reject"), {"expected_stage": "mql", "reason": ""})

    assert response.status_code == 400
    assert "Choose a reject reason." in response.content.decode()
    lead.refresh_from_db()
    assert lead.stage == "mql"


def test_htmx_reject_without_a_reason_says_so_in_the_open_form(client, rep, marketer, manager):
    lead = mql_owned_by(rep, marketer=marketer, manager=manager)
    client.force_login(rep)

    response = htmx_post_from_inbox(client, lead, "reject")

    assert response["HX-Retarget"] == "#reject-form"
    assert "Choose a reject reason." in response.content.decode()
    lead.refresh_from_db()
    assert lead.stage == "mql"


def test_a_stale_inbox_gets_a_clear_message_instead_of_an_error(client, rep, marketer, manager):
    lead = mql_owned_by(rep, marketer=marketer, manager=manager)
    lead_transition(lead=lead.pk, name="accept", actor=manager)  # the manager got there first
    client.force_login(rep)
    inbox = reverse("leads:inbox")

    response = client.post(
        transition_url(lead, "reject"),
        {"expected_stage": "mql", "reason": "no_need", "next": inbox},
        follow=True,
    )

    assert response.status_code == 200
    assert "This lead has changed: it is now Accepted" in response.content.decode()
    lead.refresh_from_db()
    assert lead.stage == "accepted"


def test_a_rep_cannot_act_on_another_reps_lead_by_posting_to_its_url(
    client, rep, other_rep, marketer, manager
):
    theirs = mql_owned_by(other_rep, marketer=marketer, manager=manager)
    client.force_login(rep)

    for name, data in (("accept", {}), ("reject", {"reason": "no_need"})):
        response = client.post(transition_url(theirs, name), {"expected_stage": "mql", **data})
        assert response.status_code == 404

    theirs.refresh_from_db()
    assert theirs.stage == "mql" and theirs.owner == other_rep


def test_a_marketer_has_no_inbox_and_cannot_accept(client, marketer, rep, manager):
    lead = mql_owned_by(rep, marketer=marketer, manager=manager)
    client.force_login(marketer)

    assert client.get(reverse("leads:inbox")).status_code == 403
    assert client.post(transition_url(lead, "accept"), {"expected_stage": "mql"}).status_code == 403
    lead.refresh_from_db()
    assert lead.stage == "mql"


def test_a_manager_sees_the_whole_team_and_can_narrow_to_one_rep(
    client, manager, rep, other_rep, marketer
):
    mine = mql_owned_by(rep, marketer=marketer, manager=manager, company="Rita Account")
    theirs = mql_owned_by(other_rep, marketer=marketer, manager=manager, company="Oscar Account")
    client.force_login(manager)

    team = client.get(reverse("leads:inbox")).content.decode()
    only_oscar = client.get(reverse("leads:inbox"), {"rep": other_rep.username}).content.decode()

    assert "Team inbox" in team
    assert mine.company in team and theirs.company in team
    assert theirs.company in only_oscar and mine.company not in only_oscar
    assert ">Reassign" in team


def test_a_manager_reassigns_a_lead_from_the_inbox(client, manager, rep, other_rep, marketer):
    lead = mql_owned_by(rep, marketer=marketer, manager=manager)
    client.force_login(manager)

    response = client.post(
        transition_url(lead, "reassign"),
        {
            "expected_stage": "mql",
            "owner": other_rep.username,
            "reason": "Rita is on leave",
            "next": reverse("leads:inbox"),
        },
        follow=True,
    )

    lead.refresh_from_db()
    assert lead.owner == other_rep
    assert "now belongs to" in response.content.decode()
    assert StageTransition.objects.filter(
        lead=lead, transition="reassign", reason="Rita is on leave"
    ).exists()


def test_a_rep_cannot_reassign(client, rep, other_rep, marketer, manager):
    lead = mql_owned_by(rep, marketer=marketer, manager=manager)
    client.force_login(rep)

    response = client.post(
        transition_url(lead, "reassign"), {"expected_stage": "mql", "owner": other_rep.username}
    )

    assert response.status_code == 403
    lead.refresh_from_db()
    assert lead.owner == rep


def test_reps_see_the_unassigned_pool_and_accepting_claims_the_lead(client, marketer, manager):
    # No rep takes leads when the MQL is made, so it waits in the pool.
    pooled = walk_to(LeadFactory(company="Pool Co"), "mql", marketer=marketer, manager=manager)
    assert pooled.owner is None
    from tests.factories import UserFactory

    rep = UserFactory(username="rita", roles=["sales"])
    client.force_login(rep)

    body = client.get(reverse("leads:inbox")).content.decode()
    assert "Unassigned pool" in body and "Pool Co" in body

    client.post(transition_url(pooled, "accept"), {"expected_stage": "mql"})
    pooled.refresh_from_db()
    assert (pooled.stage, pooled.owner) == ("accepted", rep)


def test_a_rep_may_not_reject_a_pool_lead_they_do_not_own(client, marketer, manager):
    pooled = walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager)
    from tests.factories import UserFactory

    rep = UserFactory(username="rita", roles=["sales"])
    client.force_login(rep)

    body = client.get(reverse("leads:inbox")).content.decode()
    assert f'action="{transition_url(pooled, "reject")}"' not in body
    assert client.post(transition_url(pooled, "reject"), {"reason": "no_need"}).status_code == 403


def test_the_slower_of_two_reps_accepting_one_pool_mql_is_told_someone_took_it(
    client, marketer, manager
):
    from apps.leads.services import lead_transition
    from tests.factories import LeadFactory, UserFactory
    from tests.leads.helpers import walk_to

    pool_lead = walk_to(
        LeadFactory(first_name="Cleo", last_name="Park", company="Harbor Labs"),
        "mql",
        marketer=marketer,
        manager=manager,
    )
    assert pool_lead.owner is None  # nobody takes leads yet: it waits in the pool
    ann, bob = (
        UserFactory(username="ann", roles=["sales"]),
        UserFactory(username="bob", roles=["sales"]),
    )
    lead_transition(lead=pool_lead.pk, name="accept", actor=ann, expected_stage="mql")

    client.force_login(bob)
    response = client.post(
        f"/leads/{pool_lead.pk}/transitions/accept/", {"expected_stage": "mql"}, follow=True
    )
    assert response.status_code == 200
    assert "Cleo Park (Harbor Labs) has changed: another rep took it" in response.content.decode()
    pool_lead.refresh_from_db()
    assert pool_lead.owner == ann


def test_htmx_reject_with_a_retired_reason_redraws_the_open_form_with_the_note(
    client, rep, marketer, manager
):
    from apps.criteria.models import RejectReason

    lead = mql_owned_by(rep, marketer=marketer, manager=manager)
    RejectReason.objects.filter(code="no_need").update(is_active=False)
    client.force_login(rep)
    response = htmx_post_from_inbox(
        client, lead, "reject", reason="no_need", note="Called twice, no budget"
    )
    # Only the open pop-over's form is swapped: it stays open, the note kept, the error by the reason.
    assert response.status_code == 200
    assert response["HX-Retarget"] == response["HX-Reselect"] == "#reject-form"
    assert response["HX-Reswap"] == "outerHTML"
    body = response.content.decode()
    assert 'id="reject-form"' in body and transition_url(lead, "reject") in body
    assert ">Called twice, no budget</textarea>" in body
    assert 'class="has-error"' in body and 'class="field-error"' in body
    lead.refresh_from_db()
    assert lead.stage == "mql"


def test_the_team_inboxs_rep_filter_lists_sales_reps_only(client, rep, other_rep, manager):
    client.force_login(manager)
    response = client.get(reverse("leads:inbox"))
    assert {p.username for p in response.context["people"]} == {rep.username, other_rep.username}
    assert f'<option value="{manager.username}"' not in response.content.decode()
