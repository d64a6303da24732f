"""The lead lifecycle of SPEC §1 and §2, checked pair by pair through ``lead_transition``.

The expected tables below are copied by hand from the spec, never imported from
the code, so a change to the graph or to the roles shows up here as a failure.
"""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition

from apps.accounts.models import User
from apps.criteria.models import CurrencyRate
from apps.leads.models import Lead, Qualification, StageTransition
from apps.leads.services import (
    LeadChanged,
    TransitionForbidden,
    TransitionInvalid,
    TransitionNotAvailable,
    lead_transition,
    stage_changed,
)
from tests.factories import LeadFactory
from tests.leads.helpers import QUALIFYING_BANT, form_values, walk_to

STAGES = ["new", "mql", "accepted", "rejected", "sql", "opportunity", "won", "lost", "disqualified"]
TRANSITIONS = [
    "promote",
    "accept",
    "reject",
    "qualify",
    "convert",
    "win",
    "lose",
    "recycle",
    "resubmit",
    "disqualify",
    "reassign",
]

# SPEC §2, the lifecycle table: (transition, from stage) -> stage it lands on.
# Every pair not listed must be refused for the lead's stage.
LIFECYCLE = {
    ("promote", "new"): "mql",
    ("accept", "mql"): "accepted",
    ("reject", "mql"): "rejected",
    ("reject", "accepted"): "rejected",
    ("qualify", "accepted"): "sql",
    ("convert", "sql"): "opportunity",
    ("win", "opportunity"): "won",
    ("lose", "opportunity"): "lost",
    ("recycle", "rejected"): "new",
    ("resubmit", "rejected"): "mql",
    ("disqualify", "new"): "disqualified",
    ("disqualify", "rejected"): "disqualified",
    # Reassign changes the owner, not the stage, of a lead someone is working.
    ("reassign", "mql"): "mql",
    ("reassign", "accepted"): "accepted",
    ("reassign", "sql"): "sql",
    ("reassign", "opportunity"): "opportunity",
}

# SPEC §1 and §2, the "who" column: the transitions each role may make.
SALES_WORK = {"accept", "reject", "qualify", "convert", "win", "lose"}
MARKETING_WORK = {"promote", "recycle", "resubmit", "disqualify"}
ALLOWED_BY_ROLE = {
    "owner_rep": SALES_WORK,
    "other_rep": set(),
    "marketer": MARKETING_WORK,
    "manager": SALES_WORK | {"reassign"},
    "staff_without_role": set(),
    "user_without_role": set(),
}
ROLE_FIXTURES = {
    "owner_rep": "rep",
    "other_rep": "other_rep",
    "marketer": "marketer",
    "manager": "manager",
    "staff_without_role": "staff_only",
    "user_without_role": "nobody",
}

IN_A_MONTH = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
VALID_DATA = {
    "promote": {"reason": "Asked for a call at the booth"},
    "accept": {},
    "reject": {"reason": "no_budget", "note": "Budget frozen until next year"},
    "qualify": QUALIFYING_BANT,
    "convert": {"amount": "30000", "currency": "USD", "expected_close_date": IN_A_MONTH},
    "win": {},
    "lose": {"reason": "Chose a competitor"},
    "recycle": {},
    "resubmit": {"note": "They came back asking for pricing"},
    "disqualify": {"reason": "spam"},
}


def history_of(lead):
    return list(StageTransition.objects.filter(lead_id=lead.pk).order_by("id"))


def stored(lead):
    """Every column of the lead as the database holds it."""
    return Lead.objects.filter(pk=lead.pk).values().get()


def valid_data(name, lead, *, reps):
    """Data the transition's form accepts; reassign names a rep who does not own the lead yet."""
    if name == "reassign":
        new_owner = next(r for r in reps if r.pk != lead.owner_id)
        return {"owner": new_owner.username, "reason": "Evening out the team's load"}
    return VALID_DATA[name]


def refused(error, lead, name, *, actor, data=None, **options):
    """``actor`` tries transition ``name`` with ``data``: it raises ``error`` (returned) and the lead
    and its history stay as they were."""
    before, history_before = stored(lead), history_of(lead)
    with pytest.raises(error) as raised:
        lead_transition(
            lead=lead, name=name, actor=actor, values=form_values(name, data), **options
        )
    assert stored(lead) == before
    assert history_of(lead) == history_before
    return raised.value


@pytest.fixture
def walk_as_ritas_lead(rep, other_rep, marketer, manager):
    """Walk a new lead to a stage with Rita as its owner from the moment it becomes an MQL."""

    def walk(stage):
        # Round-robin gives the MQL to the least recently assigned rep: make that Rita.
        User.objects.filter(pk=other_rep.pk).update(last_assigned_at=timezone.now())
        lead = walk_to(LeadFactory(), stage, marketer=marketer, manager=manager)
        if stage != "new":
            assert lead.owner == rep
        return lead

    return walk


# --- 1. every (stage, transition) pair -------------------------------------------


def _pair_id(stage, name):
    target = LIFECYCLE.get((name, stage))
    if target is None:
        return f"{name}_from_{stage}_is_refused"
    return f"{name}_from_{stage}_lands_on_{target}"


@pytest.mark.parametrize(
    "stage,name",
    [(stage, name) for stage in STAGES for name in TRANSITIONS],
    ids=[_pair_id(stage, name) for stage in STAGES for name in TRANSITIONS],
)
def test_each_transition_moves_the_lead_as_the_spec_says_or_is_refused_for_its_stage(
    stage, name, rep, other_rep, marketer, manager
):
    lead = walk_to(LeadFactory(), stage, marketer=marketer, manager=manager)
    actor = marketer if name in MARKETING_WORK else manager
    data = valid_data(name, lead, reps=[rep, other_rep])
    history_before = history_of(lead)
    target = LIFECYCLE.get((name, stage))

    if target is None:
        assert refused(TransitionNotAvailable, lead, name, actor=actor, data=data).stage == stage
        return

    returned = lead_transition(lead=lead, name=name, actor=actor, values=form_values(name, data))

    lead.refresh_from_db()
    assert lead.stage == target
    new_rows = history_of(lead)[len(history_before) :]
    assert len(new_rows) == 1
    row = new_rows[0]
    assert row.pk == returned.pk
    assert (row.transition, row.from_stage, row.to_stage, row.actor) == (name, stage, target, actor)
    # The stage history shows why, as the user gave it.
    assert row.reason == data.get("reason", "")
    assert row.note == data.get("note", "")


# --- 2. every role x transition pair ---------------------------------------------


# Each role tries each transition from every stage where the lifecycle allows it,
# so only the role decides.
ROLE_CASES = [(role, name, stage) for role in ALLOWED_BY_ROLE for (name, stage) in LIFECYCLE]


def _role_id(role, name, stage):
    verdict = "may" if name in ALLOWED_BY_ROLE[role] else "may_not"
    return f"{role}_{verdict}_{name}_from_{stage}"


@pytest.mark.parametrize(
    "role,name,stage", ROLE_CASES, ids=[_role_id(*case) for case in ROLE_CASES]
)
def test_each_role_makes_exactly_the_transitions_the_spec_gives_it(
    role, name, stage, request, walk_as_ritas_lead, rep, other_rep
):
    lead = walk_as_ritas_lead(stage)
    user = request.getfixturevalue(ROLE_FIXTURES[role])
    data = valid_data(name, lead, reps=[rep, other_rep])
    history_before = history_of(lead)

    if name not in ALLOWED_BY_ROLE[role]:
        refused(TransitionForbidden, lead, name, actor=user, data=data)
        return

    lead_transition(lead=lead, name=name, actor=user, values=form_values(name, data))

    lead.refresh_from_db()
    assert lead.stage == LIFECYCLE[(name, stage)]
    new_rows = history_of(lead)[len(history_before) :]
    assert [(r.transition, r.from_stage, r.actor) for r in new_rows] == [(name, stage, user)]


@pytest.fixture
def pool_mql(rep, other_rep, marketer, manager):
    """An MQL nobody owns: no rep was taking new leads when it was promoted."""
    User.objects.filter(pk__in=[rep.pk, other_rep.pk]).update(accepts_new_leads=False)
    lead = walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager)
    assert lead.owner is None
    return lead


def test_rep_may_accept_an_unassigned_mql_from_the_pool_and_it_becomes_theirs(pool_mql, rep):
    lead_transition(lead=pool_mql, name="accept", actor=rep, values=form_values("accept", {}))

    pool_mql.refresh_from_db()
    assert (pool_mql.stage, pool_mql.owner) == ("accepted", rep)
    last = history_of(pool_mql)[-1]
    assert (last.transition, last.actor, last.owner) == ("accept", rep, rep)


def test_rep_cannot_reject_an_unassigned_mql_from_the_pool(pool_mql, rep):
    refused(TransitionForbidden, pool_mql, "reject", actor=rep, data=VALID_DATA["reject"])


def test_rep_cannot_accept_another_reps_mql_once_it_is_assigned(walk_as_ritas_lead, other_rep):
    lead = walk_as_ritas_lead("mql")

    refused(TransitionForbidden, lead, "accept", actor=other_rep, data={})


# --- 3. required fields and BANT ---------------------------------------------------


@pytest.mark.parametrize(
    "name,stage,data,missing",
    [
        ("reject", "mql", {"note": "Not for us"}, "reason"),
        ("disqualify", "new", {"note": "Looks like a bot"}, "reason"),
        ("lose", "opportunity", {"note": "Went quiet"}, "reason"),
        ("resubmit", "rejected", {}, "note"),
        ("promote", "new", {"note": "Met them at the booth"}, "reason"),
        ("convert", "sql", {"currency": "USD", "expected_close_date": IN_A_MONTH}, "amount"),
    ],
    ids=[
        "reject_without_reason",
        "disqualify_without_reason",
        "lose_without_reason",
        "resubmit_without_note",
        "promote_by_hand_without_reason",
        "convert_without_amount",
    ],
)
def test_a_transition_missing_a_required_field_names_it_and_stores_nothing(
    name, stage, data, missing, marketer, manager
):
    lead = walk_to(LeadFactory(), stage, marketer=marketer, manager=manager)
    actor = marketer if name in MARKETING_WORK else manager

    invalid = refused(TransitionInvalid, lead, name, actor=actor, data=data)

    assert missing in invalid.errors


@pytest.fixture
def accepted_lead(marketer, manager):
    return walk_to(LeadFactory(), "accepted", marketer=marketer, manager=manager)


def bant(**changes):
    return {**QUALIFYING_BANT, **changes}


def test_qualify_names_every_failing_bant_item_at_once_and_stores_nothing(accepted_lead, manager):
    data = bant(
        budget_amount="5000",
        budget_currency="USD",
        authority="user",
        need="",
        timeline=(timezone.localdate() + dt.timedelta(days=365)).isoformat(),
    )

    invalid = refused(TransitionInvalid, accepted_lead, "qualify", actor=manager, data=data)

    assert set(invalid.errors) == {"budget_amount", "authority", "need", "timeline"}
    assert not Qualification.objects.filter(lead=accepted_lead).exists()


def test_qualify_refuses_a_budget_in_a_currency_without_an_exchange_rate(accepted_lead, manager):
    data = bant(budget_amount="50000", budget_currency="EUR")

    invalid = refused(TransitionInvalid, accepted_lead, "qualify", actor=manager, data=data)

    assert set(invalid.errors) == {"budget_currency"}
    assert "EUR" in invalid.errors["budget_currency"][0]
    assert not Qualification.objects.filter(lead=accepted_lead).exists()


def test_qualify_converts_a_foreign_budget_at_the_admin_rate(accepted_lead, manager):
    CurrencyRate.objects.create(currency="EUR", rate="1.10")

    lead_transition(
        lead=accepted_lead,
        name="qualify",
        actor=manager,
        values=form_values("qualify", bant(budget_amount="10000", budget_currency="EUR")),
    )

    accepted_lead.refresh_from_db()
    assert accepted_lead.stage == "sql"
    qualification = Qualification.objects.get(lead=accepted_lead)
    assert (qualification.budget_amount, qualification.budget_currency) == (10000, "EUR")
    assert history_of(accepted_lead)[-1].transition == "qualify"


# --- 4. two users on one lead --------------------------------------------------------


def test_acting_on_a_lead_someone_else_just_moved_says_the_lead_has_changed(marketer, manager):
    # The manager's page showed an MQL; meanwhile a colleague accepted it.
    lead = walk_to(LeadFactory(), "accepted", marketer=marketer, manager=manager)

    changed = refused(
        LeadChanged, lead, "reject", actor=manager, data=VALID_DATA["reject"], expected_stage="mql"
    )

    assert "this lead has changed" in str(changed).lower()
    assert changed.stage == "accepted"


# --- 5. side effects after commit ------------------------------------------------------


@pytest.fixture
def announcements():
    """The history rows ``stage_changed`` announced while the test ran."""
    received = []

    def receiver(sender, transition, **kwargs):
        received.append(transition)

    stage_changed.connect(receiver, weak=False)
    yield received
    stage_changed.disconnect(receiver)


def test_a_transition_is_announced_once_and_only_after_it_commits(
    marketer, manager, announcements, django_capture_on_commit_callbacks
):
    lead = walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        row = lead_transition(
            lead=lead, name="accept", actor=manager, values=form_values("accept", {})
        )
        assert announcements == []

    assert len(callbacks) == 1
    announced = [(r.pk, r.transition, r.to_stage) for r in announcements]
    assert announced == [(row.pk, "accept", "accepted")]


@pytest.mark.parametrize(
    "actor_role,name,data,error",
    [
        ("marketer", "accept", {}, TransitionForbidden),
        ("manager", "win", {}, TransitionNotAvailable),
        ("manager", "reject", {}, TransitionInvalid),
    ],
    ids=["forbidden", "not_available_in_stage", "invalid_data"],
)
def test_a_refused_transition_announces_nothing(
    actor_role,
    name,
    data,
    error,
    request,
    marketer,
    manager,
    announcements,
    django_capture_on_commit_callbacks,
):
    lead = walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager)
    actor = request.getfixturevalue(actor_role)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(error):
            lead_transition(lead=lead, name=name, actor=actor, values=form_values(name, data))

    assert callbacks == []
    assert announcements == []


# --- 6. the history is append-only -----------------------------------------------------


@pytest.fixture
def lead_with_history(marketer, manager):
    return walk_to(LeadFactory(), "accepted", marketer=marketer, manager=manager)


def test_a_history_row_cannot_be_edited(lead_with_history):
    row = history_of(lead_with_history)[0]
    row.note = "Rewritten after the fact"

    with pytest.raises(ValidationError):
        row.save()
    with pytest.raises(ValidationError):
        StageTransition.objects.filter(pk=row.pk).update(note="Rewritten after the fact")

    assert StageTransition.objects.get(pk=row.pk).note == ""


def test_a_history_row_cannot_be_deleted(lead_with_history):
    rows = history_of(lead_with_history)

    with pytest.raises(ValidationError):
        rows[0].delete()

    assert history_of(lead_with_history) == rows


def test_the_history_cannot_be_deleted_in_bulk(lead_with_history):
    rows = history_of(lead_with_history)

    with pytest.raises(ValidationError):
        StageTransition.objects.all().delete()

    assert history_of(lead_with_history) == rows


def test_a_lead_cannot_be_deleted(lead_with_history):
    with pytest.raises(ValidationError):
        lead_with_history.delete()
    with pytest.raises(ValidationError):
        Lead.objects.filter(pk=lead_with_history.pk).delete()

    assert Lead.objects.filter(pk=lead_with_history.pk).exists()


def test_currencies_may_be_left_blank_or_typed_in_lower_case(marketer, manager):
    lead = walk_to(LeadFactory(), "accepted", marketer=marketer, manager=manager)
    lead_transition(
        lead=lead.pk,
        name="qualify",
        actor=manager,
        values=form_values("qualify", {**QUALIFYING_BANT, "budget_currency": ""}),
    )
    assert Qualification.objects.get(lead=lead).budget_currency == "USD"
    lead_transition(
        lead=lead.pk,
        name="convert",
        actor=manager,
        values=form_values(
            "convert", {"amount": "5000", "currency": "eur", "expected_close_date": "2027-01-31"}
        ),
    )
    lead.refresh_from_db()
    assert lead.opportunity_currency == "EUR"


def test_a_lead_read_before_its_stage_changed_cannot_be_saved_over_it(marketer, manager):
    lead = walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager)
    stale = Lead.objects.get(pk=lead.pk)
    lead_transition(lead=lead.pk, name="accept", actor=manager, expected_stage="mql")

    stale.company = "Overwritten"
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()
    assert Lead.objects.get(pk=lead.pk).stage == "accepted"
