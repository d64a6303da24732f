"""The generated dataset of ``make bench``: a realistic funnel built with set-based SQL.

Runs inside a process whose Django points at the tier's own database (freshly migrated).
Nothing goes through the ORM row by row: the few users are made with the ORM, then every
lead, engagement, transition, qualification, SLA event and notification is written by one
``INSERT … SELECT`` over ``generate_series`` each, from a plan table that fixes each lead's
path through the funnel and the moments of its transitions, so that every row agrees with
the others and with the lifecycle's rules:

- stages like a real funnel (a third still new, the rest spread over MQL, accepted,
  rejected, SQL, opportunity, won, lost, disqualified, a few recycled), owners among the
  reps (a few MQLs in the unassigned pool), about 2 transitions and exactly 10 engagements
  a lead over 12 weeks;
- a promoted lead's third engagement is the one that met the default MQL criteria
  (pricing page view, score ≥ 10, 3 engagements, fit pass); a lead never promoted never
  had a pricing page view, so nothing would promote it;
- scores, counts and kinds are the sum of its engagements under the scoring rules
  (engagements after its recycling only, as ``recompute_scores`` counts them); fit is the
  fit rule's verdict on its company size;
- SLA clocks are those its promotion started (24 h / 48 h, reminders 4 h before); the
  reminders and breaches already past are recorded as the sweep would have (``SLAEvent``
  and the owner's notifications, managers escalated), and ``sla_next_check_at`` is the next
  moment still ahead. The sweep's queue (``sla_slacheck``) is filled from it with the
  statements the database triggers of ``apps.sla.triggers`` use (the bulk insert runs with
  triggers off, foreign keys included, for speed), and so are the review queue's counts by
  reason (``apps.leads.triggers``), then ``ANALYZE``.

``anchor`` is the moment the data is "now": the bench sweeps and reports relative to it,
so a dataset reused hours later measures the same thing.
"""

from __future__ import annotations

import datetime as dt
import time

from django.db import connection, transaction

# Bump when the data changes shape: a stored dataset of another version is rebuilt.
GENERATOR_VERSION = 4

REPS = 20
MANAGERS = 2
MARKETERS = 2
PASSWORD = "bench-only-not-a-secret"

# Cumulative shares of each path through the funnel (about 2 transitions a lead).
PATHS = [
    ("new", 0.34),
    ("recycled", 0.36),
    ("mql", 0.39),
    ("accepted", 0.43),
    ("rejected", 0.61),
    ("sql", 0.71),
    ("opportunity", 0.79),
    ("won", 0.85),
    ("lost", 0.91),
    ("disq_new", 0.96),
    ("disq_rejected", 1.0),
]
STAGE_OF_PATH = {"recycled": "new", "disq_new": "disqualified", "disq_rejected": "disqualified"}
PROMOTED_PATHS = [p for p, _ in PATHS if p not in ("new", "disq_new")]

# Engagement kinds by weight (20 slots); leads never promoted draw without pricing views.
KIND_SLOTS = (
    ["page_view"] * 6
    + ["pricing_page_view"] * 2
    + ["content_download"] * 2
    + ["email_click"] * 3
    + [
        "webinar_registration",
        "webinar_attendance",
        "inquiry",
        "document_request",
        "quote_request",
        "demo_request",
        "event_visit",
    ]
)
UNPROMOTED_SLOTS = [k if k != "pricing_page_view" else "page_view" for k in KIND_SLOTS]
# The three engagements that promoted a lead: a pricing view and two more, 10+ points.
PROMOTING = [
    ("pricing_page_view", "demo_request", "page_view"),
    ("pricing_page_view", "quote_request", "webinar_attendance"),
    ("pricing_page_view", "webinar_attendance", "document_request"),
]
FIRST_NAMES = [
    "Aiko", "Ben", "Carla", "Dev", "Emi", "Farid", "Grace", "Hiro", "Ines", "Jonas",
    "Kenji", "Lena", "Mateo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tomoko",
    "Uma", "Viktor", "Wen", "Yuki", "Zara", "Akira", "Bea", "Chen", "Dana", "Eli",
]  # fmt: skip
LAST_NAMES = [
    "Tanaka", "Smith", "Garcia", "Mueller", "Sato", "Rossi", "Kim", "Nguyen", "Okafor",
    "Silva", "Kowalski", "Haddad", "Jensen", "Ito", "Martin", "Novak", "Patel", "Weber",
    "Suzuki", "Brown", "Lopez", "Yamamoto", "Dubois", "Ivanova", "Cohen", "Nakamura",
    "Fischer", "Santos", "Larsen", "Watanabe", "Moreau", "Costa", "Berg", "Kato", "Ali",
    "Schmidt", "Reyes", "Hughes", "Ortiz", "Meyer",
]  # fmt: skip
COMPANY_WORDS = [
    "Kumo", "Granite", "Aster", "Blue", "Cedar", "Delta", "Ember", "Fjord", "Harbor",
    "Iris", "Juniper", "Kestrel", "Lumen", "Maple", "Nimbus", "Orion", "Pioneer", "Quartz",
    "Riverside", "Summit", "Tidal", "Umber", "Vertex", "Willow", "Zenith",
]  # fmt: skip
COMPANY_KINDS = ["Systems", "Freight", "Labs", "Foods", "Health", "Capital", "Robotics", "Media"]
INDUSTRIES = ["software", "manufacturing", "finance", "retail", "healthcare", "logistics"]
COUNTRIES = ["US", "JP", "DE", "GB", "FR", "BR", "IN", "AU"]
SOURCES = ["website", "webinar", "event", "content", "ads", "referral", "email", "partner"]
REJECT_REASONS = ["not_a_fit", "no_budget", "no_authority", "no_need", "bad_timing", "duplicate"]
DISQUALIFY_REASONS = ["spam", "competitor", "bad_data", "duplicate"]


def _array(values) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]::text[]"


def team_create() -> dict:
    """The people of the bench: reps, managers and marketers (with API tokens)."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    from apps.accounts.models import User
    from apps.accounts.roles import MARKETING, SALES, SALES_MANAGER

    password = make_password(PASSWORD)
    people = {
        SALES: [f"rep{n:02d}" for n in range(1, REPS + 1)],
        SALES_MANAGER: [f"boss{n}" for n in range(1, MANAGERS + 1)],
        MARKETING: [f"mark{n}" for n in range(1, MARKETERS + 1)],
    }
    team = {}
    for group_name, usernames in people.items():
        group = Group.objects.get(name=group_name)
        for n, username in enumerate(usernames):
            user = User.objects.create(
                username=username,
                password=password,
                first_name=FIRST_NAMES[(n * 7 + len(group_name)) % len(FIRST_NAMES)],
                last_name=LAST_NAMES[(n * 11 + len(group_name)) % len(LAST_NAMES)],
                email=f"{username}@bench.example",
            )
            user.groups.add(group)
            team[username] = {"id": user.pk, "role": group_name}
            if group_name == MARKETING:
                team[username]["token"] = Token.objects.create(user=user).key
    return team


PLAN_SQL = """
CREATE UNLOGGED TABLE bench_plan AS
WITH draw AS (
    SELECT i, random() AS r, random() AS rc, random() AS rc2, random() AS rrun, random() AS rp,
           random() AS ra, random() AS rj, random() AS rq, random() AS ro, random() AS rcl,
           random() AS ry, random() AS rd, random() AS rvia, random() AS rpool
    FROM generate_series(1, %(n)s) AS i
), path AS (
    SELECT draw.*, CASE {path_case} END AS path FROM draw
), base AS (
    SELECT path.*,
           path IN ('mql', 'accepted') AND rrun < 0.4 AS running,
           %(start)s::timestamptz + (%(anchor)s::timestamptz - %(start)s::timestamptz) * 0.85 * rc
               AS created0
    FROM path
), promoted AS (
    SELECT base.*,
           CASE WHEN path NOT IN ('new', 'disq_new') THEN
               CASE WHEN running THEN %(anchor)s::timestamptz - interval '44 hours' * rp
                    ELSE created0 + (%(anchor)s::timestamptz - created0) * (0.05 + 0.35 * rp) END
           END AS p
    FROM base
), created AS (
    SELECT promoted.*,
           CASE WHEN running THEN p - interval '1 hour' * (6 + 200 * rc2) ELSE created0 END
               AS created
    FROM promoted
), accepted AS (
    SELECT created.*,
           CASE WHEN path IN ('accepted', 'sql', 'opportunity', 'won', 'lost')
                  OR (path = 'rejected' AND rvia < 0.5)
                THEN p + LEAST((%(anchor)s::timestamptz - p) * 0.5, interval '36 hours') * ra
           END AS a
    FROM created
), rejected AS (
    SELECT accepted.*,
           CASE WHEN path = 'rejected' AND a IS NOT NULL
                    THEN a + LEAST((%(anchor)s::timestamptz - a) * 0.5, interval '40 hours') * rj
                WHEN path IN ('rejected', 'recycled', 'disq_rejected')
                    THEN p + LEAST((%(anchor)s::timestamptz - p) * 0.5, interval '30 hours') * rj
           END AS j,
           CASE WHEN path IN ('sql', 'opportunity', 'won', 'lost')
                THEN a + LEAST((%(anchor)s::timestamptz - a) * 0.3, interval '48 hours') * rq
           END AS q
    FROM accepted
), later AS (
    SELECT rejected.*,
           CASE WHEN path IN ('opportunity', 'won', 'lost')
                THEN q + (%(anchor)s::timestamptz - q) * 0.3 * ro END AS o
    FROM rejected
)
SELECT i, path, running, created, p, a, j, q, o,
       CASE WHEN path IN ('won', 'lost') THEN o + (%(anchor)s::timestamptz - o) * 0.5 * rcl END
           AS c,
       CASE WHEN path = 'recycled' THEN j + (%(anchor)s::timestamptz - j) * 0.3 * ry END AS y,
       CASE WHEN path = 'disq_new' THEN created + (%(anchor)s::timestamptz - created) * 0.5 * rd
            WHEN path = 'disq_rejected' THEN j + (%(anchor)s::timestamptz - j) * 0.3 * rd END
           AS d,
       -- The owner the promotion gave it: a rep in turn, a few MQLs left in the pool.
       CASE WHEN p IS NULL THEN NULL
            WHEN path = 'mql' AND rpool < 0.05 THEN NULL
            ELSE (%(reps)s::bigint[])[1 + i %% %(nreps)s] END AS promoted_owner,
       (%(marketers)s::bigint[])[1 + i %% %(nmarketers)s] AS marketer
FROM later
"""

LEADS_SQL = """
INSERT INTO leads_lead (
    id, email, first_name, last_name, title, phone, company, employees, industry, country,
    source, campaign, owner_id, stage, score, engagement_count, kind_counts, fit, fit_reason,
    mql_criteria_id, recycle_count, last_reject_reason, disqualify_reason,
    assigned_at, accept_due_at, process_due_at, accept_remind_at, process_remind_at,
    sla_next_check_at, opportunity_amount, opportunity_currency, expected_close_date,
    close_reason, mql_at, accepted_at, rejected_at, sql_at, opportunity_at, closed_at,
    disqualified_at, recycled_at, archived_at, created_at, updated_at
)
SELECT i,
       lower(fn || '.' || ln || '.' || i || '@' || cw || '-' || ck || '.example'),
       fn, ln, 'Manager', '+1-555-' || lpad((i %% 10000)::text, 4, '0'),
       cw || ' ' || ck, employees, (%(industries)s)[1 + (i / 7) %% 6],
       (%(countries)s)[1 + (i / 3) %% 8], (%(sources)s)[1 + (i / 11) %% 8], '',
       owner, stage, 0, 0, '{}'::jsonb,
       CASE WHEN employees IS NULL THEN 'unknown' WHEN employees < 50 OR employees > 500
            THEN 'fail' ELSE 'pass' END,
       CASE WHEN employees IS NULL THEN 'missing employee count'
            WHEN employees < 50 THEN employees || ' employees is below the minimum of 50'
            WHEN employees > 500 THEN employees || ' employees is above the maximum of 500'
            ELSE 'matches the fit rule' END,
       CASE WHEN p IS NOT NULL THEN %(criteria)s END,
       CASE WHEN path = 'recycled' THEN 1 ELSE 0 END,
       CASE WHEN j IS NOT NULL THEN (%(reject_reasons)s)[1 + i %% 6] END,
       CASE WHEN d IS NOT NULL THEN (%(disqualify_reasons)s)[1 + i %% 4] END,
       CASE WHEN clocked AND promoted_owner IS NOT NULL THEN p END,
       CASE WHEN clocked THEN p + interval '24 hours' END,
       CASE WHEN clocked THEN p + interval '48 hours' END,
       CASE WHEN clocked THEN p + interval '20 hours' END,
       CASE WHEN clocked THEN p + interval '44 hours' END,
       -- The next reminder or deadline still ahead of the anchor, of the clocks running.
       CASE WHEN path = 'mql' THEN LEAST(
                CASE WHEN p + interval '20 hours' > %(anchor)s THEN p + interval '20 hours' END,
                CASE WHEN p + interval '24 hours' > %(anchor)s THEN p + interval '24 hours' END,
                CASE WHEN p + interval '44 hours' > %(anchor)s THEN p + interval '44 hours' END,
                CASE WHEN p + interval '48 hours' > %(anchor)s THEN p + interval '48 hours' END)
            WHEN path = 'accepted' THEN LEAST(
                CASE WHEN p + interval '44 hours' > %(anchor)s THEN p + interval '44 hours' END,
                CASE WHEN p + interval '48 hours' > %(anchor)s THEN p + interval '48 hours' END)
       END,
       CASE WHEN o IS NOT NULL THEN 1000 * (10 + i %% 90) END,
       CASE WHEN o IS NOT NULL THEN 'USD' ELSE '' END,
       CASE WHEN o IS NOT NULL THEN (o + interval '30 days')::date END,
       CASE WHEN path = 'lost' THEN 'Chose a competitor' ELSE '' END,
       p, a, j, q, o, c, d, y, NULL, created, %(anchor)s
FROM (
    SELECT bench_plan.*,
           (%(first_names)s)[1 + i %% 30] AS fn,
           (%(last_names)s)[1 + (i / 30) %% 40] AS ln,
           (%(company_words)s)[1 + (i / 5) %% 25] AS cw,
           (%(company_kinds)s)[1 + (i / 125) %% 8] AS ck,
           CASE WHEN p IS NOT NULL THEN 50 + (i::bigint * 37) %% 451
                WHEN i %% 10 = 0 THEN NULL
                ELSE 5 + (i::bigint * 7919) %% 3000 END AS employees,
           CASE path WHEN 'recycled' THEN 'new' WHEN 'disq_new' THEN 'disqualified'
                     WHEN 'disq_rejected' THEN 'disqualified' ELSE path END AS stage,
           CASE WHEN path IN ('new', 'disq_new', 'recycled') THEN NULL
                ELSE promoted_owner END AS owner,
           p IS NOT NULL AND path <> 'recycled' AS clocked
    FROM bench_plan
) plan
"""

ENGAGEMENTS_SQL = """
INSERT INTO leads_engagement (
    lead_id, kind, occurred_at, source, campaign, metadata, points, external_id, created_at
)
SELECT e.lead_id, e.kind, e.at, e.source, '', '{}'::jsonb, COALESCE(rule.points, 0), NULL, e.at
FROM (
    SELECT plan.i AS lead_id, l.source,
           CASE WHEN plan.p IS NOT NULL AND k < 3
                    THEN (%(promoting)s)[1 + plan.i %% 3][k + 1]
                WHEN plan.p IS NOT NULL THEN (%(kinds)s)[1 + floor(random() * 20)::int]
                ELSE (%(unpromoted_kinds)s)[1 + floor(random() * 20)::int] END AS kind,
           CASE WHEN plan.p IS NOT NULL AND k < 3
                    THEN plan.created + (plan.p - plan.created) * (k + 1) / 3.0
                WHEN plan.path = 'recycled'
                    THEN plan.p + (plan.j - plan.p) * ((k - 2) / 8.0)
                WHEN plan.p IS NOT NULL
                    THEN plan.p + (%(anchor)s::timestamptz - plan.p) * (0.001 + 0.998 * random())
                ELSE plan.created + (COALESCE(plan.d, %(anchor)s::timestamptz) - plan.created)
                     * (0.001 + 0.998 * random())
           END AS at
    FROM bench_plan plan
    JOIN leads_lead l ON l.id = plan.i
    CROSS JOIN generate_series(0, 9) AS k
) e
LEFT JOIN criteria_scoringrule rule ON rule.kind = e.kind
"""

# One row per transition of each lead's path, in the order the lifecycle allows.
TRANSITIONS_SQL = """
INSERT INTO leads_stagetransition (
    lead_id, transition, from_stage, to_stage, actor_id, at, reason, note, owner_id,
    criteria_id, accept_due_at, process_due_at
)
SELECT lead_id, transition, from_stage, to_stage, actor_id, at, reason, '', owner_id,
       criteria_id, accept_due_at, process_due_at
FROM (
    SELECT i AS lead_id, 'promote' AS transition, 'new' AS from_stage, 'mql' AS to_stage,
           NULL::bigint AS actor_id, p AS at, '' AS reason, promoted_owner AS owner_id,
           %(criteria)s::bigint AS criteria_id, p + interval '24 hours' AS accept_due_at,
           p + interval '48 hours' AS process_due_at
    FROM bench_plan WHERE p IS NOT NULL
    UNION ALL
    SELECT i, 'accept', 'mql', 'accepted', promoted_owner, a, '', promoted_owner, NULL, NULL,
           NULL
    FROM bench_plan WHERE a IS NOT NULL
    UNION ALL
    SELECT i, 'reject', CASE WHEN a IS NULL THEN 'mql' ELSE 'accepted' END, 'rejected',
           promoted_owner, j, (%(reject_reasons)s)[1 + i %% 6], promoted_owner, NULL, NULL, NULL
    FROM bench_plan WHERE j IS NOT NULL
    UNION ALL
    SELECT i, 'qualify', 'accepted', 'sql', promoted_owner, q, '', promoted_owner, NULL, NULL,
           NULL
    FROM bench_plan WHERE q IS NOT NULL
    UNION ALL
    SELECT i, 'convert', 'sql', 'opportunity', promoted_owner, o, '', promoted_owner, NULL,
           NULL, NULL
    FROM bench_plan WHERE o IS NOT NULL
    UNION ALL
    SELECT i, CASE path WHEN 'won' THEN 'win' ELSE 'lose' END, 'opportunity', path,
           promoted_owner, c, CASE WHEN path = 'lost' THEN 'Chose a competitor' ELSE '' END,
           promoted_owner, NULL, NULL, NULL
    FROM bench_plan WHERE c IS NOT NULL
    UNION ALL
    SELECT i, 'recycle', 'rejected', 'new', marketer, y, '', NULL, NULL, NULL, NULL
    FROM bench_plan WHERE y IS NOT NULL
    UNION ALL
    SELECT i, 'disqualify', CASE WHEN path = 'disq_new' THEN 'new' ELSE 'rejected' END,
           'disqualified', marketer, d, (%(disqualify_reasons)s)[1 + i %% 4],
           CASE WHEN path = 'disq_new' THEN NULL ELSE promoted_owner END, NULL, NULL, NULL
    FROM bench_plan WHERE d IS NOT NULL
) t
ORDER BY at, lead_id
"""

QUALIFICATIONS_SQL = """
INSERT INTO leads_qualification (
    lead_id, budget_amount, budget_currency, authority, need, timeline, notes, qualified_by_id,
    qualified_at
)
SELECT i, 20000 + 1000 * (i %% 50), 'USD',
       CASE WHEN i %% 3 = 0 THEN 'influencer' ELSE 'decision_maker' END,
       'Replace the spreadsheets the team runs on.', (q + interval '60 days')::date, '',
       promoted_owner, q
FROM bench_plan WHERE q IS NOT NULL
"""

SCORES_SQL = """
UPDATE leads_lead l
SET score = s.score, engagement_count = s.n, kind_counts = s.kinds
FROM (
    SELECT lead_id, SUM(points)::int AS score, SUM(n)::int AS n,
           jsonb_object_agg(kind, n) AS kinds
    FROM (
        SELECT e.lead_id, e.kind, COUNT(*) AS n, SUM(e.points) AS points
        FROM leads_engagement e
        JOIN leads_lead ll ON ll.id = e.lead_id
        WHERE ll.recycled_at IS NULL OR e.occurred_at >= ll.recycled_at
        GROUP BY e.lead_id, e.kind
    ) per_kind
    GROUP BY lead_id
) s
WHERE l.id = s.lead_id
"""

# The reminders and breaches of the running clocks already past at the anchor, as the sweep
# recorded them (a reminder only for an owned lead; none for a clock answered in time).
SLA_EVENTS_SQL = """
INSERT INTO sla_slaevent (lead_id, kind, deadline, owner_id, created_at)
SELECT l.id, ev.kind, ev.deadline, l.owner_id, ev.moment
FROM leads_lead l
CROSS JOIN LATERAL (VALUES
    ('accept_reminder', l.accept_due_at, l.accept_remind_at, l.owner_id IS NOT NULL),
    ('accept_breach', l.accept_due_at, l.accept_due_at, true),
    ('process_reminder', l.process_due_at, l.process_remind_at, l.owner_id IS NOT NULL),
    ('process_breach', l.process_due_at, l.process_due_at, true)
) AS ev (kind, deadline, moment, applies)
WHERE l.stage IN ('mql', 'accepted') AND ev.applies AND ev.moment <= %(anchor)s
  AND (ev.kind LIKE 'process%%' OR l.accepted_at IS NULL OR ev.moment < l.accepted_at)
"""

NOTIFICATIONS_SQL = """
INSERT INTO sla_notification (recipient_id, kind, lead_id, event_id, created_at, read_at, emailed_at,
                              detail, link)
SELECT recipient, kind, lead_id, event_id, created_at,
       CASE WHEN created_at < %(anchor)s::timestamptz - interval '3 days' THEN created_at
            + interval '2 hours' END,
       created_at, '', ''
FROM (
    SELECT ev.owner_id AS recipient,
           CASE WHEN ev.kind LIKE '%%reminder' THEN 'reminder' ELSE 'breach' END AS kind,
           ev.lead_id, ev.id AS event_id, ev.created_at
    FROM sla_slaevent ev WHERE ev.owner_id IS NOT NULL
    UNION ALL
    SELECT manager, 'escalation', ev.lead_id, ev.id, ev.created_at
    FROM sla_slaevent ev CROSS JOIN unnest(%(managers)s::bigint[]) AS manager
    WHERE ev.kind LIKE '%%breach'
) n
"""

SEQUENCES = [
    ("leads_lead", "id"),
    ("leads_engagement", "id"),
    ("leads_stagetransition", "id"),
    ("leads_qualification", "id"),
    ("sla_slaevent", "id"),
    ("sla_notification", "id"),
]


def dataset_generate(*, leads: int, anchor: dt.datetime, say=print) -> dict:
    """Fill the (freshly migrated) database with ``leads`` leads and their history."""
    from apps.criteria.models import MQLCriteria
    from apps.leads import triggers as lead_triggers
    from apps.sla import triggers

    began = time.perf_counter()
    team = team_create()
    reps = [p["id"] for p in team.values() if p["role"] == "sales"]
    managers = [p["id"] for p in team.values() if p["role"] == "sales_manager"]
    marketers = [p["id"] for p in team.values() if p["role"] == "marketing"]
    path_case = " ".join(f"WHEN r < {share} THEN '{name}'" for name, share in PATHS[:-1])
    path_case += f" ELSE '{PATHS[-1][0]}'"
    params = {
        "n": leads,
        "anchor": anchor,
        "start": anchor - dt.timedelta(weeks=12),
        "reps": reps,
        "nreps": len(reps),
        "marketers": marketers,
        "nmarketers": len(marketers),
        "managers": managers,
        "criteria": MQLCriteria.active().pk,
    }
    arrays = {
        "industries": _array(INDUSTRIES),
        "countries": _array(COUNTRIES),
        "sources": _array(SOURCES),
        "reject_reasons": _array(REJECT_REASONS),
        "disqualify_reasons": _array(DISQUALIFY_REASONS),
        "first_names": _array(FIRST_NAMES),
        "last_names": _array(LAST_NAMES),
        "company_words": _array(COMPANY_WORDS),
        "company_kinds": _array(COMPANY_KINDS),
        "kinds": _array(KIND_SLOTS),
        "unpromoted_kinds": _array(UNPROMOTED_SLOTS),
        "promoting": "ARRAY["
        + ", ".join("[" + ", ".join(f"'{k}'" for k in row) + "]" for row in PROMOTING)
        + "]::text[]",
    }

    def run(label, sql, **extra):
        started = time.perf_counter()
        text = sql.format(path_case=path_case) if "{path_case}" in sql else sql
        for name, literal in arrays.items():
            text = text.replace(f"%({name})s", literal)
        with connection.cursor() as cursor:
            cursor.execute(text, {**params, **extra})
            rows = cursor.rowcount
        say(f"  {label}: {rows:,} rows in {time.perf_counter() - started:.1f} s")

    with transaction.atomic(), connection.cursor() as cursor:
        # Bulk load: no per-row trigger (foreign-key checks, the SLA queue's and the review
        # queue counts' triggers); both are filled below with the triggers' own statements.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        # Compiling these long expressions costs more than running them.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute("DROP TABLE IF EXISTS bench_plan")
        indexes = _secondary_indexes(cursor, ["leads_lead", "leads_engagement"])
        statistics = _index_statistics(cursor, [name for name, _ in indexes])
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        run("plan", PLAN_SQL)
        run("leads", LEADS_SQL)
        run("engagements", ENGAGEMENTS_SQL)
        run("scores", SCORES_SQL)
        run("transitions", TRANSITIONS_SQL)
        run("qualifications", QUALIFICATIONS_SQL)
        run("SLA events", SLA_EVENTS_SQL)
        run("notifications", NOTIFICATIONS_SQL)
        for statement in triggers.RESYNC:
            run("SLA check queue", statement)
        for statement in lead_triggers.RESYNC:
            run("review queue counts", statement)
        started = time.perf_counter()
        for _name, definition in indexes:
            cursor.execute(definition)
        for name, column, target in statistics:  # e.g. the search index's finer sample
            cursor.execute(f'ALTER INDEX "{name}" ALTER COLUMN {column} SET STATISTICS {target}')
        say(f"  indexes rebuilt in {time.perf_counter() - started:.1f} s")
        cursor.execute("DROP TABLE bench_plan")
        for table, column in SEQUENCES:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                f"(SELECT COALESCE(MAX({column}), 0) + 1 FROM {table}), false)"
            )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    say(f"  VACUUM ANALYZE in {time.perf_counter() - started:.1f} s")
    return {"team": team, "seconds": round(time.perf_counter() - began, 1)}


def _secondary_indexes(cursor, tables: list[str]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the indexes of ``tables`` that back no constraint."""
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        [tables],
    )
    return cursor.fetchall()


def _index_statistics(cursor, names: list[str]) -> list[tuple[str, int, int]]:
    """(index, column number, statistics target) set on the columns of the indexes ``names``."""
    cursor.execute(
        """
        SELECT c.relname, a.attnum, a.attstattarget FROM pg_class c
        JOIN pg_attribute a ON a.attrelid = c.oid
        WHERE c.relname = ANY(%s) AND c.relkind = 'i' AND a.attstattarget > 0
        """,
        [names],
    )
    return cursor.fetchall()
