"""The notifications page: by day, unread styled, linked to the lead, filterable by kind."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from apps.sla.models import Notification
from tests.leads.test_ui_inbox import mql_owned_by

pytestmark = pytest.mark.django_db
URL = reverse("sla:list")


@pytest.fixture
def told(team):
    lead = mql_owned_by(
        team["rep"], marketer=team["marketer"], manager=team["manager"], company="Kumo"
    )
    older = Notification.objects.create(recipient=team["rep"], kind="reminder", lead=lead)
    Notification.objects.filter(pk=older.pk).update(
        created_at=timezone.now() - dt.timedelta(days=3)
    )
    return lead


def test_notifications_are_grouped_by_day_newest_first(client, team, told):
    client.force_login(team["rep"])
    body = client.get(URL).content.decode()
    assert body.count('class="notification-day"') == 2
    assert body.index(">Today<") < body.index("kind-new_mql") < body.index("kind-reminder")
    assert "notification(s)" not in body


def test_each_notification_links_to_its_lead_and_opening_marks_it_read(client, team, told):
    client.force_login(team["rep"])
    notification = Notification.objects.filter(recipient=team["rep"], kind="new_mql").get()
    assert reverse("sla:open", args=[notification.pk]) in client.get(URL).content.decode()
    response = client.get(reverse("sla:open", args=[notification.pk]))
    assert response["Location"] == reverse("leads:detail", args=[told.pk])
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_another_users_notification_is_a_404(client, team, told):
    notification = Notification.objects.filter(recipient=team["rep"]).first()
    client.force_login(team["other_rep"])
    assert client.get(reverse("sla:open", args=[notification.pk])).status_code == 404


def test_the_page_filters_by_kind(client, team, told):
    client.force_login(team["rep"])
    body = client.get(URL, {"kind": "reminder"}).content.decode()
    assert body.count('data-testid="notification"') == 1


@pytest.mark.parametrize(
    ("language", "said", "heading"),
    [
        ("en", "There is no kind of notification called “bogus”", ">Notifications</h1>"),
        ("ja", "「bogus」という種類の通知はありません", ">通知</h1>"),
    ],
)
def test_an_unknown_kind_gets_the_page_with_the_filter_error_and_a_400(
    client, team, told, language, said, heading
):
    client.force_login(team["rep"])
    response = client.get(URL, {"kind": "bogus"}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 400
    body = response.content.decode()
    assert said in body and 'role="alert"' in body
    assert heading in body and 'class="nav"' in body  # the normal page, with its navigation
    assert body.count('data-testid="notification"') == 2  # all of them, unfiltered


def test_marking_all_read_speaks_proper_plurals(client, team, told):
    client.force_login(team["rep"])
    response = client.post(reverse("sla:read_all"), follow=True)
    assert "2 notifications marked as read." in response.content.decode()


def test_the_leads_tab_is_not_highlighted_on_the_notifications_page(client, team, told):
    client.force_login(team["rep"])
    body = client.get(URL).content.decode()
    assert 'href="/leads/" aria-current="page"' not in body
    assert 'aria-current="page"><svg' in body  # the bell is


def test_a_minute_old_notification_reads_in_minutes_not_zero(client, team, told):
    client.force_login(team["rep"])
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        body = client.get(URL).content.decode()
    assert "5\xa0minutes ago" in body
    assert "0\xa0minutes" not in body
