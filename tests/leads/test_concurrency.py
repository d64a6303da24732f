"""Two people acting on one lead at the same moment, on PostgreSQL with two real connections."""

import pytest

from apps.leads.models import Lead, StageTransition
from apps.leads.services import EngagementInput, LifecycleError, engagements_record, lead_transition
from tests.factories import LeadFactory, UserFactory
from tests.leads.helpers import engage, form_values, walk_to
from tests.threads import run_at_once

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_two_people_accepting_one_lead_at_once_one_wins_and_one_is_told():
    marketer = UserFactory(username="maya", roles=["marketing"])
    manager = UserFactory(username="mona", roles=["sales_manager"])
    rep = UserFactory(username="rita", roles=["sales"])
    lead = walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager)
    assert lead.owner == rep

    outcomes = run_at_once(
        lambda: lead_transition(lead=lead.pk, name="accept", actor=rep, expected_stage="mql"),
        lambda: lead_transition(lead=lead.pk, name="accept", actor=manager, expected_stage="mql"),
    )

    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["error", "ok"]
    error = next(value for kind, value in outcomes if kind == "error")
    assert isinstance(error, LifecycleError)
    assert "changed" in str(error)
    assert StageTransition.objects.filter(lead=lead, transition="accept").count() == 1
    assert Lead.objects.get(pk=lead.pk).stage == "accepted"


def test_accept_and_reject_at_once_leave_exactly_one_outcome_in_the_history():
    marketer = UserFactory(username="maya", roles=["marketing"])
    manager = UserFactory(username="mona", roles=["sales_manager"])
    rep = UserFactory(username="rita", roles=["sales"])
    lead = walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager)

    outcomes = run_at_once(
        lambda: lead_transition(lead=lead.pk, name="accept", actor=rep),
        lambda: lead_transition(
            lead=lead.pk,
            name="reject",
            actor=rep,
            values=form_values("reject", {"reason": "no_need"}),
        ),
    )

    history = list(StageTransition.objects.filter(lead=lead).exclude(transition="promote"))
    winners = [value for kind, value in outcomes if kind == "ok"]
    # Reject is also allowed from accepted, so both may succeed in sequence; never a lost update.
    assert len(history) == len(winners) >= 1
    assert history[-1].to_stage == Lead.objects.get(pk=lead.pk).stage


def test_two_leads_promoted_at_once_go_to_different_reps():
    reps = {UserFactory(username=n, roles=["sales"]) for n in ("ann", "bob")}
    leads = [LeadFactory(), LeadFactory()]
    kinds = ("inquiry", "document_request", "quote_request", "pricing_page_view")

    def promote(lead):
        return lambda: engagements_record(
            items=[
                EngagementInput(lead_id=lead.pk, kind=k, occurred_at=lead.created_at) for k in kinds
            ]
        )

    outcomes = run_at_once(promote(leads[0]), promote(leads[1]))
    assert [kind for kind, _ in outcomes] == ["ok", "ok"]
    owners = {Lead.objects.get(pk=lead.pk).owner for lead in leads}
    assert owners == reps


def test_the_same_external_id_sent_twice_at_once_is_stored_once():
    lead = LeadFactory()
    engage(lead, "page_view")
    item = EngagementInput(
        lead_id=lead.pk, kind="demo_request", occurred_at=lead.created_at, external_id="dup-1"
    )
    outcomes = run_at_once(
        lambda: engagements_record(items=[item]), lambda: engagements_record(items=[item])
    )
    assert [kind for kind, _ in outcomes] == ["ok", "ok"]
    assert sum(len(value.created) for _, value in outcomes) == 1
    lead.refresh_from_db()
    assert lead.score == 1 + 8
