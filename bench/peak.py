"""``python -m bench.peak FILE manage.py ARGS…``: run a management command, then write its peak RSS.

``ru_maxrss`` of a child started by the (large) bench process starts at the parent's size
(Linux carries the high-water mark of the image a process replaced at exec), so the command
reports its own: ``VmHWM`` of ``/proc/self/status`` (kB), the peak of this process alone,
written to FILE at exit, however the command ends.
"""

import atexit
import resource
import runpy
import sys
from pathlib import Path


def peak_kb() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main():
    out, script, *args = sys.argv[1:]
    atexit.register(lambda: Path(out).write_text(str(peak_kb())))
    sys.argv = [script, *args]
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
