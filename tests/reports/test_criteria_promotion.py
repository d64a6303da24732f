"""Publishing looser MQL criteria promotes nobody; the admin is offered the batch the what-if counted."""

import pytest
from django.contrib.messages import get_messages

from apps.criteria.models import MQLCriteria
from apps.leads.models import Lead, StageTransition
from tests.criteria.helpers import mql_criteria_form
from tests.factories import LeadFactory
from tests.leads.helpers import engage

pytestmark = pytest.mark.django_db

LOOSER = mql_criteria_form(score_threshold="5", note="Looser")


@pytest.fixture
def leads(rep):
    """Leads still ``new`` under the default criteria (score 10): who would a threshold of 5 let in?"""
    warm = [LeadFactory(), LeadFactory()]
    for lead in warm:
        engage(lead, "pricing_page_view", "page_view", "page_view")  # 5 points, 3 engagements
    cold = LeadFactory()
    engage(cold, "page_view", "page_view", "page_view")  # no pricing page view
    unfit = LeadFactory(employees=5)
    engage(unfit, "pricing_page_view", "page_view", "page_view")  # fit fails
    archived = LeadFactory()
    engage(archived, "pricing_page_view", "page_view", "page_view")
    Lead.objects.filter(pk=archived.pk).update(archived_at=archived.created_at)
    assert set(Lead.objects.values_list("stage", flat=True)) == {"new"}
    return {"warm": warm, "others": [cold, unfit, archived]}


def publish(client, **changes):
    active = MQLCriteria.objects.get(is_active=True)
    return client.post(
        f"/admin/criteria/mqlcriteria/{active.pk}/change/",
        {**LOOSER, **changes, "_save": "Save"},
        follow=True,
    )


def test_the_what_if_counts_the_new_leads_the_proposal_would_let_in_now(admin_client, leads):
    active = MQLCriteria.objects.get(is_active=True)

    response = admin_client.post(
        f"/admin/criteria/mqlcriteria/{active.pk}/change/", {**LOOSER, "_preview": "1"}
    )

    assert response.context["whatif"].meeting_now == 2
    assert "2 new leads meet these criteria today" in response.content.decode()


def test_publishing_looser_criteria_promotes_nobody_and_offers_the_batch(admin_client, leads):
    response = publish(admin_client)

    published = MQLCriteria.objects.get(is_active=True)
    assert published.score_threshold == 5
    assert set(Lead.objects.values_list("stage", flat=True)) == {"new"}
    offers = [str(m) for m in get_messages(response.wsgi_request)]
    offer = next(m for m in offers if "meet version" in m)
    assert offer.startswith(f"2 new leads meet version {published.version} now")
    assert f"/admin/criteria/mqlcriteria/{published.pk}/promote/" in offer


def test_the_batch_promotes_exactly_the_leads_that_meet_the_new_version(admin_client, leads, rep):
    publish(admin_client)
    published = MQLCriteria.objects.get(is_active=True)
    url = f"/admin/criteria/mqlcriteria/{published.pk}/promote/"

    confirm = admin_client.get(url)
    assert confirm.status_code == 200 and confirm.context["count"] == 2
    response = admin_client.post(url)

    assert response.status_code == 302
    for lead in leads["warm"]:
        lead.refresh_from_db()
        assert (lead.stage, lead.owner, lead.mql_criteria) == ("mql", rep, published)
        row = StageTransition.objects.get(lead=lead)
        assert (row.transition, row.actor, row.criteria) == ("promote", None, published)
        assert row.accept_due_at is not None  # the SLA clocks started
    for lead in leads["others"]:
        lead.refresh_from_db()
        assert lead.stage == "new"
    # Done once: a second post finds nobody left to promote.
    admin_client.post(url)
    assert StageTransition.objects.count() == 2


def test_a_version_no_longer_active_promotes_nobody(admin_client, leads):
    publish(admin_client)
    looser = MQLCriteria.objects.get(is_active=True)
    publish(admin_client, score_threshold="10")

    admin_client.post(f"/admin/criteria/mqlcriteria/{looser.pk}/promote/")

    assert set(Lead.objects.values_list("stage", flat=True)) == {"new"}


def test_staff_who_may_not_publish_criteria_may_not_promote_the_batch(
    admin_client, staff_only, leads
):
    publish(admin_client)
    published = MQLCriteria.objects.get(is_active=True)
    admin_client.force_login(staff_only)

    response = admin_client.post(f"/admin/criteria/mqlcriteria/{published.pk}/promote/")

    assert response.status_code == 403
    assert set(Lead.objects.values_list("stage", flat=True)) == {"new"}
