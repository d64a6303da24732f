"""The write paths at 100k leads on PostgreSQL, each beside its same-run baseline.

Not ``make bench`` (that is SPEC §9's whole benchmark): a small script for the
write paths only, to compare two trees (before and after a change) on the same
data. Each figure is the median of ``--runs`` runs.

    python scripts/bench_writes.py --db leadflow_writes_bench --tree . --leads 100000

``--tree`` is the checkout whose code runs (its ``manage.py`` and gunicorn);
the database is created (dropped first) unless ``--reuse``. Prints one line per
figure: median, all runs, baseline median, ratio.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psycopg

KINDS = {
    "page_view": 1,
    "pricing_page_view": 3,
    "content_download": 2,
    "webinar_registration": 2,
    "webinar_attendance": 4,
    "email_click": 1,
    "inquiry": 2,
    "document_request": 3,
    "quote_request": 5,
    "demo_request": 8,
    "event_visit": 2,
}
PG = "postgres://postgres@127.0.0.1:5432"


def sql(db: str, statement: str, *, autocommit: bool = True):
    with psycopg.connect(f"{PG}/{db}", autocommit=autocommit) as conn:
        cur = conn.execute(statement)
        return cur.fetchall() if cur.description else None


def env_for(db: str, tree: Path) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": f"{PG}/{db}",
        "SECRET_KEY": "bench-writes",
        "REDIS_URL": "redis://127.0.0.1:6379/2",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/2",
        "RATE_LIMIT_REDIS_URL": "redis://127.0.0.1:6379/2",
        "LEADFLOW_API_RATE_PER_MINUTE": "10000000",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(tree),
    }


def manage(db: str, tree: Path, *args: str) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, output) of ``manage.py *args`` run in ``tree``."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(tree / "manage.py"), *args],
        cwd=tree,
        env=env_for(db, tree),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    out = proc.stdout.read().decode()
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{out[-3000:]}")
    return seconds, usage.ru_maxrss / 1024, out


def generate(db: str, tree: Path, leads: int) -> None:
    sql("postgres", f"DROP DATABASE IF EXISTS {db}")
    sql("postgres", f"CREATE DATABASE {db}")
    manage(db, tree, "migrate", "--noinput", "-v0")
    kinds = list(KINDS)
    points_case = " ".join(f"WHEN '{k}' THEN {p}" for k, p in KINDS.items())
    statements = [
        f"""INSERT INTO leads_lead (email, first_name, last_name, title, phone, company, employees,
            industry, country, campaign, stage, score, engagement_count, kind_counts, fit, fit_reason,
            recycle_count, opportunity_currency, close_reason, created_at, updated_at, source)
        SELECT 'lead' || g || '@example' || (g % 97) || '.com', 'First' || g, 'Last' || g, '', '',
            'Company ' || (g % 5000), 10 + (g * 7919) % 990, '', '', '', 'new', 0, 0, '{{}}', 'unknown',
            '', 0, '', '', now() - (g % 90) * interval '1 day', now(), 'website'
        FROM generate_series(1, {leads}) g""",
        f"""INSERT INTO leads_engagement (kind, occurred_at, source, campaign, metadata, points,
            external_id, created_at, lead_id)
        SELECT (ARRAY{kinds!r})[1 + (l.id * 31 + n * 17) % {len(kinds)}], now() - ((l.id + n) % 84) * interval '1 day',
            '', '', '{{}}', 0, NULL, now(), l.id
        FROM leads_lead l, generate_series(1, 10) n WHERE l.id % 10 < 3""",
        f"UPDATE leads_engagement SET points = CASE kind {points_case} ELSE 0 END",
        """UPDATE leads_lead l SET score = a.score, engagement_count = a.n, kind_counts = a.kinds
        FROM (SELECT lead_id, sum(points) score, count(*) n,
                     (SELECT jsonb_object_agg(kind, c) FROM (SELECT kind, count(*) c FROM leads_engagement e2
                        WHERE e2.lead_id = e.lead_id GROUP BY kind) k) kinds
              FROM leads_engagement e GROUP BY lead_id) a WHERE a.lead_id = l.id""",
        """UPDATE leads_lead SET fit = CASE WHEN employees BETWEEN 50 AND 500 THEN 'pass' ELSE 'fail' END,
            fit_reason = CASE WHEN employees BETWEEN 50 AND 500 THEN 'matches the fit rule'
                              ELSE 'outside the employee range' END""",
        """UPDATE leads_lead SET stage = 'mql', mql_at = now() - interval '3 days'
        WHERE score >= 10 AND engagement_count >= 3 AND fit = 'pass' AND kind_counts ? 'pricing_page_view'""",
        "VACUUM ANALYZE",
    ]
    for statement in statements:
        sql(db, statement)
    out = manage(
        db,
        tree,
        "shell",
        "-c",
        "from django.contrib.auth.models import Group; from apps.accounts.models import User; "
        "from rest_framework.authtoken.models import Token; "
        "u = User.objects.create_user('bench', password='x'); "
        "u.groups.add(Group.objects.get(name='marketing')); "
        "print('TOKEN', Token.objects.create(user=u).key)",
    )[2]
    token = out.split("TOKEN ")[1].split()[0]
    sql(
        db,
        f"CREATE TABLE IF NOT EXISTS bench_token (key text); INSERT INTO bench_token VALUES ('{token}')",
    )


# --- intake -----------------------------------------------------------------------------


def intake_lists(db: str, lists: int, size: int, seed: int) -> list[list[dict]]:
    rng = random.Random(seed)
    (max_id,) = sql(db, "SELECT max(id) FROM leads_lead")[0]
    now = dt.datetime.now(dt.UTC)
    kinds = list(KINDS)
    return [
        [
            {
                "lead_id": rng.randint(1, max_id),
                "kind": rng.choice(kinds),
                "occurred_at": (
                    now - dt.timedelta(minutes=rng.randint(1, 60 * 24 * 30))
                ).isoformat(),
                "external_id": f"bench-{seed}-{i}-{j}",
            }
            for j in range(size)
        ]
        for i in range(lists)
    ]


def bench_intake(db: str, tree: Path, runs: int, lists: int, threads: int, workers: int) -> dict:
    (token,) = sql(db, "SELECT key FROM bench_token")[0]
    port = 18000 + os.getpid() % 1000
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "leadflow.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
        ],
        cwd=tree,
        env=env_for(db, tree),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/", timeout=1)
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.2)
                continue
            break

        def post(items):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/engagements/",
                data=json.dumps(items).encode(),
                headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=120) as response:
                assert response.status in (200, 201), response.status

        api_rates, copy_rates = [], []
        for run in range(runs):
            batches = intake_lists(db, lists, 500, seed=os.getpid() * 100 + run)
            post(batches[0])  # warm the workers
            started = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(threads) as pool:
                list(pool.map(post, batches[1:]))
            api_rates.append((lists - 1) * 500 / (time.perf_counter() - started))
            copy_rates.append(copy_rate(db, [i for b in batches[1:] for i in b]))
        return {"runs": api_rates, "baseline": copy_rates}
    finally:
        server.terminate()
        server.wait()


def copy_rate(db: str, items: list[dict]) -> float:
    """Rows/s of a raw COPY of the same engagement rows into the table (rolled back)."""
    with psycopg.connect(f"{PG}/{db}") as conn:
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY leads_engagement (lead_id, kind, occurred_at, source, campaign, metadata, points, "
                "external_id, created_at) FROM STDIN"
            ) as copy,
        ):
            for i in items:
                copy.write_row(
                    (
                        i["lead_id"],
                        i["kind"],
                        i["occurred_at"],
                        "",
                        "",
                        "{}",
                        0,
                        "copy-" + i["external_id"],
                        "now",
                    )
                )
        rate = len(items) / (time.perf_counter() - started)
        conn.rollback()
    return rate


# --- recompute and import ---------------------------------------------------------------


RECOMPUTE_SQL = """
UPDATE leads_lead l SET score = s.total
FROM (
    SELECT l2.id, coalesce(sum(CASE e.kind {cases} ELSE 0 END), 0) total
    FROM leads_lead l2 LEFT JOIN leads_engagement e
      ON e.lead_id = l2.id AND (l2.recycled_at IS NULL OR e.occurred_at >= l2.recycled_at)
    GROUP BY l2.id
) s WHERE s.id = l.id
"""


def bench_recompute(db: str, tree: Path, runs: int, leads: int) -> dict:
    rates, rss, baseline = [], [], []
    cases = " ".join(f"WHEN '{k}' THEN {p}" for k, p in KINDS.items())
    for _ in range(runs):
        seconds, peak, _out = manage(db, tree, "recompute_scores")
        rates.append(leads / seconds)
        rss.append(peak)
        with psycopg.connect(f"{PG}/{db}") as conn:
            started = time.perf_counter()
            conn.execute(RECOMPUTE_SQL.format(cases=cases))
            baseline.append(leads / (time.perf_counter() - started))
            conn.rollback()
    return {"runs": rates, "baseline": baseline, "rss": rss}


def import_file(path: Path, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["email", "first_name", "last_name", "company", "employees", "source"])
        for i in range(rows):
            # Half new, half updates of stored leads; a few repeated within the file.
            n = rng.randint(1, 50_000) if i % 2 else 10_000_000 + seed * 1_000_000 + i
            writer.writerow(
                [
                    f"lead{n}@example{n % 97}.com",
                    f"F{i}",
                    f"L{i}",
                    f"Co {i % 777}",
                    20 + i % 900,
                    "",
                ]
            )


def bench_import(db: str, tree: Path, runs: int, rows: int) -> dict:
    rates, rss, baseline = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(runs):
            path = Path(tmp) / f"import{run}.csv"
            import_file(path, rows, seed=os.getpid() % 1000 * 10 + run)
            seconds, peak, _out = manage(db, tree, "import_leads", str(path))
            rates.append(rows / seconds)
            rss.append(peak)
            with psycopg.connect(f"{PG}/{db}") as conn:
                started = time.perf_counter()
                conn.execute(
                    "CREATE TEMP TABLE bench_import (email text, first_name text, last_name text, "
                    "company text, employees text, source text)"
                )
                with (
                    conn.cursor() as cur,
                    cur.copy("COPY bench_import FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
                    path.open("rb") as data,
                ):
                    while chunk := data.read(1 << 20):
                        copy.write(chunk)
                baseline.append(rows / (time.perf_counter() - started))
                conn.rollback()
    return {"runs": rates, "baseline": baseline, "rss": rss}


def show(figure: str, result: dict, unit: str) -> None:
    median = statistics.median(result["runs"])
    base = statistics.median(result["baseline"])
    runs = ", ".join(f"{r:,.0f}" for r in result["runs"])
    line = f"{figure}: median {median:,.0f} {unit} [{runs}] | baseline {base:,.0f} | ratio {median / base:.1%}"
    if "rss" in result:
        line += f" | peak RSS max {max(result['rss']):.0f} MB"
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--tree", default=".")
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--only", default="intake,recompute,import")
    parser.add_argument("--lists", type=int, default=21)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--import-rows", type=int, default=100_000)
    args = parser.parse_args()
    tree = Path(args.tree).resolve()
    if not args.reuse:
        started = time.perf_counter()
        generate(args.db, tree, args.leads)
        print(
            f"generated {args.leads:,} leads in {time.perf_counter() - started:.0f} s", flush=True
        )
    only = args.only.split(",")
    if "intake" in only:
        result = bench_intake(args.db, tree, args.runs, args.lists, args.threads, args.workers)
        show("intake (API, lists of 500)", result, "events/s")
    if "recompute" in only:
        show("recompute_scores", bench_recompute(args.db, tree, args.runs, args.leads), "leads/s")
    if "import" in only:
        show("import_leads", bench_import(args.db, tree, args.runs, args.import_rows), "rows/s")


if __name__ == "__main__":
    main()
