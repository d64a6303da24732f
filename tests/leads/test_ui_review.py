"""The marketing review queue: rejected MQLs, filters, counts by reason, Recycle / Resubmit / Disqualify."""

import datetime as dt

import pytest
from django.urls import reverse

from apps.leads.models import Lead, StageTransition
from apps.leads.services import lead_transition
from tests.factories import LeadFactory
from tests.leads.helpers import form_values, walk_to

pytestmark = pytest.mark.django_db

REVIEW = "/leads/review/"


def rejected(*, rep, marketer, manager, reason="no_budget", **profile):
    lead = walk_to(LeadFactory(**profile), "mql", marketer=marketer, manager=manager)
    lead_transition(
        lead=lead.pk,
        name="reject",
        actor=lead.owner or manager,
        values=form_values("reject", {"reason": reason, "note": f"{reason}!"}),
    )
    lead.refresh_from_db()
    return lead


def cards(body):
    return body.count('data-testid="review-card"')


def test_marketing_sees_rejected_mqls_with_reason_note_and_who_rejected(
    client, rep, marketer, manager
):
    lead = rejected(rep=rep, marketer=marketer, manager=manager, company="Hikari Logistics")
    walk_to(LeadFactory(company="Still An MQL"), "mql", marketer=marketer, manager=manager)
    client.force_login(marketer)

    body = client.get(REVIEW).content.decode()

    assert "Hikari Logistics" in body and "Still An MQL" not in body
    assert "No budget" in body and "no_budget!" in body
    assert f"Rejected by {rep}" in body
    assert all(
        f">{label}</button>" in body or f">{label}</summary>" in body for label in ("Recycle",)
    )
    assert ">Resubmit" in body and ">Disqualify" in body
    assert lead.company in body


def test_filtering_by_reason_narrows_the_queue_and_the_counts(client, rep, marketer, manager):
    for reason in ("no_budget", "no_budget", "bad_timing"):
        rejected(rep=rep, marketer=marketer, manager=manager, reason=reason)
    client.force_login(marketer)

    everything = client.get(REVIEW).content.decode()
    only_timing = client.get(REVIEW, {"reason": "bad_timing"}).content.decode()

    assert cards(everything) == 3 and cards(only_timing) == 1
    counts = everything.split('id="counts-title"')[1].split("</section>")[0]
    assert 'data-reason="no_budget"' in counts and '<span class="bar-value">2</span>' in counts
    assert "is-selected" not in counts and "aria-current" not in counts
    # Picking a reason keeps every reason's bar, marks the picked one, and it clears the filter.
    timing_counts = only_timing.split('id="counts-title"')[1].split("</section>")[0]
    assert 'data-reason="no_budget"' in timing_counts
    assert '<span class="bar-value">2</span>' in timing_counts
    assert timing_counts.count("is-selected") == 1
    picked = timing_counts.split('data-reason="bad_timing" class="is-selected"')[1].split("</li>")[
        0
    ]
    assert 'aria-current="true"' in picked and 'href="?reason=' not in picked
    assert 'data-testid="review-count" data-live-count="review">1<' in timing_counts


def test_the_reason_bars_keep_the_other_filters(client, rep, marketer, manager):
    rejected(rep=rep, marketer=marketer, manager=manager, reason="no_budget", source_id="ads")
    rejected(rep=rep, marketer=marketer, manager=manager, reason="bad_timing", source_id="ads")
    rejected(rep=rep, marketer=marketer, manager=manager, reason="bad_timing", source_id="website")
    client.force_login(marketer)

    body = client.get(REVIEW, {"source": "ads", "reason": "no_budget"}).content.decode()

    counts = body.split('id="counts-title"')[1].split("</section>")[0]
    timing = counts.split('data-reason="bad_timing"')[1].split("</li>")[0]
    assert '<span class="bar-value">1</span>' in timing  # the website one is not counted
    assert "source=ads" in timing and "reason=bad_timing" in timing
    picked = counts.split('data-reason="no_budget"')[1].split("</li>")[0]
    assert 'href="?source=ads"' in picked
    assert cards(body) == 1


@pytest.mark.parametrize("query", [{}, {"reason": ""}, {"source": "ads"}, {"reason": "no_budget"}])
def test_the_queue_shows_the_newest_rejection_first_filtered_or_not(
    client, rep, marketer, manager, query
):
    leads = [
        rejected(rep=rep, marketer=marketer, manager=manager, company=f"Co {n}", source_id="ads")
        for n in range(4)
    ]
    now = leads[0].rejected_at
    # Rejected 3, 1, 4 and 2 days ago; two on the same instant go by id, newest first.
    for lead, days in zip(leads, (3, 1, 4, 1), strict=True):
        Lead.objects.filter(pk=lead.pk).update(rejected_at=now - dt.timedelta(days=days))
    client.force_login(marketer)

    body = client.get(REVIEW, query).content.decode()

    order = sorted(range(4), key=lambda n: body.index(f"Co {n}<"))
    assert order == [3, 1, 0, 2]


def test_filtering_by_source_rep_and_date(client, rep, other_rep, marketer, manager):
    from_ads = rejected(
        rep=rep, marketer=marketer, manager=manager, source_id="ads", company="Ads Co"
    )
    from_web = rejected(
        rep=rep, marketer=marketer, manager=manager, source_id="website", company="Web Co"
    )
    Lead.objects.filter(pk=from_web.pk).update(
        rejected_at=from_web.rejected_at - dt.timedelta(days=10)
    )
    client.force_login(marketer)

    by_source = client.get(REVIEW, {"source": "ads"}).content.decode()
    by_rep = client.get(REVIEW, {"rep": from_ads.owner.username}).content.decode()
    recent = client.get(
        REVIEW, {"rejected_from": (from_ads.rejected_at - dt.timedelta(days=1)).date()}
    ).content.decode()

    assert "Ads Co" in by_source and "Web Co" not in by_source
    assert "Ads Co" in by_rep
    assert "Ads Co" in recent and "Web Co" not in recent


def test_resubmit_needs_a_note_and_then_goes_back_to_sales_as_an_mql(
    client, rep, marketer, manager
):
    lead = rejected(rep=rep, marketer=marketer, manager=manager)
    client.force_login(marketer)
    url = reverse("leads:transition", args=[lead.pk, "resubmit"])

    refused = client.post(url, {"expected_stage": "rejected", "note": "", "next": REVIEW})
    assert refused.status_code == 400
    assert "A note is required to resubmit a rejected lead." in refused.content.decode()
    assert Lead.objects.get(pk=lead.pk).stage == "rejected"

    done = client.post(
        url,
        {"expected_stage": "rejected", "note": "Asked for pricing twice", "next": REVIEW},
        follow=True,
    )
    lead.refresh_from_db()
    assert lead.stage == "mql"
    assert "back in sales&#x27; inbox" in done.content.decode()
    assert StageTransition.objects.filter(
        lead=lead, transition="resubmit", note="Asked for pricing twice"
    ).exists()


def test_disqualify_needs_a_reason(client, rep, marketer, manager):
    lead = rejected(rep=rep, marketer=marketer, manager=manager)
    client.force_login(marketer)
    url = reverse("leads:transition", args=[lead.pk, "disqualify"])

    assert client.post(url, {"expected_stage": "rejected"}).status_code == 400
    assert Lead.objects.get(pk=lead.pk).stage == "rejected"

    client.post(url, {"expected_stage": "rejected", "reason": "competitor"})
    lead.refresh_from_db()
    assert (lead.stage, lead.disqualify_reason_id) == ("disqualified", "competitor")


def test_recycle_sends_the_lead_back_to_nurture_and_off_the_queue(client, rep, marketer, manager):
    lead = rejected(rep=rep, marketer=marketer, manager=manager, company="Recycled Co")
    client.force_login(marketer)

    response = client.post(
        reverse("leads:transition", args=[lead.pk, "recycle"]),
        {"expected_stage": "rejected", "next": REVIEW, "origin": "review"},
        HTTP_HX_REQUEST="true",
        follow=True,
    )

    lead.refresh_from_db()
    assert lead.stage == "new"
    body = response.content.decode()
    assert "is back in nurture" in body
    assert cards(body) == 0


def test_sales_has_no_review_queue_and_cannot_recycle(client, rep, manager, marketer):
    lead = rejected(rep=rep, marketer=marketer, manager=manager)
    for user in (rep, manager):
        client.force_login(user)
        assert client.get(REVIEW).status_code == 403
        assert (
            client.post(reverse("leads:transition", args=[lead.pk, "recycle"])).status_code == 403
        )
    assert Lead.objects.get(pk=lead.pk).stage == "rejected"
