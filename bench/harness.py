"""Driving the site from outside: a free port, its servers as subprocesses (each in a process
group of its own so a signal reaches its children), waiting until the web server answers,
and client threads run together.

Shared by the bench (``python -m bench``), the soak run (``python -m soak``) and the
delivery-under-faults tests.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ProcessGroups:
    """Named subprocesses started from the project's folder, each writing to its own log."""

    def __init__(self, env: dict):
        self.env = env
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: list[str], log: Path, *, append: bool = False) -> None:
        with open(log, "a" if append else "w") as out:
            self.running[name] = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def ended(self) -> bool:
        """Whether any of the processes has ended."""
        return any(process.poll() is not None for process in self.running.values())

    def kill(self, name: str) -> None:
        """SIGKILL, as a crash would: the process finishes nothing it holds."""
        os.killpg(self.running[name].pid, signal.SIGKILL)
        self.running[name].wait(timeout=10)

    def stop_all(self) -> None:
        """SIGTERM to every group still running, then SIGKILL to any not ended within 20 s."""
        for process in self.running.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def serving(url: str, processes: ProcessGroups, *, timeout: float = 60) -> bool:
    """Whether the site at ``url`` answers its login page within ``timeout`` seconds (False
    as soon as one of ``processes`` has ended)."""
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/accounts/login/", timeout=10).status_code == 200:
                return True
        except requests.RequestException:  # not listening yet, or still loading
            pass
        if processes.ended():
            return False
        time.sleep(0.3)
    return False


def threads_run(threads) -> float:
    """Start every thread, then wait for them all: the seconds they took together."""
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started
