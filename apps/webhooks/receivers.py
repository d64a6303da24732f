"""Changes elsewhere become events, in the transaction that makes them (never for replays)."""

from django.contrib.auth import get_user_model
from django.dispatch import receiver

from apps.leads.models import Lead
from apps.leads.services import lead_created, leads_created, transition_recorded
from apps.leads.transitions import TRANSITIONS
from apps.reports.services import dashboard_url, weekly_report_published
from apps.sla.models import SLAEvent, SLAEventKind
from apps.sla.services import sla_events_recorded
from apps.webhooks import events as vocabulary
from apps.webhooks.models import Event
from apps.webhooks.services import EventRow, event_record, events_record, events_record_rows
from leadflow.rows import values_rows

REMINDERS = {SLAEventKind.ACCEPT_REMINDER, SLAEventKind.PROCESS_REMINDER}
ACCEPT_CLOCK = {SLAEventKind.ACCEPT_REMINDER, SLAEventKind.ACCEPT_BREACH}


def _lead_created_event(lead: Lead) -> Event:
    """The (unsaved) ``lead.created`` event of ``lead``, for one new lead or an import's set."""
    return Event(
        type=vocabulary.LEAD_CREATED,
        occurred_at=lead.created_at,
        lead=lead,
        body=vocabulary.as_json({"lead": vocabulary.lead_data(lead)}),
    )


@receiver(lead_created)
def lead_created_event(sender, lead, replay=False, **kwargs):
    if replay:
        return
    events_record(events=[_lead_created_event(lead)])


@receiver(leads_created)
def leads_created_events(sender, ids, **kwargs):
    """``lead.created`` for each lead of a set-based import, written in its transaction.

    Plain rows, as the sweep's events: an import tells of thousands of leads at once.
    """
    paths = vocabulary.lead_data_paths()
    for start in range(0, len(ids), 1000):
        rows = values_rows(
            Lead.objects.filter(pk__in=ids[start : start + 1000]).order_by("pk"),
            ["pk", "created_at", *paths],
        )
        bodies = vocabulary.lead_data_from_rows([row[2:] for row in rows])
        events_record_rows(
            rows=[
                EventRow(
                    type=vocabulary.LEAD_CREATED,
                    occurred_at=row[1],
                    lead_id=row[0],
                    body={"lead": body},
                )
                for row, body in zip(rows, bodies, strict=True)
            ]
        )


@receiver(transition_recorded)
def transition_event(sender, transition, replay=False, **kwargs):
    # Replayed history (demo data) is news to nobody.
    if replay:
        return
    lead = transition.lead
    event_record(
        type=TRANSITIONS[transition.transition].event_type,
        lead=lead,
        body={
            "lead": vocabulary.lead_data(lead),
            "transition": vocabulary.transition_data(transition),
            "deadlines": vocabulary.deadlines_data(lead),
        },
        at=transition.at,
    )


@receiver(sla_events_recorded)
def sla_events(sender, event_ids, **kwargs):
    # Plain rows, not models: a sweep batch tells of hundreds at once. One read gives each
    # event with its lead; the bodies are the serializer's, built without it (``events``).
    lead_paths = [f"lead__{path}" for path in vocabulary.lead_data_paths()]
    rows = values_rows(
        SLAEvent.objects.filter(pk__in=event_ids).order_by("pk"),
        [
            "lead_id",
            "kind",
            "deadline",
            "created_at",
            f"owner__{get_user_model().USERNAME_FIELD}",
            "lead__accept_due_at",
            "lead__process_due_at",
            *lead_paths,
        ],
    )
    leads = vocabulary.lead_data_from_rows([row[7:] for row in rows])
    json_datetime = vocabulary.json_datetime
    events_record_rows(
        rows=[
            EventRow(
                type=vocabulary.SLA_REMINDER if kind in REMINDERS else vocabulary.SLA_BREACHED,
                occurred_at=created_at,
                lead_id=lead_id,
                body={
                    "lead": lead,
                    "sla": {
                        "kind": kind,
                        "clock": "accept" if kind in ACCEPT_CLOCK else "process",
                        "deadline": json_datetime(deadline),
                        "owner": owner,
                    },
                    "deadlines": {
                        "accept_due_at": json_datetime(accept_due_at),
                        "process_due_at": json_datetime(process_due_at),
                    },
                },
            )
            for (
                lead_id,
                kind,
                deadline,
                created_at,
                owner,
                accept_due_at,
                process_due_at,
            ), lead in zip((row[:7] for row in rows), leads, strict=True)
        ]
    )


@receiver(weekly_report_published)
def weekly_report_event(sender, report, **kwargs):
    event_record(
        type=vocabulary.REPORT_WEEKLY,
        body={"report": report.document, "url": dashboard_url()},
    )
