"""The review queue's bars: counted from the leads, or (PostgreSQL, unfiltered) kept by triggers."""

import pytest
from django.utils import timezone

from apps.leads.filters import ReviewFilter
from apps.leads.models import Lead, RejectionCount, Stage
from apps.leads.selectors import rejected_for_review, rejection_counts
from apps.leads.services import lead_transition
from tests.factories import LeadFactory
from tests.leads.helpers import form_values, walk_to

pytestmark = pytest.mark.django_db


def reject(lead, reason, *, manager):
    lead_transition(
        lead=lead.pk,
        name="reject",
        actor=lead.owner or manager,
        values=form_values("reject", {"reason": reason, "note": "no"}),
    )
    lead.refresh_from_db()
    return lead


def bars(user, **filters):
    """What the page draws unfiltered (kept counts on PostgreSQL) and the leads counted one by one."""
    queue = rejected_for_review(user)
    return (
        rejection_counts(user, queue, filtered=False),
        rejection_counts(user, queue, filtered=True),
    )


@pytest.mark.postgres
def test_the_kept_counts_follow_every_way_a_lead_enters_or_leaves_the_queue(rep, marketer, manager):
    leads = [
        reject(walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager), reason, **m)
        for reason, m in [
            ("no_budget", {"manager": manager}),
            ("no_budget", {"manager": manager}),
            ("no_budget", {"manager": manager}),
            ("bad_timing", {"manager": manager}),
            ("bad_timing", {"manager": manager}),
            ("not_a_fit", {"manager": manager}),
        ]
    ]
    kept, counted = bars(marketer)
    assert kept == counted == [("no_budget", 3), ("bad_timing", 2), ("not_a_fit", 1)]

    # Out through the review actions, the admin's archive and a reason rewritten in place.
    lead_transition(
        lead=leads[0].pk, name="recycle", actor=marketer, values=form_values("recycle", {})
    )
    lead_transition(
        lead=leads[1].pk,
        name="disqualify",
        actor=marketer,
        values=form_values("disqualify", {"reason": "competitor", "note": "gone"}),
    )
    Lead.objects.filter(pk=leads[3].pk).update(archived_at=timezone.now())
    Lead.objects.filter(pk=leads[5].pk).update(last_reject_reason=None)
    # In without a transition: rows written whole (an import, a fixture), one and in bulk.
    LeadFactory(stage=Stage.REJECTED, last_reject_reason_id="no_need", rejected_at=timezone.now())
    Lead.objects.bulk_create(
        [
            LeadFactory.build(
                stage=Stage.REJECTED, last_reject_reason_id="no_need", rejected_at=timezone.now()
            ),
            LeadFactory.build(stage=Stage.REJECTED, rejected_at=timezone.now()),
            LeadFactory.build(
                stage=Stage.REJECTED,
                last_reject_reason_id="no_need",
                archived_at=timezone.now(),
            ),
        ]
    )

    kept, counted = bars(marketer)
    assert kept == counted == [("no_need", 2), (None, 2), ("bad_timing", 1), ("no_budget", 1)]
    assert not RejectionCount.objects.filter(leads__lt=0).exists()


@pytest.mark.postgres
def test_resubmitted_leads_leave_the_kept_counts_and_come_back_when_rejected_again(
    rep, marketer, manager
):
    lead = reject(
        walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager),
        "no_budget",
        manager=manager,
    )
    lead_transition(
        lead=lead.pk,
        name="resubmit",
        actor=marketer,
        values=form_values("resubmit", {"note": "They have a budget now"}),
    )
    assert bars(marketer) == ([], [])

    reject(lead, "bad_timing", manager=manager)

    assert bars(marketer) == ([("bad_timing", 1)], [("bad_timing", 1)])


@pytest.mark.parametrize(
    "query, narrows",
    [
        (None, False),
        ({"page": "2", "open": "resubmit", "lead": "7"}, False),
        ({"source": "", "rejected_from": ""}, False),
        ({"rep": "not-a-rep"}, False),  # refused by the form, so not applied either
        ({"source": "ads"}, True),
        ({"rejected_from": "2026-01-05"}, True),
    ],
)
def test_the_review_filter_says_whether_it_narrows_the_queue(marketer, query, narrows):
    assert ReviewFilter(query, queryset=rejected_for_review(marketer)).narrows() is narrows
