import threading

from django.db import connection


def run_at_once(*calls):
    """Run each callable on its own thread (so its own database connection), released together.

    Returns, in the order of ``calls``, ``("ok", result)`` or ``("error", exception)``.
    """
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait(timeout=10)
            outcomes[i] = ("ok", call())
        except Exception as exc:  # the outcome is what the test inspects
            outcomes[i] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def burst(call, n):
    """``call`` made ``n`` times at once; returns its results (an error in any fails the test)."""
    outcomes = run_at_once(*[call] * n)
    errors = [value for kind, value in outcomes if kind != "ok"]
    assert not errors, errors
    return [value for _kind, value in outcomes]
