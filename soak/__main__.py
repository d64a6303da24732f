"""`make soak`: a few minutes of mixed traffic, then nothing acknowledged lost or doubled (SPEC §9).

Starts its own gunicorn, Celery worker and beat on free loopback ports against
a fresh PostgreSQL database (``leadflow_soak`` unless ``SOAK_DATABASE`` names
another) and Redis (``SOAK_REDIS_URL``, default db 7), then runs threaded
clients, bounded in time and in requests:

- intake: marketing creates leads and posts engagement batches through the
  API (a tenth of the batches are replays of earlier ones, as a client that
  never saw its answer would send them), which promote leads to MQLs, and
  glances at the review queue;
- work: each sales rep reads the inbox, the lead list and lead pages, and
  accepts or rejects its MQLs through the API;
- reading: a manager reads the list, the team's inbox and the reports.

Afterwards the database must hold exactly what the clients were told was
stored: every acknowledged lead, each acknowledged engagement once, one
history row per acknowledged transition, one promotion per promoted lead,
and every email delivered by the outbox. It prints p50/p95 per endpoint and
writes ``var/soak/results.json``; the exit status is 0 only when every check
holds and no answer was a 5xx.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

from bench.harness import ProcessGroups, free_port, serving, threads_run

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "soak"
KINDS = ["pricing_page_view", "demo_request", "page_view", "content_download", "email_click"]


def parse_args():
    parser = argparse.ArgumentParser(prog="python -m soak", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("SOAK_SECONDS", 180)))
    parser.add_argument(
        "--max-requests", type=int, default=int(os.environ.get("SOAK_MAX_REQUESTS", 40000))
    )
    parser.add_argument(
        "--database", default=os.environ.get("SOAK_DATABASE", "leadflow_soak"), help="dropped first"
    )
    parser.add_argument(
        "--redis", default=os.environ.get("SOAK_REDIS_URL", "redis://127.0.0.1:6379/7")
    )
    return parser.parse_args()


def soak_environment(args) -> dict:
    server = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    if not server.scheme.startswith("postgres"):
        sys.exit("make soak runs on PostgreSQL: set DATABASE_URL=postgres://… (the server to use)")
    return {
        "DATABASE_URL": f"{server.scheme}://{server.netloc}/{args.database}",
        "CELERY_BROKER_URL": args.redis,
        "RATE_LIMIT_REDIS_URL": args.redis,
        "RATE_LIMIT_KEY_PREFIX": f"leadflow-soak:{int(time.time())}",
        "LEADFLOW_API_RATE_PER_MINUTE": "10000000",
        "SECRET_KEY": "leadflow-soak-only-not-a-secret",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        "EMAIL_URL": "dummymail://",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def fresh_database(env: dict, name: str) -> None:
    import psycopg

    server = urlsplit(env["DATABASE_URL"])
    admin_url = f"postgresql://{server.netloc}/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


# --- the site under test -------------------------------------------------------------------


class Site:
    def __init__(self, env: dict):
        self.env = {**os.environ, **env}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.processes = ProcessGroups(self.env)

    def start(self):
        OUT.mkdir(parents=True, exist_ok=True)
        python = sys.executable
        commands = {
            "web": [
                python,
                "-m",
                "gunicorn",
                "leadflow.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--worker-class",
                "gthread",
                "--timeout",
                "60",
                "--log-level",
                "warning",
            ],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "leadflow",
                "worker",
                "--concurrency=2",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=WARNING",
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "leadflow",
                "beat",
                "--pidfile=",
                "--scheduler",
                "django_celery_beat.schedulers:DatabaseScheduler",
                "--loglevel=WARNING",
                f"--schedule={OUT / 'beat-schedule'}",
            ],
        }
        for name, command in commands.items():
            self.processes.start(name, command, OUT / f"{name}.log")
        if not serving(self.url, self.processes):
            raise SystemExit("the site did not come up; see var/soak/*.log")

    def stop(self):
        self.processes.stop_all()


# --- what the clients saw ------------------------------------------------------------------


@dataclass
class Ledger:
    """Every answer, timed, and every write the server acknowledged."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    timings: dict = field(default_factory=lambda: defaultdict(list))
    statuses: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    errors: list = field(default_factory=list)
    requests: int = 0
    leads: dict = field(default_factory=dict)  # email -> id
    engagement_ids: set = field(default_factory=set)  # external ids acknowledged as stored
    engagements_created: int = 0  # sum of "created" over every answer
    promoted: set = field(default_factory=set)
    transitions: list = field(default_factory=list)  # (name, username, lead id)

    def record(self, endpoint, status, seconds):
        with self.lock:
            self.requests += 1
            self.timings[endpoint].append(seconds)
            self.statuses[endpoint][status] += 1


class Client(threading.Thread):
    """One simulated person: a role, a token, a signed-in browser session."""

    def __init__(self, site, ledger, stop_at, budget, username, password, token, seed):
        super().__init__(daemon=True)
        self.site, self.ledger, self.stop_at, self.budget = site, ledger, stop_at, budget
        self.username, self.password, self.token = username, password, token
        self.random = random.Random(seed)
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Token {token}"
        self.browser = requests.Session()

    def running(self) -> bool:
        return time.monotonic() < self.stop_at and self.ledger.requests < self.budget

    def call(self, session, method, path, endpoint, **kwargs):
        started = time.perf_counter()
        try:
            response = session.request(method, self.site.url + path, timeout=60, **kwargs)
        except requests.RequestException as exc:
            self.ledger.record(endpoint, "error", time.perf_counter() - started)
            with self.ledger.lock:
                self.ledger.errors.append(f"{endpoint}: {exc}")
            return None
        self.ledger.record(endpoint, response.status_code, time.perf_counter() - started)
        if response.status_code >= 500:
            with self.ledger.lock:
                self.ledger.errors.append(f"{endpoint}: {response.status_code}")
        return response

    def sign_in(self):
        self.browser.get(self.site.url + "/accounts/login/", timeout=30)
        token = self.browser.cookies.get("csrftoken")
        response = self.call(
            self.browser,
            "POST",
            "/accounts/login/",
            "POST /accounts/login/",
            data={
                "username": self.username,
                "password": self.password,
                "csrfmiddlewaretoken": token,
            },
            allow_redirects=False,
        )
        assert response is not None and response.status_code == 302, "sign-in failed"

    def run(self):
        self.sign_in()
        while self.running():
            self.step()


class Marketer(Client):
    """Creates leads and posts engagements for them; sometimes replays a batch."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.mine: list[int] = []
        self.sent: list[list[dict]] = []
        self.n = 0

    def step(self):
        self.n += 1
        if self.random.random() < 0.05:
            self.call(self.browser, "GET", "/leads/review/", "GET /leads/review/")
            return
        if not self.mine or self.random.random() < 0.25:
            email = f"soak-{self.username}-{self.n}@example.com".lower()
            body = {
                "email": email,
                "first_name": "Soak",
                "last_name": f"Lead {self.n}",
                "company": "Soak & Sons",
                "employees": 120,
                "industry": "software",
                "country": "US",
                "source": "website",
            }
            response = self.call(
                self.api, "POST", "/api/v1/leads/", "POST /api/v1/leads/", json=body
            )
            if response is not None and response.status_code in (200, 201):
                lead_id = response.json()["id"]
                self.mine.append(lead_id)
                with self.ledger.lock:
                    self.ledger.leads[email] = lead_id
            return
        if self.sent and self.random.random() < 0.1:
            batch = self.random.choice(self.sent)  # a client retrying a batch it never heard of
        else:
            lead_id = self.random.choice(self.mine[-20:])
            batch = [
                {
                    "lead_id": lead_id,
                    "kind": self.random.choice(KINDS),
                    "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "external_id": f"soak-{self.username}-{self.n}-{k}",
                }
                for k in range(3)
            ]
            self.sent.append(batch)
        response = self.call(
            self.api, "POST", "/api/v1/engagements/", "POST /api/v1/engagements/", json=batch
        )
        # 201: stored now; 200: every item was already stored (a replay).
        if response is not None and response.status_code in (200, 201):
            answer = response.json()
            with self.ledger.lock:
                self.ledger.engagement_ids.update(item["external_id"] for item in batch)
                self.ledger.engagements_created += answer["created"]
                self.ledger.promoted.update(answer["promoted"])


class Rep(Client):
    """Works the inbox: reads pages, accepts or rejects its MQLs through the API."""

    def step(self):
        choice = self.random.random()
        if choice < 0.15:
            self.call(self.browser, "GET", "/leads/inbox/", "GET /leads/inbox/")
        elif choice < 0.3:
            self.call(self.browser, "GET", "/leads/?sort=-score", "GET /leads/")
        elif choice < 0.45:
            self.call(self.api, "GET", "/api/v1/leads/?page_size=20", "GET /api/v1/leads/")
        else:
            response = self.call(
                self.api,
                "GET",
                f"/api/v1/leads/?stage=mql&owner={self.username}&page_size=20",
                "GET /api/v1/leads/?stage=mql",
            )
            if response is None or response.status_code != 200:
                return
            leads = response.json()["results"]
            if not leads:
                time.sleep(0.05)
                return
            lead = self.random.choice(leads)
            self.call(self.browser, "GET", f"/leads/{lead['id']}/", "GET /leads/<id>/")
            name = "accept" if self.random.random() < 0.7 else "reject"
            body = {"expected_stage": "mql"}
            if name == "reject":
                body["reason"] = "no_budget"
            answer = self.call(
                self.api,
                "POST",
                f"/api/v1/leads/{lead['id']}/transitions/{name}/",
                f"POST /api/v1/leads/<id>/transitions/{name}/",
                json=body,
            )
            if answer is not None and answer.status_code == 200:
                with self.ledger.lock:
                    self.ledger.transitions.append((name, self.username, lead["id"]))


class Manager(Client):
    """Reads: the lead list, the team's inbox, the reports."""

    def step(self):
        path, endpoint = self.random.choice(
            [
                ("/leads/", "GET /leads/"),
                ("/leads/inbox/", "GET /leads/inbox/"),
                ("/reports/", "GET /reports/"),
                ("/leads/?stage=mql", "GET /leads/"),
            ]
        )
        self.call(self.browser, "GET", path, endpoint)


# --- setting up and checking, through Django --------------------------------------------


def django_setup(env: dict):
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadflow.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def make_team() -> dict:
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    from apps.accounts.models import User

    team = {}
    for username, role in [
        ("maya", "marketing"),
        ("mark", "marketing"),
        ("rita", "sales"),
        ("ravi", "sales"),
        ("rosa", "sales"),
        ("mona", "sales_manager"),
    ]:
        user = User.objects.create_user(username, email=f"{username}@example.com")
        user.set_password(f"soak-{username}")
        user.save()
        user.groups.add(Group.objects.get(name=role))
        team[username] = {
            "password": f"soak-{username}",
            "token": Token.objects.create(user=user).key,
            "role": role,
        }
    return team


def check(ledger: Ledger) -> list[tuple[str, bool, str]]:
    from django.db.models import Count

    from apps.leads.models import Engagement, Lead, StageTransition
    from apps.outbox.models import OutboxMessage
    from apps.sla.models import DIGEST_KINDS, Notification

    results = []

    def verdict(name, ok, detail):
        results.append((name, bool(ok), detail))

    stored = dict(Lead.objects.filter(email__startswith="soak-").values_list("email", "pk"))
    verdict(
        "leads: every acknowledged lead stored, no other",
        stored == ledger.leads,
        f"{len(ledger.leads)} acknowledged, {len(stored)} stored",
    )
    engagements = Engagement.objects.filter(external_id__startswith="soak-")
    stored_ids = set(engagements.values_list("external_id", flat=True))
    verdict(
        "engagements: each acknowledged one stored once",
        stored_ids == ledger.engagement_ids
        and engagements.count() == len(ledger.engagement_ids) == ledger.engagements_created,
        f"{len(ledger.engagement_ids)} acknowledged, {engagements.count()} rows, "
        f"{ledger.engagements_created} answered as created",
    )
    promoted = set(
        StageTransition.objects.filter(transition="promote", actor__isnull=True).values_list(
            "lead_id", flat=True
        )
    )
    verdict(
        "promotions: one per lead the API said it promoted",
        promoted == ledger.promoted
        and not StageTransition.objects.filter(transition="promote")
        .values("lead")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .exists(),
        f"{len(ledger.promoted)} answered, {len(promoted)} in the history",
    )
    history = sorted(
        StageTransition.objects.filter(transition__in=["accept", "reject"]).values_list(
            "transition", "actor__username", "lead_id"
        )
    )
    verdict(
        "transitions: one history row per acknowledged accept or reject",
        history == sorted(ledger.transitions),
        f"{len(ledger.transitions)} acknowledged, {len(history)} in the history",
    )
    deadline = time.monotonic() + 90
    pending = OutboxMessage.objects.exclude(status__in=["sent", "skipped"])
    while pending.exists() and time.monotonic() < deadline:
        time.sleep(1)
    emails = OutboxMessage.objects.filter(kind="sla.notification_email")
    # A rejection's notifications to marketing are told in the next daily digest, not one
    # email each.
    notified = Notification.objects.exclude(recipient__email="").exclude(kind__in=DIGEST_KINDS)
    notified = notified.count()
    verdict(
        "emails: every notification's email (digest kinds aside) delivered by the outbox",
        not pending.exists() and emails.filter(status="sent").count() == notified,
        f"{notified} notifications, {emails.filter(status='sent').count()} emails sent, "
        f"{pending.count()} not sent",
    )
    return results


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def report(ledger: Ledger, checks, elapsed) -> bool:
    rows = []
    for endpoint in sorted(ledger.timings):
        values = ledger.timings[endpoint]
        statuses = ledger.statuses[endpoint]
        rows.append(
            {
                "endpoint": endpoint,
                "requests": len(values),
                "p50_ms": round(percentile(values, 0.5) * 1000, 1),
                "p95_ms": round(percentile(values, 0.95) * 1000, 1),
                "max_ms": round(max(values) * 1000, 1),
                "statuses": {str(k): v for k, v in sorted(statuses.items(), key=str)},
            }
        )
    server_errors = sum(
        n
        for s in ledger.statuses.values()
        for code, n in s.items()
        if code == "error" or code >= 500
    )
    width = max(len(r["endpoint"]) for r in rows)
    print(
        f"\n{'endpoint':<{width}}  {'requests':>8}  {'p50 ms':>8}  {'p95 ms':>8}  {'max ms':>8}  statuses"
    )
    for r in rows:
        statuses = " ".join(f"{k}×{v}" for k, v in r["statuses"].items())
        print(
            f"{r['endpoint']:<{width}}  {r['requests']:>8}  {r['p50_ms']:>8}  {r['p95_ms']:>8}  "
            f"{r['max_ms']:>8}  {statuses}"
        )
    print(
        f"\n{ledger.requests} requests in {elapsed:.0f} s ({ledger.requests / elapsed:.0f}/s), "
        f"{server_errors} 5xx or connection errors"
    )
    for name, ok, detail in checks:
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
    for line in ledger.errors[:20]:
        print("  ", line)
    ok = server_errors == 0 and all(ok for _, ok, _ in checks)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(
        json.dumps(
            {
                "ok": ok,
                "seconds": round(elapsed, 1),
                "requests": ledger.requests,
                "server_errors": server_errors,
                "endpoints": rows,
                "checks": [{"check": n, "ok": o, "detail": d} for n, o, d in checks],
            },
            indent=2,
        )
    )
    print("\nsoak:", "OK" if ok else "FAILED", f"(details in {OUT / 'results.json'})")
    return ok


def main():
    args = parse_args()
    if not re.fullmatch(r"[a-z0-9_]+", args.database):
        sys.exit("--database: lower-case letters, digits and _ only")
    env = soak_environment(args)
    print(
        f"soak: database {args.database}, broker {args.redis}, {args.seconds} s at most, "
        f"{args.max_requests} requests at most"
    )
    fresh_database(env, args.database)
    django_setup(env)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    team = make_team()
    import redis

    redis.Redis.from_url(args.redis).delete("celery", "unacked", "unacked_index")

    site = Site(env)
    try:
        site.start()
        print(f"soak: serving at {site.url}; traffic starts")
        ledger = Ledger()
        stop_at = time.monotonic() + args.seconds
        kinds = {"marketing": Marketer, "sales": Rep, "sales_manager": Manager}
        clients = [
            kinds[member["role"]](
                site,
                ledger,
                stop_at,
                args.max_requests,
                username,
                member["password"],
                member["token"],
                seed,
            )
            for seed, (username, member) in enumerate(team.items())
        ]
        elapsed = threads_run(clients)
        print("soak: traffic over; checking the database")
        checks = check(ledger)
    finally:
        site.stop()
    sys.exit(0 if report(ledger, checks, elapsed) else 1)


if __name__ == "__main__":
    main()
