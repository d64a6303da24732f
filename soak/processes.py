"""The site's servers as subprocesses, each in a process group of its own so a signal reaches its children.

Shared by the soak run (``python -m soak``) and the delivery-under-faults tests.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
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
