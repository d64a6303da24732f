"""Recording engagements scores the lead and promotes it the moment it meets the MQL criteria."""

import datetime as dt

import pytest
from django.utils import timezone

from apps.criteria.models import MQLCriteria, ScoringSettings, SLAPolicy
from apps.leads.models import Engagement, Lead, StageTransition
from apps.leads.services import EngagementInput, engagements_record, lead_upsert
from tests.factories import LeadFactory, UserFactory
from tests.leads.helpers import engage, form_values

pytestmark = pytest.mark.django_db


@pytest.fixture
def fit_lead():
    lead, _ = lead_upsert(
        email="Buyer@Example.com", values={"source": "webinar", "employees": 120, "company": "Acme"}
    )
    return lead


def test_upsert_stores_email_lower_case_and_computes_fit(fit_lead):
    assert fit_lead.email == "buyer@example.com"
    assert fit_lead.fit == "pass"
    same, created = lead_upsert(
        email="BUYER@example.com", values={"source": "webinar", "employees": 30}
    )
    assert not created and same.pk == fit_lead.pk
    assert same.fit == "fail" and "30" in same.fit_reason


def test_ten_points_without_a_pricing_page_visit_stays_new(fit_lead, rep):
    engage(fit_lead, "inquiry", "document_request", "quote_request")
    fit_lead.refresh_from_db()
    assert fit_lead.score == 10
    assert fit_lead.stage == "new"
    assert fit_lead.owner is None
    assert not StageTransition.objects.filter(lead=fit_lead).exists()


def test_adding_a_pricing_page_visit_promotes_in_the_same_call(fit_lead, rep):
    engage(fit_lead, "inquiry", "document_request", "quote_request")
    result = engage(fit_lead, "pricing_page_view")
    fit_lead.refresh_from_db()
    assert result.promoted_lead_ids == [fit_lead.pk]
    assert fit_lead.stage == "mql"
    assert fit_lead.score == 13
    assert fit_lead.owner == rep
    assert fit_lead.mql_criteria == MQLCriteria.objects.get(is_active=True)
    promote = StageTransition.objects.get(lead=fit_lead)
    assert (promote.transition, promote.from_stage, promote.to_stage, promote.actor) == (
        "promote",
        "new",
        "mql",
        None,
    )
    assert promote.criteria.version == 1 and promote.owner == rep


def test_a_lead_with_40_employees_never_promotes_while_fit_is_required(rep):
    lead, _ = lead_upsert(email="small@example.com", values={"source": "ads", "employees": 40})
    for _ in range(5):
        engage(lead, "demo_request", "pricing_page_view", "quote_request")
    lead.refresh_from_db()
    assert lead.score == 5 * 16
    assert lead.fit == "fail"
    assert lead.stage == "new"


def test_a_lead_without_an_employee_count_waits_until_its_fit_is_known(rep):
    lead, _ = lead_upsert(email="unknown@example.com", values={"source": "ads"})
    engage(lead, "demo_request", "pricing_page_view", "quote_request")
    lead.refresh_from_db()
    assert (lead.fit, lead.stage) == ("unknown", "new")
    lead_upsert(email=lead.email, values={"employees": 200})
    engage(lead, "page_view")
    lead.refresh_from_db()
    assert (lead.fit, lead.stage) == ("pass", "mql")


def test_promotion_starts_the_sla_clocks_from_the_admin_policy(fit_lead, rep):
    policy = SLAPolicy.load()
    policy.accept_within_hours, policy.process_within_hours = 8, 16
    policy.save()
    at = timezone.now()
    engagements_record(
        items=[
            EngagementInput(lead_id=fit_lead.pk, kind=k, occurred_at=at)
            for k in ("inquiry", "document_request", "quote_request", "pricing_page_view")
        ],
        now=at,
    )
    fit_lead.refresh_from_db()
    assert fit_lead.mql_at == at
    assert fit_lead.accept_due_at == at + dt.timedelta(hours=8)
    assert fit_lead.process_due_at == at + dt.timedelta(hours=16)


def test_default_sla_is_24_hours_to_accept_and_48_to_process(fit_lead, rep):
    engage(fit_lead, "inquiry", "document_request", "quote_request", "pricing_page_view")
    fit_lead.refresh_from_db()
    assert fit_lead.accept_due_at - fit_lead.mql_at == dt.timedelta(hours=24)
    assert fit_lead.process_due_at - fit_lead.mql_at == dt.timedelta(hours=48)


def test_score_grows_incrementally_and_each_engagement_keeps_its_points(fit_lead):
    engage(fit_lead, "page_view")
    engage(fit_lead, "webinar_attendance", "email_click")
    fit_lead.refresh_from_db()
    assert fit_lead.score == 6
    assert fit_lead.engagement_count == 3
    assert fit_lead.kind_counts == {"page_view": 1, "webinar_attendance": 1, "email_click": 1}
    assert sorted(Engagement.objects.filter(lead=fit_lead).values_list("points", flat=True)) == [
        1,
        1,
        4,
    ]


def test_the_score_cap_applies_on_the_hot_path(fit_lead):
    settings = ScoringSettings.load()
    settings.score_cap = 9
    settings.save()
    engage(fit_lead, "demo_request", "demo_request")
    fit_lead.refresh_from_db()
    assert fit_lead.score == 9


def test_the_same_external_id_is_stored_once(fit_lead):
    at = timezone.now()
    item = EngagementInput(
        lead_id=fit_lead.pk, kind="demo_request", occurred_at=at, external_id="form-42"
    )
    first = engagements_record(items=[item, item])
    second = engagements_record(items=[item])
    fit_lead.refresh_from_db()
    assert (len(first.created), len(first.duplicates)) == (1, 1)
    assert (len(second.created), len(second.duplicates)) == (0, 1)
    assert Engagement.objects.filter(external_id="form-42").count() == 1
    assert fit_lead.score == 8 and fit_lead.engagement_count == 1


def test_a_list_naming_an_unknown_lead_stores_nothing(fit_lead):
    at = timezone.now()
    with pytest.raises(Lead.DoesNotExist):
        engagements_record(
            items=[
                EngagementInput(lead_id=fit_lead.pk, kind="page_view", occurred_at=at),
                EngagementInput(lead_id=fit_lead.pk + 999, kind="page_view", occurred_at=at),
            ]
        )
    fit_lead.refresh_from_db()
    assert fit_lead.score == 0 and not Engagement.objects.exists()


def test_one_list_scores_many_leads_and_promotes_each_that_qualifies(rep, other_rep):
    leads = [
        lead_upsert(email=f"l{i}@example.com", values={"source": "event", "employees": 100})[0]
        for i in range(3)
    ]
    at = timezone.now()
    kinds = ("inquiry", "document_request", "quote_request", "pricing_page_view")
    items = [
        EngagementInput(lead_id=leads[i].pk, kind=k, occurred_at=at) for i in (0, 1) for k in kinds
    ]
    items.append(EngagementInput(lead_id=leads[2].pk, kind="page_view", occurred_at=at))
    result = engagements_record(items=items)
    assert sorted(result.promoted_lead_ids) == sorted([leads[0].pk, leads[1].pk])
    stages = dict(Lead.objects.values_list("email", "stage"))
    assert stages == {"l0@example.com": "mql", "l1@example.com": "mql", "l2@example.com": "new"}
    assert {Lead.objects.get(pk=leads[0].pk).owner, Lead.objects.get(pk=leads[1].pk).owner} == {
        rep,
        other_rep,
    }


def test_a_new_criteria_version_stamps_the_leads_it_promotes(fit_lead, rep):
    v2 = MQLCriteria.publish(values={"score_threshold": 12}, author=None, note="tighter")
    assert v2.version == 2
    assert list(MQLCriteria.objects.filter(is_active=True)) == [v2]
    engage(fit_lead, "inquiry", "document_request", "quote_request", "pricing_page_view")
    fit_lead.refresh_from_db()
    assert fit_lead.mql_criteria == v2


def test_raising_the_threshold_keeps_a_lead_below_it_new(fit_lead, rep):
    MQLCriteria.publish(values={"score_threshold": 20}, author=None)
    engage(fit_lead, "inquiry", "document_request", "quote_request", "pricing_page_view")
    fit_lead.refresh_from_db()
    assert (fit_lead.score, fit_lead.stage) == (13, "new")


def test_a_lead_that_is_already_an_mql_is_not_promoted_again(fit_lead, rep):
    engage(fit_lead, "inquiry", "document_request", "quote_request", "pricing_page_view")
    engage(fit_lead, "demo_request")
    assert StageTransition.objects.filter(lead=fit_lead, transition="promote").count() == 1


# --- round-robin -------------------------------------------------------------


def _promote_fresh_lead(n):
    lead = LeadFactory(email=f"rr{n}@example.com")
    engage(lead, "inquiry", "document_request", "quote_request", "pricing_page_view")
    lead.refresh_from_db()
    return lead


def test_round_robin_gives_each_new_mql_to_the_least_recently_assigned_rep():
    reps = [UserFactory(username=name, roles=["sales"]) for name in ("ann", "bob", "cid")]
    owners = [_promote_fresh_lead(n).owner for n in range(5)]
    assert owners == [reps[0], reps[1], reps[2], reps[0], reps[1]]


def test_round_robin_skips_reps_who_are_away_inactive_or_not_in_sales():
    ann = UserFactory(username="ann", roles=["sales"])
    UserFactory(username="away", roles=["sales"], accepts_new_leads=False)
    UserFactory(username="gone", roles=["sales"], is_active=False)
    UserFactory(username="boss", roles=["sales_manager"])
    assert {_promote_fresh_lead(n).owner for n in range(3)} == {ann}


def test_without_active_reps_a_new_mql_waits_unassigned_in_the_pool():
    lead = _promote_fresh_lead(0)
    assert lead.stage == "mql" and lead.owner is None


def test_a_recycled_lead_goes_back_to_nurture_and_needs_new_engagement_to_return(
    fit_lead, rep, marketer
):
    from apps.leads.services import lead_transition, scores_recompute

    engage(fit_lead, "inquiry", "document_request", "quote_request", "pricing_page_view")
    lead_transition(
        lead=fit_lead.pk,
        name="reject",
        actor=rep,
        values=form_values("reject", {"reason": "bad_timing"}),
    )
    lead_transition(lead=fit_lead.pk, name="recycle", actor=marketer)
    fit_lead.refresh_from_db()
    assert (fit_lead.stage, fit_lead.score, fit_lead.owner, fit_lead.recycle_count) == (
        "new",
        0,
        None,
        1,
    )
    assert Engagement.objects.filter(lead=fit_lead).count() == 4  # history kept

    engage(fit_lead, "page_view")
    scores_recompute()
    fit_lead.refresh_from_db()
    assert (fit_lead.stage, fit_lead.score, fit_lead.engagement_count) == ("new", 1, 1)

    engage(fit_lead, "pricing_page_view", "demo_request")
    fit_lead.refresh_from_db()
    assert (fit_lead.stage, fit_lead.score) == ("mql", 12)


def test_an_admin_edit_that_makes_a_lead_fit_promotes_it_then(client, admin_user, rep):
    lead = LeadFactory(email="late@example.com", employees=None, source_id="website")
    engage(lead, "pricing_page_view", "demo_request", "inquiry")
    lead.refresh_from_db()
    assert (lead.stage, lead.fit) == ("new", "unknown")
    client.force_login(admin_user)

    response = client.post(
        f"/admin/leads/lead/{lead.pk}/change/",
        {
            "email": lead.email,
            "source": "website",
            "employees": "120",
            **{
                f"{prefix}-{key}": value
                for prefix in ("transitions", "qualifications", "engagements")
                for key, value in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"))
            },
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    lead.refresh_from_db()
    assert (lead.fit, lead.stage, lead.owner) == ("pass", "mql", rep)


def test_an_upsert_that_leaves_a_lead_short_of_the_criteria_promotes_nobody(rep):
    lead, _ = lead_upsert(email="a@example.com", values={"source": "website", "employees": 100})
    engage(lead, "pricing_page_view")
    lead, created = lead_upsert(email="a@example.com", values={"employees": 120})
    assert (created, lead.stage) == (False, "new")
    assert not StageTransition.objects.exists()
