"""POST /api/v1/leads/{id}/transitions/{name}/: 200, 403 (role), 409 (stage), 400 (input), 404."""

import pytest

from apps.leads.models import Lead, Qualification, StageTransition
from tests.factories import LeadFactory
from tests.leads.helpers import QUALIFYING_BANT, walk_to

pytestmark = pytest.mark.django_db


def url(lead, name):
    return f"/api/v1/leads/{lead.pk if isinstance(lead, Lead) else lead}/transitions/{name}/"


@pytest.fixture
def mql(rep, marketer, manager):
    """An MQL owned by ``rep`` (the only rep, so round-robin gives it to them)."""
    lead = walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager)
    assert lead.owner == rep
    return lead


def test_the_owner_rep_accepts_their_mql_and_gets_the_lead_back(api, rep, mql):
    response = api(rep).post(url(mql, "accept"), {}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["stage"], body["owner"]) == (mql.pk, "accepted", "rita")
    assert body["transitions"][-1] == {
        **body["transitions"][-1],
        "transition": "accept",
        "from": "mql",
        "to": "accepted",
        "actor": "rita",
    }


def test_a_manager_may_accept_any_mql(api, manager, mql):
    assert api(manager).post(url(mql, "accept"), format="json").status_code == 200


def test_a_rep_acting_on_another_reps_lead_gets_403(api, mql, other_rep):
    response = api(other_rep).post(url(mql, "reject"), {"reason": "no_budget"}, format="json")

    assert response.status_code == 403
    assert "may not reject this lead" in response.json()["detail"]
    mql.refresh_from_db()
    assert mql.stage == "mql"


def test_marketing_may_not_accept_an_mql(api, marketer, mql):
    assert api(marketer).post(url(mql, "accept"), format="json").status_code == 403


def test_a_user_without_a_role_gets_403(api, nobody, mql):
    assert api(nobody).post(url(mql, "accept"), format="json").status_code == 403


def test_a_transition_needs_a_token(api, mql):
    assert api(None).post(url(mql, "accept"), format="json").status_code == 401


def test_a_transition_the_stage_does_not_allow_gets_409_naming_the_current_stage(
    api, rep, marketer, manager
):
    lead = walk_to(LeadFactory(), "accepted", marketer=marketer, manager=manager)

    response = api(rep).post(url(lead, "accept"), format="json")

    assert response.status_code == 409
    assert response.json() == {
        "detail": "Cannot accept a lead that is Accepted.",
        "stage": "accepted",
    }


def test_an_outdated_expected_stage_gets_409_and_changes_nothing(api, rep, mql):
    response = api(rep).post(
        url(mql, "reject"), {"reason": "no_need", "expected_stage": "accepted"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["stage"] == "mql"
    assert not StageTransition.objects.filter(lead=mql, transition="reject").exists()


def test_reject_without_a_reason_gets_400_naming_the_field(api, rep, mql):
    response = api(rep).post(url(mql, "reject"), {"note": "meh"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"reason": ["Choose a reject reason."]}
    mql.refresh_from_db()
    assert mql.stage == "mql"


def test_reject_with_an_unknown_reason_gets_400(api, rep, mql):
    response = api(rep).post(url(mql, "reject"), {"reason": "too_tall"}, format="json")
    assert response.status_code == 400
    assert "'too_tall' is not one" in response.json()["errors"]["reason"][0]


def test_reject_with_a_reason_and_note_is_recorded(api, rep, mql):
    response = api(rep).post(
        url(mql, "reject"), {"reason": "no_budget", "note": "Frozen until Q3"}, format="json"
    )

    assert response.status_code == 200
    last = response.json()["transitions"][-1]
    assert (last["transition"], last["reason"], last["note"]) == (
        "reject",
        "no_budget",
        "Frozen until Q3",
    )


def test_qualify_takes_the_bant_fields(api, rep, marketer, manager):
    lead = walk_to(LeadFactory(), "accepted", marketer=marketer, manager=manager)

    response = api(rep).post(
        url(lead, "qualify"), {**QUALIFYING_BANT, "budget_amount": 25000}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["stage"] == "sql"
    assert Qualification.objects.get(lead=lead).authority == "decision_maker"


def test_a_bant_that_misses_the_criteria_gets_400_naming_every_failing_item(
    api, rep, marketer, manager
):
    lead = walk_to(LeadFactory(), "accepted", marketer=marketer, manager=manager)
    bant = {**QUALIFYING_BANT, "budget_amount": "500", "authority": "user"}

    response = api(rep).post(url(lead, "qualify"), bant, format="json")

    assert response.status_code == 400
    assert {"budget_amount", "authority"} <= set(response.json()["errors"])


def test_the_api_names_every_failing_item_when_the_budget_is_missing(api, rep, marketer, manager):
    lead = walk_to(LeadFactory(), "accepted", marketer=marketer, manager=manager)
    body = {**QUALIFYING_BANT, "authority": "user", "timeline": "0001-01-01"}
    del body["budget_amount"]

    response = api(rep).post(f"/api/v1/leads/{lead.pk}/transitions/qualify/", body, format="json")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"budget_amount", "authority", "timeline"}
    lead.refresh_from_db()
    assert lead.stage == "accepted"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"reason": ["no_budget"]}, "reason"),
        ({"reason": "no_budget", "mood": "grumpy"}, "mood"),
        ({"reason": "no_budget", "expected_stage": "limbo"}, "expected_stage"),
    ],
)
def test_a_wrongly_typed_or_unknown_field_gets_400(api, rep, mql, body, field):
    response = api(rep).post(url(mql, "reject"), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_wrongly_typed_date_gets_400_not_500(api, rep, marketer, manager):
    lead = walk_to(LeadFactory(), "accepted", marketer=marketer, manager=manager)
    response = api(rep).post(
        url(lead, "qualify"), {**QUALIFYING_BANT, "timeline": 20260930}, format="json"
    )
    assert response.status_code == 400
    assert "timeline" in response.json()["errors"]


def test_marketing_promotes_a_lead_by_hand_with_a_reason(api, marketer, rep):
    lead = LeadFactory()

    missing = api(marketer).post(url(lead, "promote"), {}, format="json")
    done = api(marketer).post(
        url(lead, "promote"), {"reason": "Met them at the booth"}, format="json"
    )

    assert missing.status_code == 400
    assert "reason" in missing.json()["errors"]
    assert done.status_code == 200
    assert (done.json()["stage"], done.json()["owner"]) == ("mql", "rita")


def test_marketing_reviews_a_rejected_lead(api, marketer, manager, rep):
    lead = walk_to(LeadFactory(), "rejected", marketer=marketer, manager=manager)

    assert api(rep).post(url(lead, "recycle"), format="json").status_code == 403
    response = api(marketer).post(url(lead, "disqualify"), {"reason": "spam"}, format="json")

    assert response.status_code == 200
    assert response.json()["stage"] == "disqualified"


def test_an_unknown_transition_gets_404(api, rep, mql):
    response = api(rep).post(url(mql, "teleport"), format="json")
    assert response.status_code == 404
    assert "no transition called 'teleport'" in response.json()["detail"]


def test_a_transition_on_a_lead_that_does_not_exist_gets_404(api, manager):
    assert api(manager).post(url(999_999, "accept"), format="json").status_code == 404


def test_the_slower_of_two_reps_accepting_one_pool_mql_gets_409_not_403(api, marketer, manager):
    from apps.leads.services import lead_transition
    from tests.factories import LeadFactory, UserFactory
    from tests.leads.helpers import walk_to

    pool_lead = walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager)
    assert pool_lead.owner is None
    ann, bob = (
        UserFactory(username="ann", roles=["sales"]),
        UserFactory(username="bob", roles=["sales"]),
    )
    lead_transition(lead=pool_lead.pk, name="accept", actor=ann, expected_stage="mql")

    response = api(bob).post(url(pool_lead, "accept"), {"expected_stage": "mql"}, format="json")
    assert response.status_code == 409
    assert response.json()["stage"] == "accepted"
    assert "another rep took it" in response.json()["detail"]


def test_the_slower_rep_gets_409_even_without_naming_the_expected_stage(api, marketer, manager):
    from apps.leads.services import lead_transition
    from tests.factories import LeadFactory, UserFactory
    from tests.leads.helpers import walk_to

    pool_lead = walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager)
    ann, bob = (
        UserFactory(username="ann", roles=["sales"]),
        UserFactory(username="bob", roles=["sales"]),
    )
    lead_transition(lead=pool_lead.pk, name="accept", actor=ann)

    response = api(bob).post(url(pool_lead, "accept"), {}, format="json")
    assert response.status_code == 409
    assert response.json()["stage"] == "accepted"
    assert "another rep took it" in response.json()["detail"]


def test_a_rep_accepting_another_reps_own_mql_still_gets_403(api, rep, other_rep, mql):
    assert mql.owner == rep
    response = api(other_rep).post(url(mql, "accept"), {"expected_stage": "mql"}, format="json")
    assert response.status_code == 403
