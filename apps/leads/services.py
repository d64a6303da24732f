"""Every write to leads: the lifecycle door, lead intake, engagements and scoring.

``lead_transition`` is the only code that changes ``Lead.stage``; what each
transition is and does is declared in ``apps.leads.transitions``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Count, F, Q, Value
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition

from apps.accounts.permissions import can_work_leads
from apps.criteria import rules
from apps.criteria.models import FitRule, MQLCriteria, ScoringSettings
from apps.leads.models import Engagement, Lead, Stage, StageTransition, email_normalize
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
#: Sent inside the transaction of a set-based import with the ids of the leads it created
#: (``lead_created`` is sent for each lead created one at a time).
leads_created = Signal()

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


def fit_fields(
    rule: rules.FitRuleValues, *, employees: int | None, industry: str, country: str
) -> tuple[str, str]:
    """The stored ``fit`` and ``fit_reason`` of a profile: the one place every write computes them."""
    verdict = rules.evaluate_fit(rule, employees=employees, industry=industry, country=country)
    return verdict.verdict, verdict.reason[:255]


def lead_fit_refresh(lead: Lead, rule: rules.FitRuleValues | None = None) -> None:
    """Set ``lead.fit`` and ``lead.fit_reason`` from its profile (not saved)."""
    lead.fit, lead.fit_reason = fit_fields(
        rule or FitRule.load().as_rule(),
        employees=lead.employees,
        industry=lead.industry,
        country=lead.country,
    )


def lead_upsert(*, email: str, values: Mapping[str, Any]) -> tuple[Lead, bool]:
    """Create the lead with ``email``, or update its profile; returns (lead, created).

    Only the profile changes; the stage, score and owner are never touched here.
    """
    email = email_normalize(email)
    unknown = set(values) - set(Lead.PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"not lead profile fields: {sorted(unknown)}")
    values = {("source_id" if k == "source" else k): v for k, v in values.items()}
    fit_rule = FitRule.load().as_rule()
    with transaction.atomic():
        lead = Lead.objects.select_for_update().filter(email=email).first()
        created = lead is None
        if created:
            lead = Lead(email=email, **values)
        else:
            for key, value in values.items():
                setattr(lead, key, value)
        lead_fit_refresh(lead, fit_rule)
        lead.save()
        if created:
            lead_created.send(sender=Lead, lead=lead, replay=_replaying.get())
        if lead.stage == Stage.NEW and lead.archived_at is None:
            # A profile change (such as the fit) can make the lead meet the criteria now.
            criteria = MQLCriteria.active()
            if rules.mql_met(
                criteria.as_rule(),
                score=lead.score,
                engagement_count=lead.engagement_count,
                kinds=set(lead.kind_counts or {}),
                fit=lead.fit,
            ):
                lead_transition(lead=lead, name="promote", criteria=criteria)
    return lead, created


def leads_promote_if_meeting(
    pks: Iterable[int], *, criteria: MQLCriteria | None = None
) -> list[int]:
    """Promote those of ``pks`` that are new and now meet the MQL criteria; returns their ids.

    For a profile change (an update through the API, an import, the admin):
    SPEC §3 promotes a lead the moment it meets the criteria, not at its next
    engagement. Each goes through ``lead_transition`` as a system promotion.
    """
    pks = list(pks)
    criteria = criteria or MQLCriteria.active()
    # Only leads past the score and count thresholds can meet the criteria; the database
    # leaves out the rest (most of an import's new leads), and mql_met decides for these.
    candidates = list(
        Lead.objects.filter(
            pk__any_of=pks,
            stage=Stage.NEW,
            archived_at__isnull=True,
            score__gte=criteria.score_threshold,
            engagement_count__gte=criteria.min_engagements,
        )
        .order_by("pk")
        .values_list("pk", "score", "engagement_count", "kind_counts", "fit")
    )
    rule = criteria.as_rule()
    promoted = []
    for pk, score, count, kinds, fit in candidates:
        if rules.mql_met(
            rule, score=score, engagement_count=count, kinds=set(kinds or {}), fit=fit
        ):
            lead_transition(lead=pk, name="promote", criteria=criteria)
            promoted.append(pk)
    return promoted


def leads_fit_refresh(rows: Iterable[tuple], *, rule: rules.FitRuleValues | None = None) -> None:
    """Write the fit of each (pk, employees, industry, country[, fit, fit_reason]) in ``rows``."""
    rule = rule or FitRule.load().as_rule()
    values = []
    for pk, employees, industry, country, *stored in rows:
        fit = fit_fields(rule, employees=employees, industry=industry, country=country)
        # When the rows carry the stored fit and reason, only a changed verdict is written.
        if tuple(stored) != fit:
            values.append((pk, *fit))
    rows_values_update(Lead, ("fit", "fit_reason"), values)


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

    One transaction for the whole list: the rows inserted in bulk, the leads
    locked (in id order, so concurrent requests cannot deadlock), every touched
    lead's score, counts and fit written set-based, and every ``new`` lead
    meeting the active MQL criteria promoted by the system through
    ``lead_transition``. An ``external_id`` already stored, or repeated in the
    list, is skipped; the unique constraint decides.

    On PostgreSQL the rows are built before the transaction and inserted before
    any lead is locked, and one statement locks, tallies and writes the leads
    (``_tallies_add``): concurrent lists touching the same leads wait for each
    other only for that statement, the promotions and the commit.
    """
    now = now or timezone.now()
    table = ScoringSettings.current_table()
    fit_rule = FitRule.load().as_rule()
    wanted = {i.lead_id for i in items}
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
    ahead = _fits_ahead(wanted, fit_rule) if connection.vendor == "postgresql" else {}
    with transaction.atomic():
        if connection.vendor == "postgresql":
            created, duplicate_rows = _insert_engagements(rows)
            changed = _tallies_add(wanted, created, table, fit_rule, ahead)
        else:
            leads = _tallies_lock(wanted)
            created, duplicate_rows = _insert_engagements(rows)
            changed = _tallies_count(leads, created, table, fit_rule)
            _tallies_write(changed)
        duplicates = [origin[id(row)] for row in duplicate_rows]

        promoted = []
        candidates = [lead for lead in changed if lead.stage == Stage.NEW]
        if candidates:
            criteria = MQLCriteria.active()
            mql_rule = criteria.as_rule()
            meeting = [
                lead.pk
                for lead in candidates
                if rules.mql_met(
                    mql_rule,
                    score=lead.score,
                    engagement_count=lead.engagement_count,
                    kinds=set(lead.kind_counts),
                    fit=lead.fit,
                )
            ]
            for pk in meeting:
                lead_transition(lead=pk, name="promote", actor=None, criteria=criteria, at=now)
                promoted.append(pk)
    return EngagementResult(created=created, duplicates=duplicates, promoted_lead_ids=promoted)


def _tallies_lock(wanted: set[int]) -> dict[int, _LeadTally]:
    """Lock the leads of ``wanted`` in id order and read what intake needs of them."""
    leads = {
        row[0]: _LeadTally(*row)
        for row in Lead.objects.select_for_update()
        .filter(pk__any_of=wanted)
        .order_by("pk")
        .values_list(*_LeadTally.COLUMNS)
    }
    _missing_raise(wanted, set(leads))
    return leads


def _missing_raise(wanted: set[int], found: set[int]) -> None:
    missing = wanted - found
    if missing:
        raise Lead.DoesNotExist(f"no lead with id {sorted(missing)}")


def _tallies_count(
    leads: dict[int, _LeadTally], created: Sequence[Engagement], table, fit_rule
) -> list[_LeadTally]:
    """Add the ``created`` rows to their (locked) leads; the leads changed, in order of first row.

    Engagement from before a recycle is history, not nurture progress.
    """
    changed: dict[int, _LeadTally] = {}
    for row in created:
        lead = leads[row.lead_id]
        if lead.recycled_at is None or row.occurred_at >= lead.recycled_at:
            lead.add(row.kind, row.points)
            changed[lead.pk] = lead
    for lead in changed.values():
        lead.score = table.capped(lead.score)
        lead.fit, lead.fit_reason = fit_fields(
            fit_rule, employees=lead.employees, industry=lead.industry, country=lead.country
        )
    return list(changed.values())


# PostgreSQL: lock the leads in id order, add each one's counted rows (not those from before
# its recycle) to its score (capped), count and counts by kind, and return what the fit and
# the promotion need. The first row carries the number of leads locked (and nothing else
# when no lead changed).
_TALLIES_ADD_SQL = """
WITH locked AS MATERIALIZED (
    SELECT id, recycled_at FROM leads_lead WHERE id = ANY(%(wanted)s) ORDER BY id FOR UPDATE
),
counted AS (
    SELECT e.lead_id, e.kind, count(*) AS n, sum(e.points) AS points
    FROM unnest(%(lead_ids)s::bigint[], %(kinds)s::text[], %(points)s::integer[],
                %(occurred)s::timestamptz[]) AS e (lead_id, kind, points, occurred_at)
    JOIN locked ON locked.id = e.lead_id
    WHERE locked.recycled_at IS NULL OR e.occurred_at >= locked.recycled_at
    GROUP BY e.lead_id, e.kind
),
tally AS (
    SELECT lead_id, sum(points) AS points, sum(n) AS n, array_agg(kind) AS kinds,
        array_agg(n) AS ns
    FROM counted GROUP BY lead_id
),
ahead AS (
    SELECT * FROM unnest(%(fit_ids)s::bigint[], %(fit_employees)s::integer[],
        %(fit_industries)s::text[], %(fit_countries)s::text[], %(fits)s::text[],
        %(fit_reasons)s::text[]) AS f (lead_id, employees, industry, country, fit, reason)
),
written AS (
    UPDATE leads_lead AS l SET
        score = LEAST(GREATEST(l.score + t.points, 0), %(cap)s::integer),
        engagement_count = l.engagement_count + t.n,
        kind_counts = (
            CASE WHEN jsonb_typeof(l.kind_counts) = 'object' THEN l.kind_counts ELSE '{}' END
        ) || (
            SELECT jsonb_object_agg(k.kind, k.n + COALESCE((l.kind_counts ->> k.kind)::bigint, 0))
            FROM unnest(t.kinds, t.ns) AS k (kind, n)
        ),
        -- The fit computed ahead, where the profile it was computed from is still the lead's.
        fit = CASE WHEN {same_profile} THEN f.fit ELSE l.fit END,
        fit_reason = CASE WHEN {same_profile} THEN f.reason ELSE l.fit_reason END
    FROM tally AS t JOIN ahead AS f ON f.lead_id = t.lead_id
    WHERE l.id = t.lead_id
    RETURNING l.id, l.stage, l.score, l.engagement_count, l.kind_counts, l.recycled_at,
        l.employees, l.industry, l.country, l.fit, l.fit_reason
)
SELECT one.locked, written.*
FROM (SELECT count(*) AS locked FROM locked) AS one LEFT JOIN written ON true
""".replace(
    "{same_profile}",
    "(l.employees IS NOT DISTINCT FROM f.employees AND l.industry = f.industry "
    "AND l.country = f.country)",
)


def _fits_ahead(wanted: set[int], fit_rule) -> dict[int, tuple[tuple, str, str]]:
    """Each lead of ``wanted``: (its profile, the fit and reason of that profile), read unlocked.

    Leads are never deleted, so a lead missing here is missing: ``Lead.DoesNotExist``
    before anything is written. Computed before any lock is taken (once per distinct
    profile); the statement writes it only where the profile is still the same.
    """
    by_profile: dict[tuple, tuple[str, str]] = {}
    ahead = {}
    for pk, *values in Lead.objects.filter(pk__any_of=wanted).values_list(
        "pk", "employees", "industry", "country"
    ):
        profile = tuple(values)
        if profile not in by_profile:
            by_profile[profile] = _fit_of(fit_rule, profile)
        ahead[pk] = (profile, *by_profile[profile])
    _missing_raise(wanted, set(ahead))
    return ahead


def _fit_of(fit_rule, profile: tuple) -> tuple[str, str]:
    employees, industry, country = profile
    return fit_fields(fit_rule, employees=employees, industry=industry, country=country)


def _tallies_add(
    wanted: set[int], created: Sequence[Engagement], table, fit_rule, ahead: dict
) -> list[_LeadTally]:
    """PostgreSQL: ``_tallies_lock``, ``_tallies_count`` and ``_tallies_write`` in one statement.

    The arithmetic is done by the database on the locked rows, so the locks are
    taken and the leads rewritten at once, with nothing computed in between. The
    fit written is the one ``_fits_ahead`` computed before the lock; a lead whose
    profile changed since keeps its stored fit in the statement and gets the fit
    of its new profile right after (the same end state as computing it under the
    lock). Returns the changed leads in the order ``_tallies_count`` gives.
    """
    fit_ids = sorted(ahead)
    with connection.cursor() as cursor:
        cursor.execute(
            _TALLIES_ADD_SQL,
            {
                "wanted": sorted(wanted),
                "lead_ids": [row.lead_id for row in created],
                "kinds": [row.kind for row in created],
                "points": [row.points for row in created],
                "occurred": [row.occurred_at for row in created],
                "cap": table.cap,
                "fit_ids": fit_ids,
                "fit_employees": [ahead[pk][0][0] for pk in fit_ids],
                "fit_industries": [ahead[pk][0][1] for pk in fit_ids],
                "fit_countries": [ahead[pk][0][2] for pk in fit_ids],
                "fits": [ahead[pk][1] for pk in fit_ids],
                "fit_reasons": [ahead[pk][2] for pk in fit_ids],
            },
        )
        returned = cursor.fetchall()
    if returned[0][0] != len(wanted):
        _missing_raise(
            wanted, set(Lead.objects.filter(pk__any_of=wanted).values_list("pk", flat=True))
        )
    written: dict[int, _LeadTally] = {}
    moved = []
    for _locked, pk, stage, score, count, kinds, recycled_at, *profile, fit, reason in returned:
        if pk is None:
            continue
        # Django has psycopg hand jsonb over as text (``JSONField`` decodes it itself).
        kinds = json.loads(kinds) if isinstance(kinds, str) else kinds
        lead = _LeadTally(pk, stage, score, count, kinds, recycled_at, *profile)
        lead.fit, lead.fit_reason = fit, reason
        profile = tuple(profile)
        if profile != ahead[pk][0]:  # changed between the read and the lock
            lead.fit, lead.fit_reason = _fit_of(fit_rule, profile)
            if (lead.fit, lead.fit_reason) != (fit, reason):
                moved.append((pk, lead.fit, lead.fit_reason))
        written[pk] = lead
    rows_values_update(Lead, ("fit", "fit_reason"), moved)
    order: dict[int, _LeadTally] = {}
    for row in created:
        lead = written.get(row.lead_id)
        if lead is not None and (lead.recycled_at is None or row.occurred_at >= lead.recycled_at):
            order.setdefault(row.lead_id, lead)
    return list(order.values())


class _LeadTally:
    """What intake reads and writes of one locked lead: no model instance per lead."""

    COLUMNS = (
        "pk",
        "stage",
        "score",
        "engagement_count",
        "kind_counts",
        "recycled_at",
        "employees",
        "industry",
        "country",
    )
    __slots__ = (*COLUMNS, "fit", "fit_reason")

    def __init__(self, *values):
        for name, value in zip(self.COLUMNS, values, strict=True):
            setattr(self, name, value)
        self.kind_counts = dict(self.kind_counts or {})

    def add(self, kind: str, points: int) -> None:
        self.score += points
        self.engagement_count += 1
        self.kind_counts[kind] = self.kind_counts.get(kind, 0) + 1


def _tallies_write(tallies: Iterable[_LeadTally]) -> None:
    """One ``UPDATE … FROM (VALUES …)`` per 1,000 leads: score, counts and fit."""
    tallies = sorted(tallies, key=lambda t: t.pk)
    columns = ("score", "engagement_count", "kind_counts", "fit", "fit_reason")
    for start in range(0, len(tallies), 1000):
        rows_values_update(
            Lead,
            columns,
            [
                (t.pk, t.score, t.engagement_count, json.dumps(t.kind_counts), t.fit, t.fit_reason)
                for t in tallies[start : start + 1000]
            ],
        )


def rows_values_update(model, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """``UPDATE table SET col = v.col … FROM (VALUES (pk, …), …) v WHERE pk = v.pk``.

    ``rows`` are (pk, *values of ``columns``), values ready for the database
    (JSON as a string). One statement whatever the number of rows, where
    ``bulk_update`` builds one ``CASE`` per column with a branch per row.
    PostgreSQL types the VALUES by casts on the first row; SQLite (3.33+) needs none.
    """
    if not rows:
        return 0
    meta = model._meta
    quote = connection.ops.quote_name
    fields = [meta.pk, *(meta.get_field(name) for name in columns)]
    names = [quote(f.column) for f in fields]
    table = quote(meta.db_table)
    assignments = ", ".join(f"{name} = v.{name}" for name in names[1:])
    if connection.vendor == "postgresql":
        # One array parameter per column: nothing for psycopg to parse per row.
        casts = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
        sql = (
            f"UPDATE {table} SET {assignments} FROM unnest({casts}) AS v ({', '.join(names)}) "
            f"WHERE {table}.{names[0]} = v.{names[0]}"
        )
        params = [list(column) for column in zip(*rows, strict=True)]
    else:
        values = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * len(rows))
        sql = (
            f"WITH v ({', '.join(names)}) AS (VALUES {values}) "
            f"UPDATE {table} SET {assignments} FROM v WHERE {table}.{names[0]} = v.{names[0]}"
        )
        params = [value for row in rows for value in row]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


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
    if connection.vendor == "postgresql":
        return _insert_engagements_unnest(plain, keyed, skipped)
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
        _keyed_sorted(keyed, inserted, created, skipped)
    return created, skipped


def _keyed_sorted(keyed, inserted: dict[str, int], created: list, skipped: list) -> None:
    """Rows with an external id: inserted (given their ids) into ``created``, else ``skipped``."""
    for row in keyed:
        if row.external_id in inserted:
            row.pk = inserted[row.external_id]
            row._state.adding = False
            created.append(row)
        else:
            skipped.append(row)


def _unnest(model, fields, rows) -> tuple[str, list]:
    """``unnest(%s::type[], …)`` over ``rows``' values of ``fields``: one parameter per column.

    psycopg parses a query with thousands of placeholders on the client every
    time; a few array parameters cost nothing to parse.
    """
    # The connection itself, not the ``connection`` proxy: each value's conversion reads
    # its ``ops`` and ``features``, and the proxy looks the connection up on every read.
    db = connections[DEFAULT_DB_ALIAS]
    arrays = [[f.get_db_prep_save(getattr(row, f.attname), db) for row in rows] for f in fields]
    casts = ", ".join(f"%s::{f.db_type(db)}[]" for f in fields)
    return f"unnest({casts})", arrays


def _insert_engagements_unnest(plain, keyed, skipped):
    """PostgreSQL: every row in one ``INSERT … SELECT FROM unnest(…)``; keyed ones may conflict."""
    rows = plain + keyed
    if not rows:
        return [], skipped
    now = timezone.now()
    for row in rows:
        row.created_at = now
    fields = [f for f in Engagement._meta.concrete_fields if not f.primary_key]
    source, params = _unnest(Engagement, fields, rows)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(Engagement._meta.db_table)} "
            f"({', '.join(quote(f.column) for f in fields)}) SELECT * FROM {source} "
            "ON CONFLICT DO NOTHING RETURNING id, external_id",
            params,
        )
        returned = cursor.fetchall()
    # Rows come back in the order they were given (as bulk_create relies on); keyed ones by key.
    plain_ids = [pk for pk, external_id in returned if external_id is None]
    keyed_ids = {external_id: pk for pk, external_id in returned if external_id is not None}
    for row, pk in zip(plain, plain_ids, strict=True):
        row.pk = pk
        row._state.adding = False
    created = list(plain)
    _keyed_sorted(keyed, keyed_ids, created, skipped)
    return created, skipped


def scores_recompute(
    *, now: dt.datetime | None = None, batch_size: int = 5000, progress=None
) -> int:
    """Rebuild every lead's score, counts and fit from its history, decay included.

    Keyed batches of ``batch_size`` leads in id order (no list of every id is
    held): each batch locks its leads (in id order, as intake does, so the two
    cannot deadlock), counts their engagements per kind (and how many decayed)
    in one grouped query, and writes score, counts and fit with one set-based
    UPDATE. Engagement from before a lead's recycle does not count. Returns the
    number of leads.
    """
    now = now or timezone.now()
    table = ScoringSettings.current_table()
    fit_rule = FitRule.load().as_rule()
    cutoff = (
        now - dt.timedelta(days=table.decay_after_days)
        if table.decay_after_days is not None
        else None
    )
    decayed = Count("id", filter=Q(occurred_at__lt=cutoff)) if cutoff else Value(0)
    counted = Engagement.objects.filter(
        Q(lead__recycled_at__isnull=True) | Q(occurred_at__gte=F("lead__recycled_at"))
    )
    done, after = 0, 0
    while True:
        with transaction.atomic():
            leads = list(
                Lead.objects.select_for_update()
                .filter(pk__gt=after)
                .order_by("pk")
                .values_list("pk", "employees", "industry", "country")[:batch_size]
            )
            if not leads:
                break
            after = leads[-1][0]
            tally: dict[int, list] = defaultdict(lambda: [0, {}])
            for lead_id, kind, n, old in (
                counted.filter(lead_id__gte=leads[0][0], lead_id__lte=after)
                .order_by()
                .values("lead_id", "kind")
                .annotate(n=Count("id"), old=decayed)
                .values_list("lead_id", "kind", "n", "old")
            ):
                points = table.points.get(kind, 0)
                # Per engagement as ``ScoringTable.points_for`` does: decayed points are rounded down.
                tally[lead_id][0] += (
                    points * (n - old) + points * table.decayed_percent // 100 * old
                )
                tally[lead_id][1][kind] = n
            rows = []
            for pk, employees, industry, country in leads:
                score, counts = tally.get(pk, (0, {}))
                fit, fit_reason = fit_fields(
                    fit_rule, employees=employees, industry=industry, country=country
                )
                rows.append(
                    (
                        pk,
                        table.capped(score),
                        sum(counts.values()),
                        json.dumps(counts),
                        fit,
                        fit_reason,
                    )
                )
            rows_values_update(
                Lead, ("score", "engagement_count", "kind_counts", "fit", "fit_reason"), rows
            )
        done += len(leads)
        if progress:
            progress(len(leads))
    return done
