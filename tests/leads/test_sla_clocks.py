"""Which SLA deadline a lead runs against, and the "due soon" window: one rule, used everywhere."""

import datetime as dt

import pytest
from django.utils import timezone

from apps.leads.filters import DUE_SOON, SLA_CHOICES, deadline_state
from apps.leads.models import Lead, Stage
from tests.factories import LeadFactory
from tests.leads.helpers import walk_to

H = dt.timedelta(hours=1)
NOW = dt.datetime(2026, 5, 20, 12, tzinfo=dt.UTC)


def clocks(stage):
    return Lead(
        stage=stage,
        accept_remind_at=NOW + 20 * H,
        accept_due_at=NOW + 24 * H,
        process_remind_at=NOW + 44 * H,
        process_due_at=NOW + 48 * H,
    )


@pytest.mark.parametrize(
    ("stage", "deadline"),
    [(Stage.MQL, NOW + 24 * H), (Stage.ACCEPTED, NOW + 48 * H)]
    + [(stage, None) for stage in Stage if stage not in (Stage.MQL, Stage.ACCEPTED)],
)
def test_an_mql_runs_against_accept_by_an_accepted_lead_against_process_by(stage, deadline):
    assert clocks(stage).running_deadline == deadline


def test_the_next_check_is_the_first_moment_of_the_running_clocks_still_ahead():
    mql, accepted = clocks(Stage.MQL), clocks(Stage.ACCEPTED)
    assert mql.next_sla_check(after=NOW) == NOW + 20 * H
    assert mql.next_sla_check(after=NOW + 21 * H) == NOW + 24 * H
    assert accepted.next_sla_check(after=NOW) == NOW + 44 * H
    assert accepted.next_sla_check(after=NOW + 48 * H) is None
    assert clocks(Stage.SQL).next_sla_check(after=NOW) is None


@pytest.mark.parametrize(
    ("deadline", "state"),
    [
        (None, "none"),
        (NOW - H, "overdue"),
        (NOW, "overdue"),
        (NOW + DUE_SOON, "due_soon"),
        (NOW + DUE_SOON + dt.timedelta(seconds=1), "on_time"),
    ],
)
def test_a_deadline_is_due_soon_within_the_window(deadline, state):
    assert deadline_state(deadline, NOW) == state


def test_the_filter_names_the_same_window():
    hours = int(DUE_SOON.total_seconds() // 3600)
    assert str(dict(SLA_CHOICES)["due_soon"]) == f"Due within {hours} hours"


@pytest.mark.django_db
def test_the_pages_hand_the_window_to_the_countdowns(client, marketer):
    client.force_login(marketer)
    body = client.get("/leads/").content.decode()
    assert f'data-due-soon-seconds="{int(DUE_SOON.total_seconds())}"' in body


@pytest.mark.django_db
def test_the_list_and_the_lead_page_show_the_running_deadline(client, marketer, manager, rep):
    lead = walk_to(LeadFactory(), "accepted", marketer=marketer, manager=manager)
    client.force_login(manager)
    due = timezone.localtime(lead.process_due_at).isoformat()

    listed = client.get("/leads/", {"stage": "accepted"}).content.decode()
    page = client.get(f"/leads/{lead.pk}/")

    assert f'datetime="{due}"' in listed
    assert page.context["sla_state"] == deadline_state(lead.process_due_at, timezone.now())
