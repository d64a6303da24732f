"""In-app notifications: the list, the unread count, marking as read; emails in the recipient's language."""

import datetime as dt
import zoneinfo

import pytest
from django.core import mail

from apps.sla.models import Notification
from apps.sla.services import sla_sweep
from tests.factories import LeadFactory
from tests.leads.helpers import walk_to

pytestmark = pytest.mark.django_db


def aikos_mql(marketer, manager):
    """Aiko Tanaka's lead, walked to MQL (and so to the rep) through the lifecycle."""
    return walk_to(
        LeadFactory(first_name="Aiko", last_name="Tanaka"),
        "mql",
        marketer=marketer,
        manager=manager,
    )


def swept(marketer, manager, capture_on_commit, *, hours):
    """Aiko's MQL, then a sweep ``hours`` after its promotion: ``mail.outbox`` holds that sweep's emails only."""
    with capture_on_commit(execute=True):
        lead = aikos_mql(marketer, manager)
    mail.outbox.clear()
    with capture_on_commit(execute=True):
        sla_sweep(now=lead.mql_at + dt.timedelta(hours=hours))
    return lead


@pytest.fixture
def reminded(marketer, manager, rep, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        lead = aikos_mql(marketer, manager)
        sla_sweep(now=lead.mql_at + dt.timedelta(hours=21))
    return lead


def test_the_list_shows_what_happened_unread_styled(client, rep, reminded):
    client.force_login(rep)
    body = client.get("/notifications/").content.decode()
    assert "Reminder: accept or reject Aiko Tanaka" in body
    assert "New MQL for you: Aiko Tanaka" in body
    assert body.count(" is-unread") == 2


def test_the_header_counts_unread_notifications(client, rep, reminded):
    client.force_login(rep)
    page = client.get("/notifications/").content.decode()
    assert '<span class="badge">2</span>' in page


def test_marking_one_as_read_lowers_the_count(client, rep, reminded):
    client.force_login(rep)
    notification = Notification.objects.filter(recipient=rep, kind="reminder").get()
    response = client.post(f"/notifications/{notification.pk}/read/")
    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert '<span class="badge">1</span>' in client.get("/notifications/").content.decode()


@pytest.mark.parametrize(
    "target, lands_on",
    [
        ("/leads/{pk}/", "/leads/{pk}/"),
        ("https://evil.example/phish", "/notifications/"),
        ("//evil.example/phish", "/notifications/"),
        ("javascript:alert(1)", "/notifications/"),
    ],
    ids=["own_page", "other_site", "scheme_relative", "script"],
)
def test_marking_read_goes_back_only_to_a_page_of_this_site(
    client, rep, reminded, target, lands_on
):
    client.force_login(rep)
    notification = Notification.objects.filter(recipient=rep, kind="reminder").get()

    response = client.post(
        f"/notifications/{notification.pk}/read/", {"next": target.format(pk=reminded.pk)}
    )

    assert response.status_code == 302
    assert response["Location"] == lands_on.format(pk=reminded.pk)


def test_mark_all_as_read(client, rep, reminded):
    client.force_login(rep)
    client.post("/notifications/read-all/")
    assert not Notification.objects.filter(recipient=rep, read_at__isnull=True).exists()


def test_nobody_can_read_someone_elses_notification(client, rep, other_rep, reminded):
    assert reminded.owner == rep
    client.force_login(other_rep)
    notification = Notification.objects.filter(recipient=rep).first()
    assert client.post(f"/notifications/{notification.pk}/read/").status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_marking_read_needs_a_post(client, rep, reminded):
    client.force_login(rep)
    notification = Notification.objects.filter(recipient=rep).first()
    assert client.get(f"/notifications/{notification.pk}/read/").status_code == 405


def test_anonymous_and_roleless_users_see_no_notifications(client, nobody):
    assert client.get("/notifications/").status_code == 302
    client.force_login(nobody)
    assert client.get("/notifications/").status_code == 403


def test_emails_go_out_in_the_recipients_language(
    marketer, manager, rep, django_capture_on_commit_callbacks
):
    rep.language = "ja"
    rep.save()
    swept(marketer, manager, django_capture_on_commit_callbacks, hours=25)
    to_rep = next(m for m in mail.outbox if m.to == [rep.email])
    to_manager = next(m for m in mail.outbox if m.to == [manager.email])
    assert "期限" in to_rep.body  # Japanese for the missed deadline
    assert "Escalation" in to_manager.body


def test_the_notifications_page_has_the_same_header_sections_as_every_page(client, rep):
    client.force_login(rep)
    body = client.get("/notifications/").content.decode()
    assert 'href="/leads/inbox/"' in body and 'href="/leads/"' in body


def test_emails_show_deadlines_in_the_recipients_time_zone(
    marketer, manager, rep, django_capture_on_commit_callbacks
):
    rep.time_zone = "Asia/Tokyo"
    rep.save()
    lead = swept(marketer, manager, django_capture_on_commit_callbacks, hours=21)
    reminder = next(m for m in mail.outbox if m.to == [rep.email])
    tokyo = lead.accept_due_at.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
    utc = lead.accept_due_at.astimezone(dt.UTC)
    assert f"{tokyo:%H:%M}" in reminder.body
    assert f"{utc:%H:%M}" not in reminder.body
