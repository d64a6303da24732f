"""One-off timing of the criteria what-if (and the weekly report) on ~20k leads / 100k engagements.

Not part of the suite (pytest does not collect it). It bulk-inserts generated
rows, so it refuses any database whose name does not contain "bench":

    DATABASE_URL=sqlite:////tmp/leadflow-bench.sqlite3 .venv/bin/python manage.py migrate
    DATABASE_URL=sqlite:////tmp/leadflow-bench.sqlite3 .venv/bin/python tests/reports/whatif_benchmark.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/leadflow_bench ... (the same two commands)
"""

import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadflow.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from apps.criteria import rules  # noqa: E402
from apps.leads.models import Engagement, Lead, StageTransition  # noqa: E402
from apps.reports.selectors import weekly_report_compute  # noqa: E402
from apps.reports.weeks import IsoWeek  # noqa: E402
from apps.reports.whatif import criteria_whatif  # noqa: E402

LEADS, ENGAGEMENTS, WEEKS = 20_000, 100_000, 10
KINDS = {
    "page_view": 40,
    "pricing_page_view": 12,
    "content_download": 12,
    "email_click": 15,
    "webinar_registration": 6,
    "webinar_attendance": 4,
    "inquiry": 3,
    "document_request": 3,
    "quote_request": 2,
    "demo_request": 2,
    "event_visit": 1,
}
SOURCES = ["website", "webinar", "event", "content", "ads", "referral", "email", "partner"]


def generate(now):
    rng = random.Random(7)
    start = now - dt.timedelta(weeks=WEEKS)
    Lead.objects.bulk_create(
        [
            Lead(
                email=f"bench{i}@bench.example",
                source_id=rng.choice(SOURCES),
                employees=rng.choice([20, 120, 300, None]),
                industry="software",
                country="US",
            )
            for i in range(LEADS)
        ],
        batch_size=2000,
    )
    ids = list(Lead.objects.filter(email__endswith="@bench.example").values_list("pk", flat=True))
    kinds, weights = list(KINDS), list(KINDS.values())
    span = (now - start).total_seconds()
    Engagement.objects.bulk_create(
        [
            Engagement(
                lead_id=rng.choice(ids),
                kind=rng.choices(kinds, weights)[0],
                occurred_at=start + dt.timedelta(seconds=rng.random() * span),
            )
            for _ in range(ENGAGEMENTS)
        ],
        batch_size=5000,
    )
    # A history for the weekly report: 3,000 MQLs, most accepted, some qualified or rejected.
    history, hour = [], dt.timedelta(hours=1)
    for pk in rng.sample(ids, 3000):
        at = start + dt.timedelta(seconds=rng.random() * span)
        history.append(
            StageTransition(
                lead_id=pk,
                transition="promote",
                from_stage="new",
                to_stage="mql",
                at=at,
                accept_due_at=at + 24 * hour,
                process_due_at=at + 48 * hour,
            )
        )
        if rng.random() < 0.8:
            accepted = at + rng.uniform(0.2, 40) * hour
            history.append(
                StageTransition(
                    lead_id=pk,
                    transition="accept",
                    from_stage="mql",
                    to_stage="accepted",
                    at=accepted,
                )
            )
            outcome = rng.random()
            if outcome < 0.3:
                history.append(
                    StageTransition(
                        lead_id=pk,
                        transition="qualify",
                        from_stage="accepted",
                        to_stage="sql",
                        at=accepted + rng.uniform(1, 60) * hour,
                    )
                )
            elif outcome < 0.5:
                history.append(
                    StageTransition(
                        lead_id=pk,
                        transition="reject",
                        from_stage="accepted",
                        to_stage="rejected",
                        reason="no_budget",
                        at=accepted + rng.uniform(1, 60) * hour,
                    )
                )
    StageTransition.objects.bulk_create(history, batch_size=5000)


def main():
    name = str(connection.settings_dict["NAME"])
    if "bench" not in name:
        sys.exit(
            f"refusing to write generated rows into {name!r}: use a database whose name contains 'bench'"
        )
    now = timezone.now()
    if not Lead.objects.filter(email__endswith="@bench.example").exists():
        began = time.perf_counter()
        generate(now)
        print(f"generated in {time.perf_counter() - began:.1f} s")
    print(
        f"{connection.vendor}: {Lead.objects.count()} leads, {Engagement.objects.count()} engagements"
    )
    for weeks in (8, 26):
        for attempt in range(2):
            result = criteria_whatif(proposed=rules.MQLRule(score_threshold=20), weeks=weeks)
            print(
                f"what-if {weeks:>2} weeks (run {attempt + 1}): {result.seconds:.2f} s, "
                f"{result.leads_replayed} leads / {result.engagements_replayed} engagements replayed, "
                f"MQLs current {result.totals.current_mqls} -> proposed {result.totals.proposed_mqls}"
            )
    began = time.perf_counter()
    document = weekly_report_compute(week=IsoWeek.containing(now).previous(), as_of=now).document
    print(
        f"weekly report of last week: {time.perf_counter() - began:.2f} s ({document['mqls']} MQLs)"
    )


if __name__ == "__main__":
    main()
