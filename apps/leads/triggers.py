"""The database triggers that keep ``RejectionCount``: the review queue's bars, unfiltered.

The bars count every unarchived rejected lead by reason (SPEC §7's review queue); at 1M
leads that is 180,000 rows read on every load of the marketers' landing page. These
triggers move the count of a reason by one whenever a lead enters or leaves that set
(a reject, recycle, resubmit or disqualify; an archive; a reason changed; an insert or a
delete), whoever writes the lead: a transition, the admin, an import. Migration
``leads.0011`` installs them and counts the leads already rejected. PostgreSQL only: on
SQLite (the embedded default, small by nature) the bars are counted as they are read.
"""

# The set counted: the review queue's own (``rejected_for_review``, lead_review_idx).
_IN_QUEUE = "{row}.stage = 'rejected' AND {row}.archived_at IS NULL"

POSTGRESQL = [
    f"""
    CREATE OR REPLACE FUNCTION leads_rejection_count() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' AND {_IN_QUEUE.format(row="OLD")} THEN
            UPDATE leads_rejectioncount SET leads = leads - 1
            WHERE reason = COALESCE(OLD.last_reject_reason, '');
        END IF;
        IF TG_OP <> 'DELETE' AND {_IN_QUEUE.format(row="NEW")} THEN
            INSERT INTO leads_rejectioncount (reason, leads)
            VALUES (COALESCE(NEW.last_reject_reason, ''), 1)
            ON CONFLICT (reason) DO UPDATE SET leads = leads_rejectioncount.leads + 1;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    f"""
    CREATE TRIGGER leads_rejection_count_insert AFTER INSERT ON leads_lead
    FOR EACH ROW WHEN ({_IN_QUEUE.format(row="NEW")})
    EXECUTE FUNCTION leads_rejection_count()
    """,
    # Only the columns that decide the set and the reason: a score or a profile update
    # (intake, imports) is not even looked at.
    """
    CREATE TRIGGER leads_rejection_count_update
    AFTER UPDATE OF stage, archived_at, last_reject_reason ON leads_lead
    FOR EACH ROW WHEN (
        OLD.stage IS DISTINCT FROM NEW.stage
        OR OLD.archived_at IS DISTINCT FROM NEW.archived_at
        OR OLD.last_reject_reason IS DISTINCT FROM NEW.last_reject_reason
    )
    EXECUTE FUNCTION leads_rejection_count()
    """,
    f"""
    CREATE TRIGGER leads_rejection_count_delete AFTER DELETE ON leads_lead
    FOR EACH ROW WHEN ({_IN_QUEUE.format(row="OLD")})
    EXECUTE FUNCTION leads_rejection_count()
    """,
    """
    CREATE OR REPLACE FUNCTION leads_rejection_count_clear() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM leads_rejectioncount;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER leads_rejection_count_truncate AFTER TRUNCATE ON leads_lead
    FOR EACH STATEMENT EXECUTE FUNCTION leads_rejection_count_clear()
    """,
]
DROP = [
    "DROP TRIGGER IF EXISTS leads_rejection_count_truncate ON leads_lead",
    "DROP TRIGGER IF EXISTS leads_rejection_count_delete ON leads_lead",
    "DROP TRIGGER IF EXISTS leads_rejection_count_update ON leads_lead",
    "DROP TRIGGER IF EXISTS leads_rejection_count_insert ON leads_lead",
    "DROP FUNCTION IF EXISTS leads_rejection_count_clear()",
    "DROP FUNCTION IF EXISTS leads_rejection_count()",
]
# Every reason counted afresh from the lead rows (after a load made with triggers off).
RESYNC = [
    "DELETE FROM leads_rejectioncount",
    "INSERT INTO leads_rejectioncount (reason, leads) "
    "SELECT COALESCE(last_reject_reason, ''), COUNT(*) FROM leads_lead "
    f"WHERE {_IN_QUEUE.format(row='leads_lead')} GROUP BY 1",
]


def install(apps, schema_editor) -> None:
    """Create the triggers and count the leads already rejected (a migration step; PostgreSQL only)."""
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            for statement in DROP + POSTGRESQL + RESYNC:
                cursor.execute(statement)


def uninstall(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            for statement in DROP:
                cursor.execute(statement)
