"""A rep whose lead is reassigned away hears of it; the notification filters fit the user's roles."""

import datetime as dt

import pytest

from apps.criteria.models import SLAPolicy
from apps.leads.services import history_replay, lead_transition
from apps.outbox.models import OutboxMessage
from apps.sla.models import Notification
from apps.sla.services import notification_message, sla_sweep
from tests.factories import LeadFactory
from tests.leads.helpers import form_values, walk_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def mql(marketer, manager, rep):
    lead = walk_to(
        LeadFactory(first_name="Aiko", company="Kumo"), "mql", marketer=marketer, manager=manager
    )
    assert lead.owner == rep
    return lead


def reassign(lead, *, to, by):
    return lead_transition(
        lead=lead.pk,
        name="reassign",
        actor=by,
        values=form_values("reassign", {"owner": to.username}),
    )


def test_the_rep_a_manager_takes_a_lead_from_is_told_in_the_app_and_by_email(
    client, mql, rep, other_rep, manager
):
    row = reassign(mql, to=other_rep, by=manager)
    told = Notification.objects.get(recipient=rep, kind="reassigned_away")
    assert told.lead_id == mql.pk and told.transition_id == row.pk
    # Like the other news of a rep's own leads, it is emailed too.
    assert OutboxMessage.objects.filter(key=f"notification:{told.pk}").exists()
    # The new owner hears of a new MQL; the manager who did it, of nothing.
    assert Notification.objects.filter(recipient=other_rep, kind="new_mql", lead=mql).exists()
    assert not Notification.objects.filter(recipient=manager, kind="reassigned_away").exists()
    client.force_login(rep)
    body = client.get("/notifications/?kind=reassigned_away").content.decode()
    assert "Aiko" in body and "was reassigned to oscar" in body and "no longer yours" in body


def test_a_breach_reassignment_tells_the_rep_who_missed_it(mql, rep, other_rep):
    policy = SLAPolicy.load()
    policy.reassign_on_breach = True
    policy.save()
    sla_sweep(now=mql.mql_at + dt.timedelta(hours=25))
    mql.refresh_from_db()
    assert mql.owner == other_rep
    told = Notification.objects.get(recipient=rep, kind="reassigned_away")
    assert told.transition.actor is None and told.transition.reason == "accept_sla_missed"
    assert "after its deadline was missed" in notification_message(told)


def test_replayed_history_tells_nobody(mql, rep, other_rep, manager):
    with history_replay():
        reassign(mql, to=other_rep, by=manager)
    assert not Notification.objects.filter(kind="reassigned_away").exists()


def test_the_kind_filters_list_only_what_the_users_roles_receive(client, rep, marketer, manager):
    client.force_login(rep)
    body = client.get("/notifications/").content.decode()
    assert "?kind=reassigned_away" in body and "?kind=new_mql" in body
    assert "?kind=mql_rejected" not in body and "?kind=webhook_failing" not in body
    assert "?kind=escalation" not in body
    client.force_login(marketer)
    body = client.get("/notifications/").content.decode()
    assert "?kind=mql_rejected" in body and "?kind=new_mql" not in body
    client.force_login(manager)
    body = client.get("/notifications/").content.decode()
    assert "?kind=escalation" in body and "?kind=reassigned_away" in body
    assert "?kind=mql_rejected" not in body


def test_the_former_owners_unread_reminders_of_the_lead_are_marked_read(
    mql, rep, other_rep, marketer, manager
):
    reminder = Notification.objects.create(recipient=rep, kind="reminder", lead=mql)
    other_lead = walk_to(LeadFactory(company="Other"), "mql", marketer=marketer, manager=manager)
    elsewhere = Notification.objects.create(recipient=rep, kind="reminder", lead=other_lead)
    new_mql = Notification.objects.get(recipient=rep, kind="new_mql", lead=mql)

    row = reassign(mql, to=other_rep, by=manager)

    reminder.refresh_from_db()
    assert reminder.read_at == row.at
    elsewhere.refresh_from_db()
    new_mql.refresh_from_db()
    assert elsewhere.read_at is None and new_mql.read_at is None  # only the lead's reminders
    assert Notification.objects.get(recipient=rep, kind="reassigned_away").read_at is None


def test_the_new_owners_reminders_of_the_lead_stay_unread(mql, rep, other_rep, manager):
    theirs = Notification.objects.create(recipient=other_rep, kind="reminder", lead=mql)
    reassign(mql, to=other_rep, by=manager)
    theirs.refresh_from_db()
    assert theirs.read_at is None
