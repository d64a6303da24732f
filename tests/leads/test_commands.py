"""manage.py recompute_scores, as the person running it sees it."""

import datetime as dt

import pytest
from django.core.management.base import CommandError
from django.utils import timezone

from apps.criteria.models import ScoringSettings
from apps.leads.models import Lead
from apps.leads.services import EngagementInput, engagements_record
from tests.commands import run
from tests.factories import LeadFactory


def days_ago(n: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=n)


def record(lead, *engagements):
    engagements_record(
        items=[
            EngagementInput(lead_id=lead.pk, kind=kind, occurred_at=at) for kind, at in engagements
        ]
    )
    lead.refresh_from_db()


def test_recompute_scores_restores_a_corrupted_score(db):
    lead = LeadFactory()
    record(lead, ("pricing_page_view", days_ago(1)), ("content_download", days_ago(2)))
    assert lead.score == 5
    Lead.objects.filter(pk=lead.pk).update(score=999)

    output = run("recompute_scores")

    lead.refresh_from_db()
    assert lead.score == 5
    assert "Rescored 1 lead." in output


def test_recompute_scores_rescores_every_lead_across_batches(db):
    leads = LeadFactory.create_batch(3)
    for views, lead in enumerate(leads, start=1):
        record(lead, *[("page_view", days_ago(0.1))] * views)
    Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(score=999)

    output = run("recompute_scores", batch_size=2)

    assert [Lead.objects.get(pk=lead.pk).score for lead in leads] == [1, 2, 3]
    assert "Rescored 3 leads." in output


@pytest.mark.parametrize(
    ("old_kind", "kept_percent", "expected"),
    [
        ("demo_request", 50, 4 + 3),
        ("demo_request", 0, 0 + 3),
        ("quote_request", 50, 2 + 3),  # half of 5 rounds down, as on the hot path
    ],
)
def test_recompute_scores_decays_engagements_older_than_the_setting(
    db, old_kind, kept_percent, expected
):
    lead = LeadFactory()
    record(lead, (old_kind, days_ago(40)), ("pricing_page_view", days_ago(2)))
    assert lead.score > expected
    scoring = ScoringSettings.load()
    scoring.decay_after_days, scoring.decayed_points_percent = 30, kept_percent
    scoring.save()

    run("recompute_scores")

    lead.refresh_from_db()
    assert lead.score == expected


def test_recompute_scores_refuses_a_batch_size_below_one(db):
    with pytest.raises(CommandError, match="at least 1"):
        run("recompute_scores", batch_size=0)
