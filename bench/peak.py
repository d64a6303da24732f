"""``python -m bench.peak``: runs management commands for the bench and tells each one's time and peak RSS.

Django is set up once, in this small process of its own (nothing of the bench's large one
comes with it), with the system checks ``manage.py`` runs before a command; then, for each
command line read from stdin (a JSON list: the command's name and arguments), it forks a
child that runs the command with ``call_command`` and answers one JSON line
``{"seconds": …, "peak_kb": …, "error": …}`` on stdout. Starting Python and Django afresh
for every run cost as long as the work itself at 10k (2–3 s a run on the shared machine,
fifteen runs a tier), so ``seconds`` is the command's own time, start-up excluded, and
``peak_kb`` the child's ``VmHWM`` (reset at the fork) plus the library pages its parent
holds that it never touched again: what a ``manage.py`` run of the command would show,
Django included, within a MB."""

import io
import json
import os
import sys
import time
import traceback
from pathlib import Path


def status_kb(field: str) -> int:
    """A size of this process from ``/proc/self/status`` (``VmHWM``, ``RssFile``…), in kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def peak_reset() -> None:
    """The high-water mark back to the current size (Linux: 5 to ``clear_refs``)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:  # not allowed here: a forked child's mark starts at its own size anyway
        pass


def command_child(args: list[str], answer: int, parent_file_kb: int) -> None:
    """In the forked child: run the command, write the answer to ``answer``, never return.

    A forked child counts a page of a shared library or a mapped file only once it touches
    it again, where a process started afresh counts every page its start-up touched: the
    file pages the parent holds and the child never touched are added to its high-water mark.
    """
    from django.core.management import call_command

    peak_reset()
    errors = io.StringIO()
    result = {"error": None}
    started = time.perf_counter()
    try:
        with open(os.devnull, "w") as quiet:
            call_command(*args, stdout=quiet, stderr=errors)
    except BaseException:  # noqa: BLE001 - told to the bench, which raises it
        result["error"] = errors.getvalue()[-2000:] + traceback.format_exc()[-3000:]
    seconds = time.perf_counter() - started
    untouched = max(0, parent_file_kb - status_kb("RssFile"))
    result.update(seconds=seconds, peak_kb=status_kb("VmHWM") + untouched)
    os.write(answer, json.dumps(result).encode())
    os._exit(0)


def serve() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadflow.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.core import checks
    from django.core.management import get_commands, load_command_class
    from django.db import connections

    checks.run_checks()  # as ``manage.py`` does before a command: it imports every URLconf

    answers = os.fdopen(os.dup(1), "w")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # a command's stray print never reaches them
    for line in sys.stdin:
        args = json.loads(line)
        # Imported here, before the fork, as ``manage.py`` imports it before running it.
        load_command_class(get_commands()[args[0]], args[0])
        connections.close_all()  # the child opens its own
        read, write = os.pipe()
        parent_file_kb = status_kb("RssFile")
        pid = os.fork()
        if pid == 0:
            os.close(read)
            command_child(args, write, parent_file_kb)
        os.close(write)
        with os.fdopen(read, "rb") as pipe:
            answer = pipe.read()
        _pid, status = os.waitpid(pid, 0)
        if not answer:
            answer = json.dumps({"error": f"the command's process ended ({status})"}).encode()
        answers.write(answer.decode() + "\n")
        answers.flush()


if __name__ == "__main__":
    serve()
