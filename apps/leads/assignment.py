"""Who gets a new MQL: round-robin over the active sales reps (SPEC §4)."""

from collections.abc import Sequence

from django.db import connection
from django.utils import timezone

from apps.accounts.selectors import sales_reps_taking_leads


def next_sales_rep(*, exclude_ids: Sequence[int] = ()):
    """The active sales rep least recently assigned a lead, stamped as assigned now.

    Every candidate row is locked (in id order, so concurrent callers cannot
    deadlock) and the choice made on the rows as they are once locked: under
    READ COMMITTED a locked row comes back with its newest values, while an
    ORDER BY … LIMIT 1 would have been sorted on the stale ones. Returns None
    when no rep takes leads: the MQL then waits in the unassigned pool.
    """
    candidates = sales_reps_taking_leads().exclude(pk__in=exclude_ids).order_by("pk")
    if connection.features.has_select_for_update_of:
        candidates = candidates.select_for_update(of=("self",))
    else:
        candidates = candidates.select_for_update()
    reps = list(candidates)
    if not reps:
        return None
    rep = min(reps, key=lambda u: (u.last_assigned_at is not None, u.last_assigned_at or 0, u.pk))
    rep.last_assigned_at = timezone.now()
    type(rep).objects.filter(pk=rep.pk).update(last_assigned_at=rep.last_assigned_at)
    return rep
