"""The database triggers that feed the SLA sweep's work queue (``SLACheck``).

The lifecycle schedules the sweep by writing ``Lead.sla_next_check_at``, whoever writes
it: a transition, the admin, a set-based import or a benchmark's generator. These
triggers copy each such write of the lead row into ``sla_slacheck`` (and delete the row
when the column is cleared), so the sweep reads and moves on narrow rows of its own
instead of rewriting wide lead rows, each rewrite leaving a dead entry in every lead
index. Migration ``sla.0003`` installs them; on SQLite, where rebuilding the lead table
(as some schema changes do) drops its triggers, the sweep puts them back.
"""

POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION sla_check_schedule() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.sla_next_check_at IS NULL THEN
            DELETE FROM sla_slacheck WHERE lead_id = NEW.id;
        ELSE
            INSERT INTO sla_slacheck (lead_id, next_check_at)
            VALUES (NEW.id, NEW.sla_next_check_at)
            ON CONFLICT (lead_id) DO UPDATE SET next_check_at = EXCLUDED.next_check_at;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER sla_check_schedule_insert AFTER INSERT ON leads_lead
    FOR EACH ROW WHEN (NEW.sla_next_check_at IS NOT NULL)
    EXECUTE FUNCTION sla_check_schedule()
    """,
    """
    CREATE TRIGGER sla_check_schedule_update AFTER UPDATE OF sla_next_check_at ON leads_lead
    FOR EACH ROW EXECUTE FUNCTION sla_check_schedule()
    """,
]
SQLITE = [
    """
    CREATE TRIGGER sla_check_schedule_insert AFTER INSERT ON leads_lead
    WHEN NEW.sla_next_check_at IS NOT NULL
    BEGIN
        INSERT INTO sla_slacheck (lead_id, next_check_at) VALUES (NEW.id, NEW.sla_next_check_at)
        ON CONFLICT (lead_id) DO UPDATE SET next_check_at = excluded.next_check_at;
    END
    """,
    """
    CREATE TRIGGER sla_check_schedule_update AFTER UPDATE OF sla_next_check_at ON leads_lead
    BEGIN
        DELETE FROM sla_slacheck WHERE lead_id = NEW.id AND NEW.sla_next_check_at IS NULL;
        INSERT INTO sla_slacheck (lead_id, next_check_at)
        SELECT NEW.id, NEW.sla_next_check_at WHERE NEW.sla_next_check_at IS NOT NULL
        ON CONFLICT (lead_id) DO UPDATE SET next_check_at = excluded.next_check_at;
    END
    """,
]
DROP = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS sla_check_schedule_update ON leads_lead",
        "DROP TRIGGER IF EXISTS sla_check_schedule_insert ON leads_lead",
        "DROP FUNCTION IF EXISTS sla_check_schedule()",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS sla_check_schedule_update",
        "DROP TRIGGER IF EXISTS sla_check_schedule_insert",
    ],
}
# Every running clock scheduled afresh from the lead rows (a check made twice is harmless:
# each reminder and breach is claimed once).
RESYNC = [
    "DELETE FROM sla_slacheck WHERE lead_id NOT IN "
    "(SELECT id FROM leads_lead WHERE sla_next_check_at IS NOT NULL)",
    "INSERT INTO sla_slacheck (lead_id, next_check_at) "
    "SELECT id, sla_next_check_at FROM leads_lead WHERE sla_next_check_at IS NOT NULL "
    "ON CONFLICT (lead_id) DO UPDATE SET next_check_at = excluded.next_check_at",
]
TRIGGER_NAMES = ("sla_check_schedule_insert", "sla_check_schedule_update")


def install(cursor, vendor: str) -> None:
    """Create the triggers and schedule every running clock (``cursor``: any DB-API cursor)."""
    statements = {"postgresql": POSTGRESQL, "sqlite": SQLITE}.get(vendor)
    if statements is None:
        raise NotImplementedError(
            f"The SLA sweep's triggers are written for PostgreSQL and SQLite, not {vendor}."
        )
    for statement in DROP[vendor] + statements + RESYNC:
        cursor.execute(statement)


def uninstall(cursor, vendor: str) -> None:
    for statement in DROP.get(vendor, []):
        cursor.execute(statement)


def ensure_installed(connection) -> bool:
    """On SQLite, put the triggers back if a rebuild of the lead table dropped them.

    Returns True when they had to be reinstalled. PostgreSQL keeps triggers across
    schema changes; nothing is checked there.
    """
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name IN (%s, %s)",
            TRIGGER_NAMES,
        )
        if cursor.fetchone()[0] == len(TRIGGER_NAMES):
            return False
        install(cursor, "sqlite")
    return True
