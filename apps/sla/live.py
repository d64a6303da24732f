"""The live pages' poll: "anything new for me since X?" in one indexed query (issue 12).

Every open page asks every few seconds (htmx polling, see ``static/js/live.js``). The
answer must cost the same at 1M leads as at 10, so it never reads the lead table:

- the newest history row: one probe at the end of ``StageTransition``'s primary key;
- the newest history row since the page's cursor that concerns the page
  (``leads.selectors.live_changes_filter``): a backward range scan of the same
  primary key over only the rows written since the cursor (seconds' worth);
- the bell's unread count: the ``notification_inbox_idx`` range (recipient, unread),
  counted up to ``UNREAD_CAP`` (the badge says "99+" past it), so a manager with
  thousands of unread escalations costs what one with a hundred does.

The three are scalar subqueries of one SELECT: one statement, one round trip. When
something changed, the page fetches itself again and swaps in only the cards that
came or went, so what the user is typing in a card that stays is never touched.
"""

from django.contrib.auth import get_user_model
from django.db.models import IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from apps.leads.models import StageTransition
from apps.leads.selectors import live_changes_filter
from apps.sla.models import Notification

#: The bell counts unread notifications up to here; past 99 its badge says "99+".
UNREAD_CAP = 100


class CappedCount(Subquery):
    """How many rows ``queryset`` (already sliced to a cap) has: COUNT over a LIMITed subquery."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS capped)"
    output_field = IntegerField()


def live_state(user, *, view: str | None, since: int, shown=()) -> dict:
    """{"latest": newest history id, "changed": bool, "unread": unread notifications}."""
    newest = StageTransition.objects.order_by("-id").values("id")[:1]
    # Ordered as ``notification_inbox_idx`` is, so the planner walks the index (the first
    # unread rows of this user), never the table, however many read rows surround them.
    unread = (
        Notification.objects.filter(recipient=OuterRef("pk"), read_at__isnull=True)
        .order_by("recipient", "read_at")
        .values("id")[:UNREAD_CAP]
    )
    columns = {
        "latest": Coalesce(Subquery(newest), Value(0), output_field=IntegerField()),
        "unread": CappedCount(unread),
    }
    if view is not None:
        relevant = (
            StageTransition.objects.filter(live_changes_filter(user, view, shown), id__gt=since)
            .order_by("-id")
            .values("id")[:1]
        )
        columns["changed"] = Subquery(relevant)
    row = get_user_model().objects.filter(pk=user.pk).annotate(**columns).values(*columns).get()
    return {
        "latest": row["latest"],
        "changed": row.get("changed") is not None,
        "unread": row["unread"],
    }
