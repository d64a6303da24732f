"""EXPLAIN ANALYZE of the live pages' poll at 1M leads / 2M transitions (PostgreSQL, issue 12).

Not part of the suite (pytest does not collect it). It bulk-inserts generated rows with
plain SQL, so it refuses any database whose name does not contain "bench":

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/leadflow_ui2_bench \\
        .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/leadflow_ui2_bench \\
        .venv/bin/python tests/sla/live_poll_explain.py [LEADS]

It prints the poll's one statement with its plan, for a rep's inbox, a manager's team
inbox and the review queue, with the cursor a few seconds behind the newest row.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadflow.settings")
os.environ.setdefault("SECRET_KEY", "bench-only")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from apps.leads.models import StageTransition  # noqa: E402
from apps.sla.live import live_state  # noqa: E402
from tests.factories import UserFactory  # noqa: E402


def fill(leads: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM leads_lead")
        if cursor.fetchone()[0] >= leads:
            return
        print(f"generating {leads:,} leads and {2 * leads:,} transitions …", flush=True)
        cursor.execute(
            """
            INSERT INTO leads_lead (email, first_name, last_name, title, phone, company,
              industry, country, source, campaign, owner_id, stage, score, engagement_count,
              kind_counts, fit, fit_reason, recycle_count, opportunity_currency, close_reason,
              created_at, updated_at, accept_due_at, process_due_at, mql_at, accepted_at)
            SELECT 'lead' || g || '@bench.example', 'F', 'L', '', '', 'Co ' || mod(g, 5000), '',
              'JP', 'website', '', CASE WHEN mod(g, 10) < 3 THEN %s END,
              (ARRAY['new','new','new','new','mql','accepted','rejected','sql','won','lost'])[mod(g, 10) + 1],
              mod(g, 40), mod(g, 7), '{}'::jsonb, 'pass', '', 0, '', '',
              now() - (g || ' seconds')::interval, now(), now() + interval '20 hours',
              now() + interval '44 hours', now() - interval '1 day', NULL
            FROM generate_series(1, %s) AS g
            """,
            [UserFactory(username="bench-rep", roles=["sales"]).pk, leads],
        )
        cursor.execute(
            """
            INSERT INTO leads_stagetransition (lead_id, transition, from_stage, to_stage,
              actor_id, at, reason, note, owner_id, criteria_id, accept_due_at, process_due_at)
            SELECT l.id, t.name, t.from_stage, t.to_stage, NULL,
              l.created_at + (t.n || ' hours')::interval, '', '', l.owner_id, NULL, NULL, NULL
            FROM leads_lead l
            CROSS JOIN (VALUES (1, 'promote', 'new', 'mql'), (2, 'accept', 'mql', 'accepted'))
              AS t (n, name, from_stage, to_stage)
            ORDER BY l.id, t.n
            """
        )
        cursor.execute(
            "ANALYZE leads_lead; ANALYZE leads_stagetransition; ANALYZE sla_notification"
        )


def notify(count: int) -> None:
    """``count`` notifications spread over the bench users, a tenth of them unread."""
    users = [
        UserFactory(username=name, roles=[role]).pk
        for name, role in (
            ("bench-rep", "sales"),
            ("bench-manager", "sales_manager"),
            ("bench-marketer", "marketing"),
        )
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sla_notification")
        if cursor.fetchone()[0] >= count:
            return
        cursor.execute(
            """
            INSERT INTO sla_notification (recipient_id, kind, lead_id, created_at, read_at)
            SELECT (%s::bigint[])[mod(g, 3) + 1], 'reminder', g,
              now() - (g || ' seconds')::interval,
              CASE WHEN mod(g, 10) = 0 THEN NULL ELSE now() END
            FROM generate_series(1, %s) AS g
            """,
            [users, count],
        )


def main() -> None:
    if "bench" not in connection.settings_dict["NAME"]:
        sys.exit("refusing: the database name must contain 'bench'")
    leads = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    fill(leads)
    notify(leads // 10)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sla_notification")
    rep = UserFactory(username="bench-rep", roles=["sales"])
    manager = UserFactory(username="bench-manager", roles=["sales_manager"])
    marketer = UserFactory(username="bench-marketer", roles=["marketing"])
    newest = StageTransition.objects.order_by("-id").values_list("id", flat=True).first()
    since = newest - 50  # a few seconds of changes behind
    for user, view in ((rep, "inbox"), (manager, "inbox"), (marketer, "review")):
        with CaptureQueriesContext(connection) as captured:
            live_state(user, view=view, since=since, shown=range(1, 71))
        (query,) = [q["sql"] for q in captured if "stagetransition" in q["sql"]]
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        times = []
        for _ in range(50):
            start = time.perf_counter()
            live_state(user, view=view, since=since, shown=range(1, 71))
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        print(
            f"\n=== {user.username} · {view}: {len(captured)} query; "
            f"median {statistics.median(times):.2f} ms, p95 {times[int(len(times) * 0.95)]:.2f} ms"
        )
        print(plan)


if __name__ == "__main__":
    main()
