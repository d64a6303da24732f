"""Delivery under faults, with real processes: nothing acknowledged is lost (SPEC §7).

Real Celery workers (subprocesses) and beat on a real Redis broker against
PostgreSQL, sending to a local SMTP server that takes 0.25 s per message:

1. Workers are killed with SIGKILL, one at a time, while a sweep of a few hundred
   due leads sends its reminders: afterwards every reminder arrived at least
   once, and repeats (same Message-ID) number at most the kills.
2. The broker is stopped during a burst of promotions: every request still
   answers 2xx, and every new-MQL email arrives once the broker is back (the
   periodic delivery finds them).
"""

import asyncio
import datetime as dt
import email
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
from aiosmtpd.controller import Controller
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.leads.models import Lead
from apps.leads.services import lead_transition
from apps.outbox.models import OutboxMessage
from apps.outbox.services import outbox_message_id
from apps.sla.models import Notification, SLAEvent
from bench.harness import ProcessGroups, free_port
from tests.api.conftest import client_for
from tests.conftest import REQUIRE_SERVICES
from tests.factories import LeadFactory, UserFactory
from tests.waiting import wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SWEEP = "SLA sweep: reminders, breaches, escalations"
DELIVERY = "Outbox: deliver due emails and retries"


class SlowMailServer:
    """An SMTP server on 127.0.0.1 that takes ``delay`` seconds to accept each message."""

    def __init__(self, delay: float):
        self.delay = delay
        self.message_ids: list[str] = []
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)
        message_id = email.message_from_bytes(envelope.content)["Message-ID"]
        with self.lock:
            self.message_ids.append(message_id)
        return "250 Message accepted for delivery"

    def received(self) -> Counter:
        with self.lock:
            return Counter(self.message_ids)


@pytest.fixture
def slow_smtp():
    server = SlowMailServer(delay=0.25)
    server.controller.start()
    yield server
    server.controller.stop()


class Processes(ProcessGroups):
    """Celery workers and beat as subprocesses of this test, on the test's own database."""

    def __init__(self, tmp_path, env):
        super().__init__(env)
        self.tmp_path = tmp_path

    def celery(self, name, *args):
        command = [sys.executable, "-m", "celery", "-A", "leadflow", *args]
        self.start(name, command, self.tmp_path / f"{name}.log", append=True)

    def worker(self, name):
        self.celery(
            name,
            "worker",
            "--pool=solo",  # one message at a time: a kill interrupts at most one send
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
            "-n",
            f"{name}@%h",
        )

    def beat(self):
        self.celery(
            "beat",
            "beat",
            "--scheduler",
            "django_celery_beat.schedulers:DatabaseScheduler",
            "--pidfile=",
            "--max-interval=1",
            "--loglevel=WARNING",
            f"--schedule={self.tmp_path / 'beat-schedule'}",
        )

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text()[-2000:]}" for path in self.tmp_path.glob("*.log")
        )


def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def processes(tmp_path):
    def start(*, broker_url, smtp_port):
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": broker_url,
            "RATE_LIMIT_REDIS_URL": "",
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "EMAIL_TIMEOUT": "3",
            # A killed worker's claim is taken over after 5 s instead of 5 minutes.
            "OUTBOX_LEASE_SECONDS": "5",
            "OUTBOX_RETRY_BASE_SECONDS": "1",
            "CONN_MAX_AGE": "0",
            "PYTHONUNBUFFERED": "1",
        }
        started.append(Processes(tmp_path, env))
        return started[-1]

    started = []
    yield start
    for group in started:
        group.stop_all()


def every(seconds, *task_names):
    """Run these periodic tasks every ``seconds`` from now on, and no others."""
    schedule, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
    PeriodicTask.objects.exclude(name__in=task_names).update(enabled=False)
    for task in PeriodicTask.objects.filter(name__in=task_names):
        task.interval, task.crontab = schedule, None
        task.enabled = True
        task.last_run_at = timezone.now() - dt.timedelta(minutes=1)
        task.save()


def clear_queue(url):
    import redis

    redis.Redis.from_url(url).delete("celery", "unacked", "unacked_index", "unacked_mutex")


@pytest.fixture
def team():
    maya = UserFactory(username="maya", roles=["marketing"])
    reps = [UserFactory(username=f"rep{i}", roles=["sales"]) for i in range(3)]
    return maya, reps


# --- 1. workers killed mid-sweep ----------------------------------------------------------

DUE_LEADS = 240
KILLS = 4


def test_workers_killed_during_a_sweep_lose_no_reminder(
    team, slow_smtp, processes, redis_url, tmp_path
):
    maya, _reps = team
    promoted_at = timezone.now() - dt.timedelta(hours=21)  # accept reminders are due
    for i in range(DUE_LEADS):
        lead = LeadFactory(email=f"due{i}@example.com")
        lead_transition(
            lead=lead.pk,
            name="promote",
            actor=maya,
            values={"reason": "fair", "note": ""},
            at=promoted_at,
        )
    assert Lead.objects.filter(stage="mql", owner__isnull=False).count() == DUE_LEADS
    every(3, SWEEP, DELIVERY)
    clear_queue(redis_url)

    group = processes(broker_url=redis_url, smtp_port=slow_smtp.port)
    workers = [f"trust-fault-{i}" for i in range(3)]
    for name in workers:
        group.worker(name)
    group.beat()

    kills = 0
    deadline = time.monotonic() + 60
    while kills < KILLS and time.monotonic() < deadline:
        # Kill one worker after every 30 emails or so, mid-send, and start a fresh one.
        if sum(slow_smtp.received().values()) >= 30 * (kills + 1):
            victim = workers[kills % len(workers)]
            group.kill(victim)
            group.worker(victim)
            kills += 1
        time.sleep(0.05)
    assert kills == KILLS, "the sweep never got going:\n" + group.logs()

    def all_reminders_arrived():
        if SLAEvent.objects.count() < DUE_LEADS:
            return False
        return set(expected_ids()) <= set(slow_smtp.received())

    def expected_ids():
        reminders = Notification.objects.filter(kind="reminder").values_list("pk", flat=True)
        rows = OutboxMessage.objects.filter(key__in=[f"notification:{pk}" for pk in reminders])
        return [outbox_message_id(row) for row in rows]

    arrived = wait_for(all_reminders_arrived, timeout=90)
    group.stop_all()
    received = slow_smtp.received()
    expected = expected_ids()
    assert arrived, (
        f"{len(set(expected) - set(received))} of {len(expected)} reminders never arrived:\n"
        + group.logs()
    )
    assert len(expected) == DUE_LEADS
    repeats = sum(count - 1 for message_id, count in received.items() if message_id in expected)
    retried = OutboxMessage.objects.filter(kind="sla.notification_email", attempts__gt=1).count()
    print(
        f"\n{len(expected)} reminders, {sum(received.values())} received, {repeats} repeated, "
        f"{kills} kills, {retried} taken over after a lease ran out"
    )
    assert repeats <= kills, f"{repeats} repeated emails for {kills} kills"
    assert set(received) == set(expected)  # nothing else was sent
    rows = OutboxMessage.objects.filter(kind="sla.notification_email", status="sent")
    assert rows.count() >= DUE_LEADS
    clear_queue(redis_url)


# --- 2. the broker down during a burst of promotions --------------------------------------


class PrivateRedis:
    """A redis-server of this test's own on a free port, to stop and start at will."""

    def __init__(self, tmp_path):
        self.binary = shutil.which("redis-server")
        self.port = free_port()
        self.tmp_path = tmp_path
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--dir", str(self.tmp_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        assert wait_for(lambda: _pings(redis.Redis.from_url(self.url)), timeout=10)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


def _pings(client) -> bool:
    try:
        return client.ping()
    except Exception:
        return False


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path)
    if server.binary is None:
        if REQUIRE_SERVICES:
            pytest.fail("redis-server is needed to stop and restart a broker")
        pytest.skip("no redis-server binary")
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


@pytest.fixture
def app_on(private_redis):
    """This process's Celery app publishing to the private broker (no eager shortcut)."""
    from leadflow.celery import app
    from tests.conftest import _forget_broker

    saved = {k: app.conf[k] for k in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=private_redis.url, task_always_eager=False)
    _forget_broker(app)
    yield app
    app.conf.update(saved)
    _forget_broker(app)


BURST = 12  # leads each way: web UI promotions, API promotions, and engagements that promote


def test_a_broker_down_during_promotions_fails_no_request_and_loses_no_email(
    team, private_redis, app_on, processes, client
):
    maya, _reps = team
    smtp = SlowMailServer(delay=0.0)
    smtp.controller.start()
    try:
        every(2, DELIVERY)
        group = processes(broker_url=private_redis.url, smtp_port=smtp.port)
        group.worker("trust-broker-0")
        group.beat()
        leads = [LeadFactory(email=f"burst{i}@example.com") for i in range(3 * BURST)]

        private_redis.stop()
        client.force_login(maya)
        api = client_for(maya)
        statuses = []
        for lead in leads[:BURST]:
            response = client.post(
                f"/leads/{lead.pk}/transitions/promote/",
                {"reason": "booth", "expected_stage": "new"},
            )
            # A form post succeeds with a redirect back to the lead (an error would be 4xx/5xx).
            assert response.status_code == 302 and response["Location"].startswith("/leads/")
        for lead in leads[BURST : 2 * BURST]:
            response = api.post(
                f"/api/v1/leads/{lead.pk}/transitions/promote/", {"reason": "call"}, format="json"
            )
            statuses.append(response.status_code)
        for lead in leads[2 * BURST :]:
            engagements = [
                {"lead_id": lead.pk, "kind": kind, "occurred_at": timezone.now().isoformat()}
                for kind in ("pricing_page_view", "demo_request", "page_view")
            ]
            response = api.post("/api/v1/engagements/", engagements, format="json")
            assert response.status_code != 201 or response.json()["promoted"] == [lead.pk]
            statuses.append(response.status_code)

        assert all(200 <= status < 300 for status in statuses), statuses  # the API's answers
        assert Lead.objects.filter(pk__in=[lead.pk for lead in leads], stage="mql").count() == len(
            leads
        )
        new_mql = Notification.objects.filter(kind="new_mql", lead__in=leads).values_list(
            "pk", flat=True
        )
        rows = OutboxMessage.objects.filter(key__in=[f"notification:{pk}" for pk in new_mql])
        assert rows.count() == len(leads)
        time.sleep(3)  # the worker and beat cannot reach the broker: nothing goes out
        assert not rows.filter(status="sent").exists() and not smtp.received()

        private_redis.start()  # back on the same port
        expected = {outbox_message_id(row) for row in rows}
        arrived = wait_for(lambda: expected <= set(smtp.received()), timeout=60)
        assert arrived, (
            f"{len(expected - set(smtp.received()))} of {len(expected)} never arrived:\n"
            + group.logs()
        )
        assert max(smtp.received().values()) == 1
    finally:
        smtp.controller.stop()
