"""`make run`'s embedded worker and beat really deliver, with no Redis and no broker server.

The test builds a fresh SQLite site in a temporary folder, makes one MQL whose
accept reminder is due, sets the sweep's schedule to one minute, and starts
``manage.py run_all --no-web`` (the worker and beat that ``make run`` starts)
on the ``filesystem://`` broker. The reminder email must land in the mail folder.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SETUP = """
import datetime as dt
from django.contrib.auth.models import Group
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from apps.accounts.models import User
from apps.leads.services import lead_transition, lead_upsert

rep = User.objects.create_user("rita", email="rita@example.com", password="x")
rep.groups.add(Group.objects.get(name="sales"))
maya = User.objects.create_user("maya", email="maya@example.com", password="x")
maya.groups.add(Group.objects.get(name="marketing"))
lead, _ = lead_upsert(email="aiko@kumo.example", values={"source": "event", "employees": 120, "first_name": "Aiko"})
lead_transition(lead=lead.pk, name="promote", actor=maya, values={"reason": "booth"},
                at=timezone.now() - dt.timedelta(hours=21))
every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
sweep = PeriodicTask.objects.get(task="apps.sla.tasks.sla_sweep_task")
sweep.interval = every_minute
sweep.last_run_at = timezone.now() - dt.timedelta(minutes=2)  # due as soon as beat starts
sweep.save()
"""


@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="the embedded default is SQLite; checked once, in the SQLite pass",
)
def test_the_embedded_worker_and_beat_deliver_an_overdue_reminder(tmp_path):
    mail_dir = tmp_path / "mail"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'site.sqlite3'}",
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_BROKER_FOLDER": str(tmp_path / "broker"),
        "EMAIL_URL": f"filemail:///{mail_dir}",
        "DEBUG": "true",
        "PYTHONUNBUFFERED": "1",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run(manage + ["migrate", "-v", "0"], env=env, cwd=ROOT, check=True, timeout=180)
    subprocess.run(manage + ["shell", "-c", SETUP], env=env, cwd=ROOT, check=True, timeout=120)

    log = open(tmp_path / "run_all.log", "w")
    process = subprocess.Popen(
        manage + ["run_all", "--no-web"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 150
        body = ""
        while time.monotonic() < deadline and "Reminder: accept or reject" not in body:
            time.sleep(1)
            body = (
                "".join(p.read_text() for p in mail_dir.glob("*.log")) if mail_dir.exists() else ""
            )
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
    assert "Reminder: accept or reject Aiko" in body, (
        "no reminder within 150 s; run_all said:\n" + (tmp_path / "run_all.log").read_text()[-3000:]
    )
    assert "To: rita@example.com" in body
    # The web side's own side effect went through the same broker: Rita was told of her new MQL.
    assert "New MQL for you: Aiko" in body
