"""Reads of leads, always scoped to what the user may see."""

from django.db import connections
from django.db.models import (
    Count,
    Exists,
    F,
    Func,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
    TextField,
    Value,
)
from django.db.models.functions import NullIf
from django.http import Http404

from apps.accounts.permissions import (
    can_review_rejected_leads,
    can_view_lead,
    can_work_any_lead,
    can_work_leads,
    visible_leads_filter,
)
from apps.criteria import rules
from apps.leads.models import Lead, RejectionCount, Stage, StageTransition
from apps.leads.transitions import HANDOVERS


def leads_for_user(user):
    """Every lead ``user`` may see, unarchived, with what list pages show."""
    leads = Lead.objects.filter(archived_at__isnull=True).select_related("owner", "source")
    condition = visible_leads_filter(user)
    return leads if condition is None else leads.filter(condition)


def _every_lead_like(user, **fields):
    """The unarchived leads with exactly ``fields`` if ``user`` may see such a lead; else none.

    Only for fields that decide on their own whether a lead is visible (stage and owner):
    the query then carries no visibility filter, whose ``owner = me OR pool`` keeps
    PostgreSQL from the ordered index scans of the inbox.
    """
    leads = Lead.objects.filter(archived_at__isnull=True, **fields).select_related(
        "owner", "source"
    )
    return leads if can_view_lead(user, Lead(**fields)) else leads.none()


def lead_for_user(user, pk) -> Lead:
    """The lead ``pk`` if ``user`` may see it; 404 otherwise, so ids leak nothing."""
    lead = leads_for_user(user).filter(pk=pk).first()
    if lead is None:
        raise Http404("No such lead.")
    return lead


# --- the pages of the web UI ------------------------------------------------------
# Each returns a queryset or a bounded list so a page costs the same number of
# queries however many leads, engagements or transitions there are.

TIMELINE_LIMIT = 50


def _by_accept_deadline(leads):
    """Soonest deadline first, with the owners read apart (one small query).

    Joined in, the few users made PostgreSQL merge-join along the owner index and sort
    every MQL, instead of reading the first rows of the inbox index in order.
    """
    return (
        leads.select_related(None)
        .select_related("source")
        .prefetch_related("owner")
        .order_by(F("accept_due_at").asc(nulls_last=True), "mql_at", "id")
    )


def inbox_for_user(user, *, rep=None):
    """MQLs awaiting acceptance that ``user`` works, soonest deadline first.

    A rep sees their own; someone who works every lead (a manager) sees the
    whole team's, or one rep's when ``rep`` is given.
    """
    if not can_work_any_lead(user):
        leads = _every_lead_like(user, stage=Stage.MQL, owner=user)
    else:
        leads = leads_for_user(user).filter(stage=Stage.MQL, owner__isnull=False)
        if rep is not None:
            leads = leads.filter(owner=rep)
    return _by_accept_deadline(leads)


def to_qualify_for_user(user, *, rep=None):
    """Accepted leads waiting on qualification that ``user`` works, nearest process-by first.

    A rep sees their own; someone who works every lead (a manager) sees the team's, or
    one rep's when ``rep`` is given. Read along the partial index ``lead_to_qualify_idx``.
    """
    if not can_work_any_lead(user):
        leads = _every_lead_like(user, stage=Stage.ACCEPTED, owner=user)
    else:
        leads = leads_for_user(user).filter(stage=Stage.ACCEPTED)
        if rep is not None:
            leads = leads.filter(owner=rep)
    return (
        leads.select_related(None)
        .select_related("source")
        .prefetch_related("owner")
        .order_by(F("process_due_at").asc(nulls_last=True), "accepted_at", "id")
    )


def latest_transition_id() -> int:
    """The id of the newest history row (0 for none): where a live page's "anything new?" starts.

    One probe of the primary key's index, whatever the size of the history.
    """
    return StageTransition.objects.order_by("-id").values_list("id", flat=True).first() or 0


#: The live pages and who may watch each.
LIVE_VIEWS = {
    "inbox": can_work_leads,
    "to_qualify": can_work_leads,
    "review": can_review_rejected_leads,
}


def live_changes_filter(user, view: str, shown=()) -> Q:
    """The history rows that change what ``view`` shows ``user``: the live pages' "anything new?".

    Decided on the history row alone (its stages and the owner it left), so the poll reads
    only the rows written since the page's cursor, by primary key, never the lead table:
    a rep's inbox changes when an MQL is handed to them or to the pool, and when a lead
    it shows (``shown``: ids) moves on; a team's, when any lead enters or leaves the stage.
    """
    stage = {"inbox": Stage.MQL, "to_qualify": Stage.ACCEPTED, "review": Stage.REJECTED}[view]
    entering_or_leaving = Q(from_stage=stage) | Q(to_stage=stage)
    if view == "review" or can_work_any_lead(user):
        return entering_or_leaving
    mine = Q(owner=user, to_stage=stage) | Q(lead_id__in=list(shown))
    if view == "inbox":
        mine |= Q(owner__isnull=True, to_stage=stage)  # the unassigned pool
    return mine


def latest_moves_for_user(user, lead_ids, *, since: int) -> dict[int, StageTransition]:
    """The newest history row (since the cursor ``since``) of each of ``lead_ids`` ``user`` may still see.

    A live page's card that went says what happened to it; a lead the user may no longer
    see (taken, reassigned away) is left out, so nothing is told about it.
    """
    visible = leads_for_user(user).filter(pk__in=list(lead_ids)).values("pk")
    rows = (
        StageTransition.objects.filter(lead__in=visible, id__gt=since)
        .select_related("actor")
        .order_by("-id")
    )
    latest: dict[int, StageTransition] = {}
    for row in rows:
        latest.setdefault(row.lead_id, row)
    return latest


def mql_pool_for_user(user):
    """Unassigned MQLs (no rep was taking leads when they were promoted)."""
    return _by_accept_deadline(_every_lead_like(user, stage=Stage.MQL, owner=None))


def rejected_for_review(user):
    """Rejected MQLs for the marketing review queue, each with its reject rows."""
    rejections = (
        StageTransition.objects.filter(transition="reject")
        .select_related("actor")
        .order_by("at", "id")
    )
    return (
        leads_for_user(user)
        .filter(stage=Stage.REJECTED)
        .prefetch_related(Prefetch("transitions", queryset=rejections, to_attr="rejections"))
    )


def rejection_counts(user, leads, *, filtered: bool) -> list[tuple[str | None, int]]:
    """(reason code, number of leads) for ``leads``, ``user``'s review queue, most frequent first.

    Unfiltered, for a user who sees every lead, the queue is every unarchived rejected lead:
    on PostgreSQL its counts are then read from ``RejectionCount``, which triggers keep (a
    row a reason instead of every rejected lead: 180,000 rows at 1M leads).
    """
    if (
        not filtered
        and visible_leads_filter(user) is None
        and connections[leads.db].vendor == "postgresql"
    ):
        # Sorted as the count below (the database's own order, no reason last).
        reason = NullIf("reason", Value(""))
        rows = (
            RejectionCount.objects.using(leads.db)
            .filter(leads__gt=0)
            .values_list(reason, "leads")
            .order_by("-leads", reason.asc(nulls_last=True))
        )
        return list(rows)
    rows = (
        leads.order_by()
        .values_list("last_reject_reason")
        # COUNT(*), not COUNT(id): lead_review_source_idx and lead_review_owner_idx answer it alone.
        .annotate(n=Count("*"))
        .order_by("-n", "last_reject_reason")
    )
    return list(rows)


def lead_score_breakdown(lead) -> list[dict]:
    """Points and count per engagement kind, over the engagements that make today's score.

    Engagement from before a recycle is history, not nurture progress, as in scoring.
    """
    engagements = lead.engagements.all()
    if lead.recycled_at is not None:
        engagements = engagements.filter(occurred_at__gte=lead.recycled_at)
    return list(
        engagements.order_by()
        .values("kind")
        .annotate(count=Count("id"), points=Sum("points"))
        .order_by("-points", "kind")
    )


def lead_timeline(lead, *, limit: int = TIMELINE_LIMIT):
    """The lead's latest engagements (newest first) and how many it has in all."""
    engagements = lead.engagements.order_by("-occurred_at", "-id")
    return list(engagements[:limit]), engagements.count()


def lead_history(lead):
    """The stage history, oldest first, with who made each change."""
    return list(lead.transitions.select_related("actor", "owner", "criteria").order_by("at", "id"))


def latest_qualification(lead):
    return (
        lead.qualifications.select_related("qualified_by").order_by("-qualified_at", "-id").first()
    )


class LeadSearchText(Func):
    """A lead's first name, last name, email and company as one text: what search looks in.

    The words of a search never hold a space, so a word found here is found in one of
    the four. PostgreSQL's trigram index (migration ``0005``) is built on exactly this
    expression as ``icontains`` compares it, ``UPPER((…)::text)``: change one, change both.
    """

    template = "(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = TextField()

    def __init__(self):
        super().__init__(F("first_name"), F("last_name"), F("email"), F("company"))


class LeadSearchTextChecked(LeadSearchText):
    """The same text as ``LeadSearchText``, in an expression the trigram index is not built on.

    A condition on it is checked on the rows the index found for another condition.
    """

    template = "((%(expressions)s) || '')"


def looked_up_part(word: str) -> str:
    """The part of a search word the trigram index is asked for: the word, or an email's name.

    The index reads a list of rows for each three letters of the word. The domain of an
    email ("…@example.com") is shared by many leads, so its lists are long: at 1M leads
    they cost 60 ms a search. The part before the "@" narrows the rows as well, and the
    whole word is then checked on those.
    """
    name, at, _domain = word.partition("@")
    return name if at and len(name) >= 3 else word


def leads_matching(leads, text: str):
    """``leads`` whose name, email or company match every word of ``text`` (at most five words).

    "kumo tanaka" finds Aiko Tanaka at Kumo Systems; the UI list and the API share it.
    """
    words = text.split()[:5]
    if not words:
        return leads
    leads = leads.alias(search_text=LeadSearchText())
    for word in words:
        part = looked_up_part(word)
        leads = leads.filter(search_text__icontains=part)
        if part != word:  # a text holding the word holds its part: the same leads
            leads = leads.alias(search_text_checked=LeadSearchTextChecked()).filter(
                search_text_checked__icontains=word
            )
    return leads


def taken_from_the_pool(pk) -> bool:
    """Was lead ``pk`` handed to nobody (the MQL pool) and has it since moved on?"""
    last_handover = (
        StageTransition.objects.filter(lead_id=pk, transition__in=HANDOVERS)
        .order_by("-at", "-id")
        .first()
    )
    return (
        last_handover is not None
        and last_handover.owner_id is None
        and Lead.objects.filter(pk=pk).exclude(stage=Stage.MQL).exists()
    )


def new_leads_meeting(rule: rules.MQLRule):
    """The unarchived ``new`` leads that meet ``rule`` with the score, counts and fit they have now.

    The same test as ``rules.mql_unmet``, made in SQL so it can count a whole table.
    """
    leads = Lead.objects.filter(
        stage=Stage.NEW,
        archived_at__isnull=True,
        score__gte=rule.score_threshold,
        engagement_count__gte=rule.min_engagements,
    )
    if rule.required_kinds:
        leads = leads.filter(kind_counts__has_keys=sorted(rule.required_kinds))
    if rule.fit_required:
        leads = leads.filter(fit=rules.FIT_PASS)
    return leads


# --- MQL promotions: what the reports count and what their drill-down lists --------------

#: The rep key of an MQL promoted to nobody, and the criteria key of a hand promotion.
NOBODY, BY_HAND = "unassigned", "manual"


def first_promotions(start, end, *, as_of=None):
    """Each lead's first promotion to MQL in [``start``, ``end``) (up to ``as_of``): one row per lead.

    The reports' definition of "the MQLs of a period" (a week, or the weeks a dashboard
    shows), which the lead list's ``promoted_*`` filters reuse so that a report's figure and
    the list it links to always hold the same leads: a lead promoted twice in the period
    counts once, for the rep and criteria version of its first promotion there.
    """
    promotions = StageTransition.objects.filter(transition="promote", at__gte=start, at__lt=end)
    if as_of is not None:
        promotions = promotions.filter(at__lte=as_of)
    first = promotions.filter(lead=OuterRef("lead")).order_by("at", "id").values("id")[:1]
    return promotions.filter(id=Subquery(first))


def promotions_narrowed(promotions, *, owner=None, source=None, criteria=None):
    """``promotions`` (history rows) of one rep (username or ``NOBODY``), lead source and
    criteria version (a number or ``BY_HAND``); a blank argument does not narrow."""
    if owner == NOBODY:
        promotions = promotions.filter(owner__isnull=True)
    elif owner:
        promotions = promotions.filter(owner__username=owner)
    if source:
        promotions = promotions.filter(lead__source_id=source)
    if criteria == BY_HAND:
        promotions = promotions.filter(criteria__isnull=True)
    elif criteria:
        promotions = promotions.filter(criteria__version=int(criteria))
    return promotions


def reached_sql_condition(as_of) -> Exists:
    """A lead (the outer row's ``lead``) with a qualify up to ``as_of``: the reports' "reached SQL"."""
    return Exists(
        StageTransition.objects.filter(lead=OuterRef("lead"), transition="qualify", at__lte=as_of)
    )
