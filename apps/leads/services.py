"""Every write to leads: the lifecycle door, lead intake, engagements and scoring.

``lead_transition`` is the only code that changes ``Lead.stage`` (STYLE rule 1).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Least
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, can_proceed

from apps.accounts.permissions import ALL_TRANSITIONS, can_transition, can_work_leads
from apps.criteria import rules
from apps.criteria.models import FitRule, MQLCriteria, ScoringSettings, SLAPolicy, SQLCriteria
from apps.leads.forms import TRANSITION_FORMS
from apps.leads.models import (
    TRANSITION_VERBS,
    Engagement,
    Lead,
    Qualification,
    Stage,
    StageTransition,
)
from apps.leads.selectors import taken_from_the_pool

logger = logging.getLogger(__name__)

#: Sent after the transaction that made a transition commits (``transition`` is the history row).
stage_changed = Signal()
#: Sent inside that transaction, right after the history row is written: receivers write what
#: must commit (or roll back) with the change, such as the outbox rows of its emails.
transition_recorded = Signal()

# Transitions the system itself makes, with no user behind them.
SYSTEM_TRANSITIONS = frozenset({"promote", "reassign"})


class LifecycleError(Exception):
    """A transition that did not happen; the message is fit to show a user."""


class UnknownTransition(LifecycleError):
    pass


class TransitionForbidden(LifecycleError):
    pass


class TransitionNotAvailable(LifecycleError):
    def __init__(self, message: str, *, stage: str):
        super().__init__(message)
        self.stage = stage


class LeadChanged(TransitionNotAvailable):
    """Someone else changed the lead between the user's read and this write."""


class TransitionInvalid(LifecycleError):
    def __init__(self, errors: Mapping[str, list[str]]):
        self.errors = {key: [str(m) for m in messages] for key, messages in errors.items()}
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in self.errors.items()))


# --- assignment ----------------------------------------------------------------


def next_sales_rep(*, exclude_ids: Sequence[int] = ()):
    """The active sales rep least recently assigned a lead, stamped as assigned now.

    Every candidate row is locked (in id order, so concurrent callers cannot
    deadlock) and the choice made on the rows as they are once locked: under
    READ COMMITTED a locked row comes back with its newest values, while an
    ORDER BY … LIMIT 1 would have been sorted on the stale ones. Returns None
    when no rep takes leads: the MQL then waits in the unassigned pool.
    """
    User = get_user_model()
    candidates = (
        User.objects.filter(groups__name="sales", is_active=True, accepts_new_leads=True)
        .exclude(pk__in=exclude_ids)
        .order_by("pk")
    )
    if connection.features.has_select_for_update_of:
        candidates = candidates.select_for_update(of=("self",))
    else:
        candidates = candidates.select_for_update()
    reps = list(candidates)
    if not reps:
        return None
    rep = min(reps, key=lambda u: (u.last_assigned_at is not None, u.last_assigned_at or 0, u.pk))
    rep.last_assigned_at = timezone.now()
    User.objects.filter(pk=rep.pk).update(last_assigned_at=rep.last_assigned_at)
    return rep


def _takes_leads(user) -> bool:
    return bool(
        user
        and user.is_active
        and user.accepts_new_leads
        and user.groups.filter(name="sales").exists()
    )


# --- the lifecycle door --------------------------------------------------------


def lead_transition(
    *,
    lead: Lead | int,
    name: str,
    actor=None,
    data: Mapping[str, Any] | None = None,
    expected_stage: str | None = None,
    criteria: MQLCriteria | None = None,
    at: dt.datetime | None = None,
) -> StageTransition:
    """Make transition ``name`` on ``lead`` for ``actor`` (None: the system).

    In one transaction: lock the lead, check the actor may, check the stage
    allows it (and still is ``expected_stage`` when the caller showed one),
    validate ``data`` with the transition's form, apply it, save, append the
    history row, send ``transition_recorded`` (in the transaction) and queue
    ``stage_changed`` for after commit. Raises a
    ``LifecycleError`` subclass, with nothing written, when any step refuses.
    """
    if name not in ALL_TRANSITIONS:
        raise UnknownTransition(_("There is no transition called '%(name)s'.") % {"name": name})
    pk = lead.pk if isinstance(lead, Lead) else lead
    with transaction.atomic():
        locked = Lead.objects.select_for_update().get(pk=pk)
        # Stamped once the lock is held, so the history's order is the order the changes happened.
        at = at or timezone.now()
        if actor is None:
            if name not in SYSTEM_TRANSITIONS:
                raise TransitionForbidden(
                    _("Only a person can %(name)s a lead.") % {"name": TRANSITION_VERBS[name]}
                )
        elif not can_transition(actor, locked, name):
            if name == "accept" and can_work_leads(actor) and taken_from_the_pool(locked.pk):
                # Two reps accepting one pool MQL: the slower one lost a race, not a permission,
                # whether or not its request named the stage it saw (expected_stage).
                raise LeadChanged(
                    _("This lead has changed: another rep took it from the pool."),
                    stage=locked.stage,
                )
            raise TransitionForbidden(
                _("You may not %(name)s this lead.") % {"name": TRANSITION_VERBS[name]}
            )
        if expected_stage is not None and locked.stage != expected_stage:
            raise LeadChanged(
                _("This lead has changed: it is now %(stage)s. Reload to see what happened.")
                % {"stage": locked.get_stage_display()},
                stage=locked.stage,
            )
        if not can_proceed(getattr(locked, name)):
            raise TransitionNotAvailable(
                _("Cannot %(name)s a lead that is %(stage)s.")
                % {"name": TRANSITION_VERBS[name], "stage": locked.get_stage_display()},
                stage=locked.stage,
            )
        form = TRANSITION_FORMS[name](data=data or {})
        if actor is not None and not form.is_valid():
            raise TransitionInvalid(form.errors)
        cleaned = (
            form.cleaned_data if actor is not None else {k: v for k, v in (data or {}).items()}
        )

        from_stage = locked.stage
        clocks_before = (locked.accept_due_at, locked.process_due_at)
        record = {"reason": "", "note": cleaned.get("note", "") or ""}
        _apply(locked, name, actor=actor, cleaned=cleaned, criteria=criteria, at=at, record=record)
        clocks_started = (locked.accept_due_at, locked.process_due_at) != clocks_before or name in (
            "promote",
            "resubmit",
        )
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
            reason=str(record["reason"])[:255],
            note=record["note"],
            owner=locked.owner,
            criteria=locked.mql_criteria if name == "promote" else None,
            accept_due_at=locked.accept_due_at if clocks_started else None,
            process_due_at=locked.process_due_at if clocks_started else None,
        )
        transition_recorded.send(sender=StageTransition, transition=row)
        transaction.on_commit(partial(_announce, row.pk))
    if isinstance(lead, Lead):
        lead.refresh_from_db()
    return row


def _announce(transition_id: int) -> None:
    row = StageTransition.objects.select_related("lead").get(pk=transition_id)
    logger.info("lead %s: %s (%s -> %s)", row.lead_id, row.transition, row.from_stage, row.to_stage)
    stage_changed.send(sender=StageTransition, transition=row)


def _apply(lead: Lead, name: str, *, actor, cleaned: dict, criteria, at, record: dict) -> None:
    """Turn validated input into the django-fsm call for ``name``."""
    if name == "promote":
        if actor is None and criteria is None:
            raise TransitionInvalid(
                {"criteria": [_("A system promotion names the criteria that made it.")]}
            )
        record["reason"] = (
            cleaned.get("reason", "")
            if actor is not None
            else _("MQL criteria v%(v)s met") % {"v": criteria.version}
        )
        lead.promote(
            at=at,
            owner=next_sales_rep(),
            criteria=criteria if actor is None else None,
            deadlines=SLAPolicy.load().deadlines(at),
        )
    elif name == "accept":
        lead.accept(at=at, owner=lead.owner or actor)
    elif name == "reject":
        reason = cleaned["reason"]
        record["reason"] = reason.code
        lead.reject(at=at, reason=reason)
    elif name == "qualify":
        failures = rules.bant_failures(
            SQLCriteria.load().as_rule(),
            budget_amount=cleaned["budget_amount"],
            budget_currency=cleaned["budget_currency"],
            authority=cleaned["authority"],
            need=cleaned["need"],
            timeline=cleaned["timeline"],
            today=timezone.localdate(at),
        )
        if failures:
            raise TransitionInvalid({key: [message] for key, message in failures.items()})
        Qualification.objects.create(
            lead=lead,
            qualified_by=actor,
            qualified_at=at,
            **{
                k: cleaned[k]
                for k in (
                    "budget_amount",
                    "budget_currency",
                    "authority",
                    "need",
                    "timeline",
                    "notes",
                )
            },
        )
        record["note"] = cleaned.get("notes", "")
        lead.qualify(at=at)
    elif name == "convert":
        lead.convert(
            at=at,
            amount=cleaned["amount"],
            currency=cleaned["currency"],
            expected_close_date=cleaned["expected_close_date"],
        )
    elif name == "win":
        lead.win(at=at)
    elif name == "lose":
        record["reason"] = cleaned["reason"]
        lead.lose(at=at, reason=cleaned["reason"])
    elif name == "recycle":
        lead.recycle(at=at)
    elif name == "resubmit":
        owner = cleaned.get("owner")
        if owner is None:
            owner = lead.owner if _takes_leads(lead.owner) else next_sales_rep()
        lead.resubmit(at=at, owner=owner, deadlines=SLAPolicy.load().deadlines(at))
    elif name == "disqualify":
        reason = cleaned["reason"]
        record["reason"] = reason.code
        lead.disqualify(at=at, reason=reason)
    elif name == "reassign":
        owner = cleaned.get("owner")
        if owner is None:
            # The system's breach reassignment: next in the round-robin, never the rep who missed it.
            previous = [lead.owner_id] if lead.owner_id else []
            owner = next_sales_rep(exclude_ids=previous)
            if owner is None:
                raise TransitionInvalid({"owner": [_("No other sales rep takes leads right now.")]})
        elif owner.pk == lead.owner_id:
            raise TransitionInvalid(
                {"owner": [_("The lead already belongs to %(user)s.") % {"user": owner}]}
            )
        record["reason"] = cleaned.get("reason", "")
        restart = cleaned.get("restart_clocks", False)
        lead.reassign(
            at=at, owner=owner, deadlines=SLAPolicy.load().deadlines(at) if restart else None
        )


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


def engagement_record(
    *, lead: Lead, kind: str, occurred_at: dt.datetime, **extra
) -> EngagementResult:
    """Record one engagement (see ``engagements_record``)."""
    result = engagements_record(
        items=[EngagementInput(lead_id=lead.pk, kind=kind, occurred_at=occurred_at, **extra)]
    )
    lead.refresh_from_db()
    return result


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
