"""Every write to leads: the lifecycle door, lead intake, engagements and scoring.

``lead_transition`` is the only code that changes ``Lead.stage``; what each
transition is and does is declared in ``apps.leads.transitions``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Least
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition

from apps.accounts.permissions import can_work_leads
from apps.criteria import rules
from apps.criteria.models import FitRule, MQLCriteria, ScoringSettings
from apps.leads.models import Engagement, Lead, Stage, StageTransition
from apps.leads.selectors import new_leads_meeting, taken_from_the_pool
from apps.leads.transitions import LeadChanged as LeadChanged
from apps.leads.transitions import LifecycleError as LifecycleError
from apps.leads.transitions import Step, Transition, transition_named
from apps.leads.transitions import TransitionForbidden as TransitionForbidden
from apps.leads.transitions import TransitionInvalid as TransitionInvalid
from apps.leads.transitions import TransitionNotAvailable as TransitionNotAvailable
from apps.leads.transitions import UnknownTransition as UnknownTransition

logger = logging.getLogger(__name__)

#: Sent after the transaction that made a transition commits: ``transition`` is the
#: history row; ``replay`` is True when it replayed the past (demo data), which is news to nobody.
stage_changed = Signal()
#: Sent inside that transaction, right after the history row is written (with the same
#: ``replay``, and ``previous_owner_id``, the owner before the change): receivers write what
#: must commit or roll back with the change, such as the outbox rows of its emails.
transition_recorded = Signal()
#: Sent inside the transaction that creates a lead (``lead``, ``replay`` as above), for
#: what must commit with it, such as its ``lead.created`` event.
lead_created = Signal()

_replaying: ContextVar[bool] = ContextVar("replaying_history", default=False)


# --- the lifecycle door --------------------------------------------------------


@contextmanager
def history_replay() -> Iterator[None]:
    """Every transition made inside, in this thread, replays the past (``replay=True``).

    For a caller replaying history through other services (``seed_demo`` records
    engagements, and the scoring promotes): those transitions are replays too.
    """
    token = _replaying.set(True)
    try:
        yield
    finally:
        _replaying.reset(token)


def lead_transition(
    *,
    lead: Lead | int,
    name: str,
    actor=None,
    values: Mapping[str, Any] | None = None,
    expected_stage: str | None = None,
    at: dt.datetime | None = None,
    criteria: MQLCriteria | None = None,
    replay: bool | None = None,
) -> StageTransition:
    """Make transition ``name`` on ``lead`` for ``actor`` (None: the system).

    ``values`` are already validated (``Transition.clean`` or the entry's form;
    the system passes typed values); ``criteria`` names the version behind a
    system promotion. In one transaction: lock the lead, check the actor may,
    check the stage allows it (and still is ``expected_stage`` when the caller
    showed one), apply it, save, append the history row, send
    ``transition_recorded`` (inside the transaction) and queue ``stage_changed``
    for after commit. ``replay`` (default: inside
    ``history_replay()``) marks the past being replayed, so nobody is told.
    Raises a ``LifecycleError`` subclass, with nothing written, when any step
    refuses.
    """
    entry = transition_named(name)
    values = {**(values or {}), **({"criteria": criteria} if criteria is not None else {})}
    replay = _replaying.get() if replay is None else replay
    pk = lead.pk if isinstance(lead, Lead) else lead
    with transaction.atomic():
        locked = Lead.objects.select_for_update().get(pk=pk)
        # Stamped once the lock is held, so the history's order is the order the changes happened.
        at = at or timezone.now()
        _check(entry, locked, actor=actor, expected_stage=expected_stage)
        from_stage, from_owner_id = locked.stage, locked.owner_id
        applied = entry.apply(locked, Step(actor=actor, values=values, at=at))
        try:
            locked.save()
        except ConcurrentTransition as exc:
            raise LeadChanged(
                _("This lead has changed while you were acting on it. Reload and try again."),
                stage=from_stage,
            ) from exc
        row = StageTransition.objects.create(
            lead=locked,
            transition=name,
            from_stage=from_stage,
            to_stage=locked.stage,
            actor=actor,
            at=at,
            reason=str(applied.reason)[:255],
            note=applied.note,
            owner=locked.owner,
            criteria=applied.criteria,
            accept_due_at=locked.accept_due_at if applied.clocks_started else None,
            process_due_at=locked.process_due_at if applied.clocks_started else None,
        )
        transition_recorded.send(
            sender=StageTransition, transition=row, replay=replay, previous_owner_id=from_owner_id
        )
        transaction.on_commit(partial(_announce, row.pk, replay=replay))
    if isinstance(lead, Lead):
        lead.refresh_from_db()
    return row


def _check(entry: Transition, lead: Lead, *, actor, expected_stage: str | None) -> None:
    """The one check of who may act and whether the (locked) lead's stage allows it."""
    if not entry.may(actor, lead):
        if actor is None:
            raise TransitionForbidden(
                _("Only a person can %(verb)s a lead.") % {"verb": entry.verb}
            )
        if entry.who.unclaimed_mql and can_work_leads(actor) and taken_from_the_pool(lead.pk):
            # Two reps accepting one pool MQL: the slower one lost a race, not a permission,
            # whether or not its request named the stage it saw (expected_stage).
            raise LeadChanged(
                _("This lead has changed: another rep took it from the pool."), stage=lead.stage
            )
        raise TransitionForbidden(_("You may not %(verb)s this lead.") % {"verb": entry.verb})
    if expected_stage is not None and lead.stage != expected_stage:
        raise LeadChanged(
            _("This lead has changed: it is now %(stage)s. Reload to see what happened.")
            % {"stage": lead.get_stage_display()},
            stage=lead.stage,
        )
    if not entry.is_possible(lead):
        raise TransitionNotAvailable(
            _("Cannot %(verb)s a lead that is %(stage)s.")
            % {"verb": entry.verb, "stage": lead.get_stage_display()},
            stage=lead.stage,
        )


def _announce(transition_id: int, *, replay: bool = False) -> None:
    row = StageTransition.objects.select_related("lead").get(pk=transition_id)
    logger.log(
        logging.DEBUG if replay else logging.INFO,
        "lead %s: %s (%s -> %s)",
        row.lead_id,
        row.transition,
        row.from_stage,
        row.to_stage,
    )
    stage_changed.send(sender=StageTransition, transition=row, replay=replay)


def leads_promote_meeting(*, criteria: MQLCriteria) -> list[int]:
    """Promote, as one batch, the new leads that meet ``criteria`` now; returns their ids.

    For a newly published (looser) version, which promotes nobody by itself:
    the admin is offered this batch. One transaction; each lead goes through
    ``lead_transition`` as a system promotion naming ``criteria``, which checks
    it again on the locked row, so a lead that moved on or changed meanwhile is
    skipped rather than promoted.
    """
    promoted = []
    with transaction.atomic():
        candidates = list(
            new_leads_meeting(criteria.as_rule()).order_by("pk").values_list("pk", flat=True)
        )
        for pk in candidates:
            try:
                lead_transition(lead=pk, name="promote", criteria=criteria)
            except (TransitionNotAvailable, TransitionInvalid):
                continue
            promoted.append(pk)
    return promoted


# --- leads ---------------------------------------------------------------------

LEAD_FIELDS = (
    "first_name",
    "last_name",
    "title",
    "phone",
    "company",
    "employees",
    "industry",
    "country",
    "source_id",
    "campaign",
)


def fit_of(lead: Lead, rule: rules.FitRuleValues) -> rules.FitResult:
    return rules.evaluate_fit(
        rule, employees=lead.employees, industry=lead.industry, country=lead.country
    )


def lead_upsert(*, email: str, values: Mapping[str, Any]) -> tuple[Lead, bool]:
    """Create the lead with ``email``, or update its profile; returns (lead, created).

    Only the profile changes; the stage, score and owner are never touched here.
    """
    email = email.strip().lower()
    values = {("source_id" if k == "source" else k): v for k, v in values.items()}
    unknown = set(values) - set(LEAD_FIELDS)
    if unknown:
        raise ValueError(f"not lead profile fields: {sorted(unknown)}")
    fit_rule = FitRule.load().as_rule()
    with transaction.atomic():
        lead = Lead.objects.select_for_update().filter(email=email).first()
        created = lead is None
        if created:
            lead = Lead(email=email, **values)
        else:
            for key, value in values.items():
                setattr(lead, key, value)
        verdict = fit_of(lead, fit_rule)
        lead.fit, lead.fit_reason = verdict.verdict, verdict.reason[:255]
        lead.save()
        if created:
            lead_created.send(sender=Lead, lead=lead, replay=_replaying.get())
    return lead, created


# --- engagements and scoring ---------------------------------------------------


@dataclass
class EngagementInput:
    lead_id: int
    kind: str
    occurred_at: dt.datetime
    source: str = ""
    campaign: str = ""
    metadata: dict = field(default_factory=dict)
    external_id: str | None = None


@dataclass
class EngagementResult:
    created: list[Engagement]
    duplicates: list[EngagementInput]
    promoted_lead_ids: list[int]


def engagements_record(
    *, items: Sequence[EngagementInput], now: dt.datetime | None = None
) -> EngagementResult:
    """Store engagements, score their leads and promote the leads that now qualify.

    One transaction for the whole list: the leads are locked (in id order, so
    concurrent requests cannot deadlock), the rows inserted in bulk, each lead's
    score, counts and fit updated once, and every ``new`` lead meeting the
    active MQL criteria promoted by the system. An ``external_id`` already
    stored, or repeated in the list, is skipped; the unique constraint decides.
    """
    now = now or timezone.now()
    table = ScoringSettings.current_table()
    fit_rule = FitRule.load().as_rule()
    with transaction.atomic():
        leads = {
            lead.pk: lead
            for lead in Lead.objects.select_for_update()
            .filter(pk__in={i.lead_id for i in items})
            .order_by("pk")
        }
        missing = {i.lead_id for i in items} - set(leads)
        if missing:
            raise Lead.DoesNotExist(f"no lead with id {sorted(missing)}")
        rows = [
            Engagement(
                lead_id=item.lead_id,
                kind=item.kind,
                occurred_at=item.occurred_at,
                source=item.source,
                campaign=item.campaign,
                metadata=item.metadata or {},
                external_id=item.external_id or None,
                points=table.points_for(item.kind, item.occurred_at, now),
            )
            for item in items
        ]
        origin = {id(row): item for row, item in zip(rows, items, strict=True)}
        created, duplicate_rows = _insert_engagements(rows)
        duplicates = [origin[id(row)] for row in duplicate_rows]

        per_lead: dict[int, list[Engagement]] = defaultdict(list)
        for row in created:
            recycled_at = leads[row.lead_id].recycled_at
            # Engagement from before a recycle is history, not nurture progress.
            if recycled_at is None or row.occurred_at >= recycled_at:
                per_lead[row.lead_id].append(row)
        changed = []
        for lead_id, lead_rows in per_lead.items():
            lead = leads[lead_id]
            lead.score = table.capped(lead.score + sum(r.points for r in lead_rows))
            lead.engagement_count += len(lead_rows)
            counts = Counter(lead.kind_counts)
            counts.update(r.kind for r in lead_rows)
            lead.kind_counts = dict(counts)
            verdict = fit_of(lead, fit_rule)
            lead.fit, lead.fit_reason = verdict.verdict, verdict.reason[:255]
            changed.append(lead)
        if changed:
            Lead.objects.bulk_update(
                changed, ["score", "engagement_count", "kind_counts", "fit", "fit_reason"]
            )

        promoted = []
        candidates = [lead for lead in changed if lead.stage == Stage.NEW]
        if candidates:
            criteria = MQLCriteria.active()
            mql_rule = criteria.as_rule()
            for lead in candidates:
                unmet = rules.mql_unmet(
                    mql_rule,
                    score=lead.score,
                    engagement_count=lead.engagement_count,
                    kinds=set(lead.kind_counts),
                    fit=lead.fit,
                )
                if not unmet:
                    lead_transition(
                        lead=lead.pk, name="promote", actor=None, criteria=criteria, at=now
                    )
                    promoted.append(lead.pk)
    return EngagementResult(created=created, duplicates=duplicates, promoted_lead_ids=promoted)


def _insert_engagements(rows: list[Engagement]) -> tuple[list[Engagement], list[Engagement]]:
    """Insert ``rows``; returns (inserted, skipped as duplicate external ids).

    Rows with an external id go through ``INSERT … ON CONFLICT DO NOTHING
    RETURNING`` (PostgreSQL and SQLite both have it), so a concurrent request
    carrying the same id is settled by the unique index, not by a prior read.
    """
    seen: set[str] = set()
    plain, keyed, skipped = [], [], []
    for row in rows:
        if row.external_id is None:
            plain.append(row)
        elif row.external_id in seen:
            skipped.append(row)
        else:
            seen.add(row.external_id)
            keyed.append(row)
    created = Engagement.objects.bulk_create(plain) if plain else []
    if keyed:
        now = timezone.now()
        for row in keyed:
            row.created_at = now
        fields = [f for f in Engagement._meta.concrete_fields if not f.primary_key]
        table = connection.ops.quote_name(Engagement._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
        inserted: dict[str, int] = {}
        with connection.cursor() as cursor:
            for start in range(0, len(keyed), 500):
                chunk = keyed[start : start + 500]
                params = [
                    f.get_db_prep_save(getattr(row, f.attname), connection)
                    for row in chunk
                    for f in fields
                ]
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) VALUES {', '.join([placeholder] * len(chunk))} "
                    f"ON CONFLICT DO NOTHING RETURNING id, external_id",
                    params,
                )
                inserted.update({external_id: pk for pk, external_id in cursor.fetchall()})
        for row in keyed:
            if row.external_id in inserted:
                row.pk = inserted[row.external_id]
                row._state.adding = False
                created.append(row)
            else:
                skipped.append(row)
    return created, skipped


def scores_recompute(
    *, now: dt.datetime | None = None, batch_size: int = 5000, progress=None
) -> int:
    """Rebuild every lead's score, counts and fit from its history, decay included.

    Set-based: one UPDATE per batch of leads computes the scores in SQL with the
    current scoring table; the batch's rows are locked first so an engagement
    arriving meanwhile is either seen or waits. Returns the number of leads.
    """
    now = now or timezone.now()
    table = ScoringSettings.current_table()
    fit_rule = FitRule.load().as_rule()
    points = Case(
        *[When(kind=kind, then=Value(p)) for kind, p in table.points.items()],
        default=Value(0),
        output_field=IntegerField(),
    )
    if table.decay_after_days is not None:
        cutoff = now - dt.timedelta(days=table.decay_after_days)
        points = Case(
            When(occurred_at__lt=cutoff, then=points * Value(table.decayed_percent) / Value(100)),
            default=points,
            output_field=IntegerField(),
        )
    counted = Engagement.objects.filter(
        Q(lead__recycled_at__isnull=True) | Q(occurred_at__gte=F("lead__recycled_at"))
    )
    total = Subquery(
        counted.filter(lead=OuterRef("pk"))
        .order_by()
        .values("lead")
        .annotate(total=Sum(points))
        .values("total"),
        output_field=IntegerField(),
    )
    score = Coalesce(total, Value(0))
    if table.cap is not None:
        score = Least(score, Value(table.cap))

    ids = list(Lead.objects.order_by("pk").values_list("pk", flat=True))
    done = 0
    for start in range(0, len(ids), batch_size):
        batch = ids[start : start + batch_size]
        with transaction.atomic():
            leads = list(
                # Locked in id order, as intake locks them: the nightly job and the API cannot deadlock.
                Lead.objects.select_for_update()
                .filter(pk__in=batch)
                .order_by("pk")
                .only("pk", "stage", "employees", "industry", "country", "fit", "fit_reason")
            )
            Lead.objects.filter(pk__in=batch).update(score=score)
            counts: dict[int, dict[str, int]] = defaultdict(dict)
            for lead_id, kind, n in (
                counted.filter(lead_id__in=batch)
                .order_by()
                .values_list("lead_id", "kind")
                .annotate(n=Count("id"))
            ):
                counts[lead_id][kind] = n
            for lead in leads:
                verdict = fit_of(lead, fit_rule)
                lead.fit, lead.fit_reason = verdict.verdict, verdict.reason[:255]
                lead.kind_counts = counts.get(lead.pk, {})
                lead.engagement_count = sum(lead.kind_counts.values())
            Lead.objects.bulk_update(
                leads, ["fit", "fit_reason", "kind_counts", "engagement_count"]
            )
        done += len(batch)
        if progress:
            progress(len(batch))
    return done
