"""`make bench` end to end at 10k leads: it runs, and writes every figure with the agreed keys.

Timings are never asserted (they belong to the bench's own table). It needs a PostgreSQL
server: the one of ``DATABASE_URL`` in the PostgreSQL pass; on SQLite it is skipped, unless
``LEADFLOW_REQUIRE_SERVICES=1``, which runs it against the local default server (and fails
when that server does not answer). Its databases are named ``leadflow_bench_test_*``.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import REQUIRE_SERVICES

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"figure", "tier", "median", "p95", "unit", "baseline", "ratio", "target", "ok"}
FIGURES = {
    "import_leads",
    "intake via API (lists of 500)",
    "intake: one list of 500",
    "inbox (rep)",
    "inbox (manager)",
    "lead list",
    "lead list stage=new page 3",
    "lead list sorted by score",
    "lead list stage=mql by score",
    "lead list deep page (100)",
    "lead list search: name",
    "lead list search: email",
    "lead list search: company",
    "lead page",
    "review queue",
    "reports dashboard",
    "suggestions page (12 weeks)",
    "weekly report",
    "live poll: rep inbox",
    "live poll: team inbox (manager)",
    "live poll: review queue",
    "live poll plan: seq scans",
    "live poll plan: buffers",
    "SLA sweep, 0 due",
    "SLA sweep, 1,000 due",
    "recompute_scores",
    "recompute_scores peak RSS",
    "import_leads peak RSS",
    "weekly_report peak RSS",
}


def postgres_server() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        return url
    if not REQUIRE_SERVICES:
        pytest.skip("the bench runs on PostgreSQL (DATABASE_URL=postgres://…)")
    return "postgres://postgres@127.0.0.1:5432/postgres"


def test_the_bench_runs_at_10k_and_writes_every_figure(tmp_path):
    server = postgres_server()
    try:
        import psycopg

        parts = urlsplit(server)
        psycopg.connect(f"postgresql://{parts.netloc}/postgres", connect_timeout=5).close()
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server
        if REQUIRE_SERVICES:
            pytest.fail(f"PostgreSQL required but unreachable at {server}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {server}")
    env = {
        **os.environ,
        "DATABASE_URL": server,
        "BENCH_SIZES": "10k",
        "BENCH_OUT": str(tmp_path),
        "BENCH_DATABASE_PREFIX": "leadflow_bench_test",
        # Fewer repetitions and a small import file: this checks the bench works, not speed.
        "BENCH_RUNS": "1",
        "BENCH_PAGE_REQUESTS": "3",
        "BENCH_IMPORT_ROWS": "300",
        "BENCH_INTAKE_LISTS": "2",
        # The rate-limit counters and the broker in the Redis database of this test run.
        "BENCH_REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
    }
    finished = subprocess.run(
        [sys.executable, "-m", "bench"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]

    rows = json.loads((tmp_path / "results.json").read_text())
    assert all(set(row) == KEYS for row in rows)
    assert {row["tier"] for row in rows} == {"10k"}
    written = {row["figure"] for row in rows}
    assert FIGURES <= written
    assert "import_leads" in written
    assert any(f.startswith("queries: ") for f in written)
    for row in rows:
        assert row["median"] is not None and row["p95"] is not None, row
        assert row["ok"] in (True, False, None), row
    assert (tmp_path / "lead-list.svg").read_text().startswith("<svg")
    # The live poll's plan, as EXPLAIN (ANALYZE, BUFFERS) printed it, for each live page.
    plan = (tmp_path / "live_poll_explain_10k.txt").read_text()
    assert plan.count("Execution Time:") == 3
    assert "leads_stagetransition_pkey" in plan and "Buffers: shared" in plan
    assert "| figure" in finished.stdout
