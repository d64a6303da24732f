"""`make bench`: the figures of SPEC §9 at 10k, 100k and 1M leads, each beside a baseline.

For each tier (``BENCH_SIZES=10k,100k``; default all three) it makes sure the tier's
dataset exists on the PostgreSQL server of ``DATABASE_URL`` (database
``leadflow_bench_<tier>``, generated once with set-based SQL and reused while its
generator version matches and it is under a week old), measures every figure on a
throw-away copy of it (``…_run``, made from it as a template and dropped afterwards), then
prints one table, writes ``var/bench/results.json`` and an SVG growth chart per figure.
See README, "Performance".
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench import chart

ROOT = Path(__file__).resolve().parent.parent
TIERS = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}
OUT = Path(os.environ.get("BENCH_OUT", ROOT / "var" / "bench"))
PREFIX = os.environ.get("BENCH_DATABASE_PREFIX", "leadflow_bench")
MAX_AGE = dt.timedelta(days=7)


def say(*parts):
    print(*parts, flush=True)


def server_url() -> str:
    server = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    if not server.scheme.startswith("postgres"):
        server = urlsplit("postgres://postgres@127.0.0.1:5432/postgres")
    return f"postgresql://{server.netloc}"


def redis_url() -> str | None:
    """Redis for the rate-limit counters and the broker, when one answers."""
    url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1")
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception:  # noqa: BLE001 - any failure: run without it
        return None
    return url


def child_environment(database: str, redis: str | None) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": f"{server_url()}/{database}",
        # DEBUG off, as in production; a key of the bench's own unless one is exported.
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "leadflow-bench-only-not-a-secret",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "EMAIL_URL": "dummymail://",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        # The API's per-token limit (600 a minute) would cap one token at 5,000 events/s
        # with lists of 500: the bench lifts it for its run.
        "LEADFLOW_API_RATE_PER_MINUTE": "100000000",
        "RATE_LIMIT_KEY_PREFIX": f"leadflow-bench:{int(time.time())}",
    }
    if redis:
        env.update(CELERY_BROKER_URL=redis, RATE_LIMIT_REDIS_URL=redis)
    else:
        env.update(
            CELERY_BROKER_URL="filesystem://",
            CELERY_BROKER_FOLDER=str(OUT / "broker"),
            RATE_LIMIT_REDIS_URL="",
        )
    # Static files are served from the source folders (nothing collected): no warning.
    env.setdefault("PYTHONWARNINGS", "ignore:No directory at")
    return env


def admin(sql: str, *params):
    import psycopg

    with psycopg.connect(f"{server_url()}/postgres", autocommit=True) as conn:
        cursor = conn.execute(sql, params or None)
        return cursor.fetchall() if cursor.description else None


def stored_dataset(database: str) -> dict | None:
    """What ``bench_meta`` says of an existing dataset, or None."""
    import psycopg

    from bench.dataset import GENERATOR_VERSION

    if not admin("SELECT 1 FROM pg_database WHERE datname = %s", database):
        return None
    try:
        with psycopg.connect(f"{server_url()}/{database}") as conn:
            version, leads, anchor, seconds = conn.execute(
                "SELECT version, leads, anchor, seconds FROM bench_meta"
            ).fetchone()
    except psycopg.Error:
        return None
    if version != GENERATOR_VERSION or dt.datetime.now(dt.UTC) - anchor > MAX_AGE:
        return None
    return {"leads": leads, "anchor": anchor, "seconds": seconds}


def migrations_missing(database: str) -> list[str]:
    """The project's migrations (apps/*/migrations) that ``database`` has not applied."""
    import psycopg

    on_disk = {
        (path.parent.parent.name, path.stem) for path in (ROOT / "apps").glob("*/migrations/0*.py")
    }
    with psycopg.connect(f"{server_url()}/{database}") as conn:
        applied = set(conn.execute("SELECT app, name FROM django_migrations").fetchall())
    return sorted(f"{app}.{name}" for app, name in on_disk - applied)


def run_child(args: list[str], env: dict) -> None:
    child = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env)
    try:
        code = child.wait()
    except BaseException:  # stopped ourselves: stop the child, which stops its servers
        child.terminate()
        child.wait(timeout=60)
        raise
    if code:
        raise subprocess.CalledProcessError(code, args)


def dataset_ensure(tier: str, leads: int, redis) -> dict:
    database = f"{PREFIX}_{tier.lower()}"
    stored = None if os.environ.get("BENCH_REGENERATE") == "1" else stored_dataset(database)
    if stored and stored["leads"] == leads:
        say(
            f"{tier}: reusing {database} (generated {stored['anchor']:%Y-%m-%d %H:%M} UTC "
            f"in {stored['seconds']:.0f} s)"
        )
        missing = migrations_missing(database)
        if missing:  # the code moved on since: each run's copy is brought up to date
            say(f"{tier}: {len(missing)} newer migration(s), applied to each run's copy")
        return stored
    say(f"{tier}: generating {leads:,} leads into {database}")
    admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{database}"')
    env = child_environment(database, redis)
    started = time.perf_counter()
    run_child(["manage.py", "migrate", "--noinput", "-v", "0"], env)
    run_child(["-m", "bench.tier", "generate", "--leads", str(leads)], env)
    say(f"{tier}: dataset ready in {time.perf_counter() - started:.0f} s (migrations included)")
    return stored_dataset(database)


def tier_measure(tier: str, redis) -> Path:
    source = f"{PREFIX}_{tier.lower()}"
    copy = f"{source}_run_{os.getpid()}"  # two benches at once never share a copy
    admin(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
    started = time.perf_counter()
    ((size,),) = admin("SELECT pg_database_size(%s)", source)
    # FILE_COPY waits for a checkpoint (seconds on a busy server) but writes no WAL: the
    # large tiers' way; a small one is faster through the WAL.
    strategy = "FILE_COPY" if size > 512 * 2**20 else "WAL_LOG"
    admin(f'CREATE DATABASE "{copy}" TEMPLATE "{source}" STRATEGY {strategy}')
    say(f"{tier}: measuring on {copy} (copied in {time.perf_counter() - started:.0f} s)")
    out = OUT / f"tier-{tier}.json"
    out.unlink(missing_ok=True)
    try:
        # Migrations newer than the stored dataset go into the copy only: the dataset is
        # shared by every checkout that benches on this server, each at its own schema.
        missing = migrations_missing(copy)
        if missing:
            started = time.perf_counter()
            run_child(
                ["manage.py", "migrate", "--noinput", "-v", "0"], child_environment(copy, redis)
            )
            say(
                f"{tier}: applied {len(missing)} newer migration(s) to {copy} "
                f"in {time.perf_counter() - started:.0f} s"
            )
        run_child(
            ["-m", "bench.tier", "measure", "--tier", tier, "--out", str(out)],
            child_environment(copy, redis),
        )
    finally:
        if os.environ.get("BENCH_KEEP_RUN") != "1":
            admin(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
        if redis:
            import redis as redis_client

            redis_client.Redis.from_url(redis).delete("celery", "unacked", "unacked_index")
    return out


# --- the table ------------------------------------------------------------------------------


def percentile(values, fraction):
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def verdict(row, first) -> bool | None:
    """Whether ``row`` meets its target (None: nothing to judge at this tier)."""
    median, p95, ratio = row["median"], row["p95"], row["ratio"]
    kind, figure = row["kind"], row["figure"]
    if kind == "queries":
        return first is None or median <= first["median"]
    if kind in ("flat", "buffers"):
        return first is None or median <= max(2 * first["median"], 10)
    if kind == "memory":
        return median < 300
    if kind == "plan":  # how many seq scans a plan has
        return median == 0
    if figure.startswith("intake via API"):
        return median >= 5000 and ratio is not None and ratio >= 0.25
    if kind == "rate":
        return ratio is not None and ratio >= 0.25
    if figure == "weekly report":
        return ratio is not None and ratio <= 1.5
    if figure.startswith("suggestions"):
        return median <= 5000
    if figure.startswith("SLA sweep"):
        return p95 <= 200
    if row["target"].startswith("p95 ≤ 50 ms"):
        return p95 <= 50
    return None


def rows_of(tier_files: list[Path]) -> tuple[list[dict], list[str]]:
    rows, notes, first_by_figure = [], [], {}
    for path in tier_files:
        data = json.loads(path.read_text())
        tier = path.stem.removeprefix("tier-")
        notes += [f"{tier}: {n}" for n in data["notes"]]
        for raw in data["rows"]:
            samples, base = raw["samples"], raw["baseline_samples"]
            median = percentile(samples, 0.5)
            baseline = percentile(base, 0.5) if base else None
            row = {
                "figure": raw["figure"],
                "tier": raw["tier"],
                "median": round(median, 2),
                "p95": round(percentile(samples, 0.95), 2),
                "unit": raw["unit"],
                "baseline": None if baseline is None else round(baseline, 2),
                "ratio": round(median / baseline, 3) if baseline else None,
                "target": raw["target"],
                "ok": None,
                "kind": raw["kind"],
            }
            first = first_by_figure.setdefault(row["figure"], row)
            row["ok"] = verdict(row, None if first is row else first)
            # A query count, a plan's seq scans or buffers: one count, the same every run.
            few = len(samples) < 5 and raw["kind"] not in ("queries", "plan", "buffers")
            if raw["note"] or few:
                notes.append(
                    f"{tier} {raw['figure']}: {raw['note'] or ''}"
                    + (f" ({len(samples)} runs)" if few else "")
                )
            rows.append(row)
    return rows, notes


def number(value) -> str:
    if value is None:
        return "—"
    if float(value).is_integer() and abs(value) < 100:
        return str(int(value))
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"


def table(rows: list[dict]) -> str:
    header = ["figure", "tier", "median", "p95", "baseline", "ratio", "target", "ok"]
    lines = [
        [
            r["figure"],
            r["tier"],
            f"{number(r['median'])} {r['unit']}",
            f"{number(r['p95'])} {r['unit']}",
            "—" if r["baseline"] is None else f"{number(r['baseline'])} {r['unit']}",
            "—" if r["ratio"] is None else f"{r['ratio']:.2f}×",
            r["target"] or "—",
            {True: "yes", False: "NO", None: "—"}[r["ok"]],
        ]
        for r in rows
    ]
    widths = [max(len(str(x)) for x in column) for column in zip(header, *lines, strict=False)]
    out = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    out += [
        "| " + " | ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True)) + " |"
        for line in lines
    ]
    return "\n".join(out)


def report(tier_files: list[Path], elapsed: float) -> list[dict]:
    rows, notes = rows_of(tier_files)
    order = {t: n for n, t in enumerate(TIERS)}
    figures = list(dict.fromkeys(r["figure"] for r in rows))
    rows.sort(key=lambda r: (figures.index(r["figure"]), order.get(r["tier"], 9)))
    say("")
    say(table(rows))
    for line in notes:
        say("note:", line)
    keys = ("figure", "tier", "median", "p95", "unit", "baseline", "ratio", "target", "ok")
    (OUT / "results.json").write_text(
        json.dumps([{k: r[k] for k in keys} for r in rows], indent=2, ensure_ascii=False)
    )
    charts = chart.charts_write(rows, OUT, tiers=list(TIERS))
    say(
        f"\nbench: {len(rows)} figures in {elapsed:.0f} s; {OUT / 'results.json'}, "
        f"{len(charts)} charts in {OUT}"
    )
    return rows


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sizes = [s.strip() for s in os.environ.get("BENCH_SIZES", "10k,100k,1M").split(",") if s]
    unknown = [s for s in sizes if s not in TIERS]
    if unknown:
        sys.exit(f"BENCH_SIZES: unknown tier(s) {', '.join(unknown)}; use {', '.join(TIERS)}")
    if not re.fullmatch(r"[a-z0-9_]+", PREFIX):
        sys.exit("BENCH_DATABASE_PREFIX: lower-case letters, digits and _ only")
    OUT.mkdir(parents=True, exist_ok=True)
    redis = redis_url()
    say(
        f"bench: tiers {', '.join(sizes)} on {urlsplit(server_url()).netloc}; "
        f"rate-limit counters and broker in {redis or 'the database / the filesystem'}"
    )
    started = time.perf_counter()
    files = []
    if os.environ.get("BENCH_REPORT_ONLY") == "1":  # tabulate tiers measured earlier
        report([OUT / f"tier-{t}.json" for t in sizes if (OUT / f"tier-{t}.json").exists()], 0)
        return
    for tier in sizes:
        tier_started = time.perf_counter()
        dataset_ensure(tier, TIERS[tier], redis)
        if os.environ.get("BENCH_GENERATE_ONLY") == "1":
            continue
        files.append(tier_measure(tier, redis))
        say(f"{tier}: done in {time.perf_counter() - tier_started:.0f} s")
    if files:
        report(files, time.perf_counter() - started)


if __name__ == "__main__":
    main()
