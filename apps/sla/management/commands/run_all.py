import os
import signal
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    """The embedded default of ``make run``: web server, one Celery worker and beat, together.

    Each runs as its own process with its output prefixed; Ctrl-C (or any of
    them stopping) stops all three. With the default ``filesystem://`` broker
    nothing else needs to be running; ``CELERY_BROKER_URL=redis://…`` uses Redis.
    In production run the three separately (see the Procfile): any number of
    workers, exactly one beat.
    """

    help = "Run the web server, a Celery worker and Celery beat together (the embedded default)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--addr", default="127.0.0.1:8000", help="Where the web server listens."
        )
        parser.add_argument("--no-web", action="store_true", help="Only the worker and beat.")

    def handle(self, *args, addr, no_web, **options):
        python = sys.executable
        celery = [python, "-m", "celery", "-A", "leadflow"]
        processes = {
            "worker": celery
            + [
                "worker",
                "--loglevel=INFO",
                "--concurrency=2",
                "--without-gossip",
                "--without-mingle",
            ],
            "beat": celery
            + [
                "beat",
                "--loglevel=INFO",
                "--scheduler",
                settings.CELERY_BEAT_SCHEDULER,
                "--pidfile=",
            ],
        }
        if not no_web:
            processes = {"web": [python, "manage.py", "runserver", addr, "--noreload"], **processes}
        self.stdout.write(f"Broker: {settings.CELERY_BROKER_URL.split('@')[-1]}")
        running = {}
        for name, command in processes.items():
            running[name] = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                bufsize=1,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                start_new_session=True,
            )
            threading.Thread(target=self._relay, args=(name, running[name]), daemon=True).start()

        stopping = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopping.set())
        exit_code = 0
        while not stopping.is_set():
            for name, process in running.items():
                if process.poll() is not None:
                    self.stderr.write(
                        f"{name} stopped (exit {process.returncode}); stopping the others."
                    )
                    exit_code = process.returncode or 1
                    stopping.set()
            time.sleep(0.5)
        for process in running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in running.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        if exit_code:
            sys.exit(exit_code)

    def _relay(self, name, process):
        width = 6
        for line in process.stdout:
            self.stdout.write(f"{name:<{width}}| {line.rstrip()}")
