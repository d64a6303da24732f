"""The window's signals, read set-based in SQL, against a lead-by-lead count of the same rows."""

import datetime as dt
import random

import pytest

from apps.criteria import rules
from apps.leads.models import Engagement, Lead, StageTransition
from apps.reports.cohort_signals import KINDS, cohort_signals, new_vocabularies, nurture_signals
from tests.reports.funnels import NOW, WINDOW

TABLE = rules.ScoringTable(
    points={"pricing_page_view": 10, "demo_request": 15, "page_view": 1, "email_click": -3},
    cap=40,
    decay_after_days=30,
    decayed_percent=50,
)
RETIRED_KIND = "fax_sent"  # no longer a kind: it counts as an engagement and scores nothing


def mask(kinds) -> int:
    return sum(1 << KINDS.index(k) for k in set(kinds) if k in KINDS)


def state(engagements, moment, *, inclusive=False):
    """(engagements, score, kinds) of the (kind, at) pairs up to ``moment``, as at ``moment``."""
    done = [(k, at) for k, at in engagements if at < moment or (inclusive and at == moment)]
    return len(done), rules.score_of(TABLE, done, moment), mask(k for k, _at in done)


def random_history(rng: random.Random, history):
    """Leads with engagements from before the window to after it, some promoted (some twice,
    some before or after the window), some qualified (some after ``NOW``), some archived or
    disqualified."""
    first = WINDOW.start - dt.timedelta(days=60)
    span = (WINDOW.end + dt.timedelta(days=5) - first).total_seconds()

    def moment():
        return first + dt.timedelta(seconds=int(rng.random() * span))

    kinds = [*KINDS, RETIRED_KIND]
    expected = {}
    for index in range(60):
        lead = history.lead(
            email=f"signals-{index}@example.com",
            employees=rng.choice([None, 20, 300]),
            industry=rng.choice(["software", "", "Retail "]),
            country=rng.choice(["jp", "US", ""]),
        )
        engagements = [(rng.choice(kinds), moment()) for _ in range(rng.randrange(9))]
        if engagements and rng.random() < 0.3:
            engagements.append((rng.choice(kinds), engagements[0][1]))  # two at one moment
        Engagement.objects.bulk_create(
            [Engagement(lead=lead, kind=kind, occurred_at=at) for kind, at in engagements]
        )
        promotions = sorted(moment() for _ in range(rng.choice([0, 0, 1, 1, 2])))
        if promotions and engagements and rng.random() < 0.3:
            promotions[0] = engagements[-1][1]  # promoted by its last engagement
        steps = [("promote", at) for at in promotions]
        if promotions and rng.random() < 0.4:
            steps.append(("qualify", promotions[0] + dt.timedelta(days=rng.choice([1, 200]))))
        StageTransition.objects.bulk_create(
            [
                StageTransition(lead=lead, transition=name, from_stage="new", to_stage="mql", at=at)
                for name, at in steps
            ]
        )
        gone = rng.random()
        if gone < 0.1:
            Lead.objects.filter(pk=lead.pk).update(archived_at=moment())
        elif gone < 0.2:
            Lead.objects.filter(pk=lead.pk).update(disqualified_at=moment())
        lead.refresh_from_db()
        expected[lead.pk] = (lead, engagements, steps)
    return expected


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_signals_match_a_lead_by_lead_count(tokyo, history, seed):
    leads = random_history(random.Random(seed), history)
    start, end = WINDOW.start, min(WINDOW.end, NOW)
    vocabularies = new_vocabularies()

    cohort = cohort_signals(window=WINDOW, as_of=NOW, table=TABLE, vocabularies=vocabularies)
    nurture = nurture_signals(window=WINDOW, as_of=NOW, table=TABLE, vocabularies=vocabularies)

    mqls, nurtured = {}, []
    for pk, (lead, engagements, steps) in leads.items():
        promotions = [at for name, at in steps if name == "promote"]
        in_window = [at for at in promotions if start <= at < end]
        before = state(engagements, start)
        if in_window:
            count, score, kinds = state(engagements, min(in_window), inclusive=True)
            qualified = any(name == "qualify" and at <= NOW for name, at in steps)
            mqls[pk] = (count, score, kinds, *before, lead.employees or -1, qualified)
        elif (
            any(start <= at < end for _kind, at in engagements)
            and lead.archived_at is None
            and (lead.disqualified_at is None or lead.disqualified_at >= end)
            and not any(at < end for at in promotions)
        ):
            nurtured.append((*state(engagements, end), *before, lead.employees or -1))
    assert mqls and nurtured
    assert {
        int(pk): (
            int(cohort.engagements[i]),
            int(cohort.score[i]),
            int(cohort.kinds[i]),
            int(cohort.engagements_before[i]),
            int(cohort.score_before[i]),
            int(cohort.kinds_before[i]),
            int(cohort.profiles.employees[i]),
            bool(cohort.reached_sql[i]),
        )
        for i, pk in enumerate(cohort.lead_ids)
    } == mqls
    assert sorted(
        zip(
            nurture.engagements.tolist(),
            nurture.score.tolist(),
            nurture.kinds.tolist(),
            nurture.engagements_before.tolist(),
            nurture.score_before.tolist(),
            nurture.kinds_before.tolist(),
            nurture.profiles.employees.tolist(),
            strict=True,
        )
    ) == sorted(nurtured)
