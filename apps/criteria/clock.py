"""SLA deadlines: one pure function, clock in, deadlines out.

The inbox countdown, the SLA sweep and the reports all read deadlines computed
here. Business hours and holidays arrive with the SLA issue; until then the
clocks run on wall-clock time, which is the policy's default.
"""

import datetime as dt


def add_hours(start: dt.datetime, hours: int) -> dt.datetime:
    return start + dt.timedelta(hours=hours)


def sla_deadlines(start: dt.datetime, policy) -> tuple[dt.datetime, dt.datetime]:
    """(accept by, process by) for an MQL that started its clocks at ``start``."""
    return add_hours(start, policy.accept_within_hours), add_hours(start, policy.process_within_hours)
