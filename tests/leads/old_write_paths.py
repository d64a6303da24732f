"""The write paths as they were before they became set-based: the reference the fast paths must match.

Kept verbatim (names aside) from ``apps.leads.services`` at the commit before the
change, so ``test_write_paths_equivalence`` can run both on the same input and
compare scores, counts, fit, promotions and history.
"""

import datetime as dt
from collections import Counter, defaultdict

from django.db import connection, transaction
from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from apps.criteria import rules
from apps.criteria.models import FitRule, MQLCriteria, ScoringSettings
from apps.leads.models import Engagement, Lead, Stage
from apps.leads.services import EngagementResult, lead_transition


def fit_of(lead, rule):
    return rules.evaluate_fit(
        rule, employees=lead.employees, industry=lead.industry, country=lead.country
    )


def old_engagements_record(*, items, now=None) -> EngagementResult:
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
        created, duplicate_rows = old_insert_engagements(rows)
        duplicates = [origin[id(row)] for row in duplicate_rows]

        per_lead: dict = defaultdict(list)
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


def old_insert_engagements(rows):
    """Insert ``rows``; returns (inserted, skipped as duplicate external ids).

    Rows with an external id go through ``INSERT … ON CONFLICT DO NOTHING
    RETURNING`` (PostgreSQL and SQLite both have it), so a concurrent request
    carrying the same id is settled by the unique index, not by a prior read.
    """
    seen: set = set()
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
        inserted: dict = {}
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


def old_scores_recompute(*, now=None, batch_size: int = 5000, progress=None) -> int:
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
            counts: dict[int, dict] = defaultdict(dict)
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
