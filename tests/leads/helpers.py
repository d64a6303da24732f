"""Walk leads through the lifecycle the way the product does: only by transitions."""

import datetime as dt

from django.utils import timezone

from apps.leads.services import EngagementInput, engagements_record, lead_transition
from apps.leads.transitions import TRANSITIONS
from tests.factories import LeadFactory

QUALIFYING_BANT = {
    "budget_amount": "25000",
    "budget_currency": "USD",
    "authority": "decision_maker",
    "need": "Replace spreadsheets for lead routing",
    "timeline": (timezone.localdate() + dt.timedelta(days=60)).isoformat(),
}

# (transition, actor role, data) to reach each stage from the previous one.
PATH = {
    "mql": [("promote", "marketer", {"reason": "Asked for a call at the booth"})],
    "accepted": [("accept", "owner", {})],
    "rejected": [("reject", "owner", {"reason": "no_budget"})],
    "sql": [("accept", "owner", {}), ("qualify", "owner", QUALIFYING_BANT)],
    "opportunity": [
        ("accept", "owner", {}),
        ("qualify", "owner", QUALIFYING_BANT),
        (
            "convert",
            "owner",
            {"amount": "30000", "currency": "USD", "expected_close_date": "2027-03-01"},
        ),
    ],
    "won": [],
    "lost": [],
    "disqualified": [("disqualify", "marketer", {"reason": "spam"})],
}


def form_values(name, data=None, *, at=None):
    """What transition ``name``'s form makes of ``data``: the values ``lead_transition`` takes."""
    return TRANSITIONS[name].clean(data, at=at)


def walk_to(lead, stage, *, marketer, manager):
    """Move a ``new`` lead to ``stage`` through real transitions; returns it refreshed."""
    steps = {
        "new": [],
        "mql": PATH["mql"],
        "accepted": PATH["mql"] + [("accept", "manager", {})],
        "rejected": PATH["mql"] + [("reject", "manager", {"reason": "no_budget"})],
        "sql": PATH["mql"] + [("accept", "manager", {}), ("qualify", "manager", QUALIFYING_BANT)],
        "opportunity": PATH["mql"]
        + [
            ("accept", "manager", {}),
            ("qualify", "manager", QUALIFYING_BANT),
            (
                "convert",
                "manager",
                {"amount": "30000", "currency": "USD", "expected_close_date": "2027-03-01"},
            ),
        ],
        "disqualified": PATH["disqualified"],
    }
    steps["won"] = steps["opportunity"] + [("win", "manager", {})]
    steps["lost"] = steps["opportunity"] + [("lose", "manager", {"reason": "Chose a competitor"})]
    actors = {"marketer": marketer, "manager": manager}
    for name, role, data in steps[stage]:
        lead_transition(lead=lead.pk, name=name, actor=actors[role], values=form_values(name, data))
    lead.refresh_from_db()
    assert lead.stage == stage
    return lead


def run_transition(lead, name, *, actor, data=None):
    """``actor`` makes transition ``name`` of ``lead`` with ``data`` as its form takes it; the history row."""
    return lead_transition(lead=lead.pk, name=name, actor=actor, values=form_values(name, data))


def mql_owned_by(owner, *, marketer, manager, **profile):
    """A fresh MQL given to ``owner`` (round-robin first, then a manager's reassign if needed)."""
    lead = walk_to(LeadFactory(**profile), "mql", marketer=marketer, manager=manager)
    if lead.owner_id != owner.pk:
        run_transition(lead, "reassign", actor=manager, data={"owner": owner.username})
        lead.refresh_from_db()
    return lead


def mqls(n, *, marketer, manager):
    """``n`` fresh MQLs, shared out by round-robin."""
    return [walk_to(LeadFactory(), "mql", marketer=marketer, manager=manager) for _ in range(n)]


def engage(lead, *kinds, at=None):
    at = at or timezone.now()
    return engagements_record(
        items=[EngagementInput(lead_id=lead.pk, kind=k, occurred_at=at) for k in kinds]
    )


def run_importer(importer, path, *, skip_invalid=False, dry_run=False, batch_size=2):
    """``imports._import_rowwise`` or ``imports._import_staged`` run on the UTF-8 file ``path``."""
    from apps.leads import imports

    summary = imports.ImportSummary(encoding="utf-8-sig")
    importer(
        path,
        summary,
        imports.active_source_codes(),
        skip_invalid=skip_invalid,
        dry_run=dry_run,
        batch_size=batch_size,
        progress=lambda description, total: imports._NoProgress(),
    )
    return summary
