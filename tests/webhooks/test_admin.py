"""Endpoints in the admin: the secret shown once, a test event, the delivery log and resend."""

import re

import pytest
from django.contrib.auth.models import Permission
from standardwebhooks import Webhook

from apps.leads.services import lead_upsert
from apps.outbox.models import OutboxStatus
from apps.webhooks.models import EndpointKind, WebhookDelivery, WebhookEndpoint
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/webhooks/webhookendpoint/add/"
ENDPOINTS = "/admin/webhooks/webhookendpoint/"
DELIVERIES = "/admin/webhooks/webhookdelivery/"


def admin_action(client, changelist, action, row, **options):
    """Django admin's ``action`` on ``row``, posted as its change list posts it."""
    data = {"action": action, "_selected_action": [row.pk], "index": "0"}
    return client.post(changelist, data, **options)


def test_the_secret_is_shown_once_when_the_endpoint_is_created(client, admin_user, receiver):
    client.force_login(admin_user)
    response = client.post(
        ADD,
        {
            "name": "Warehouse",
            "url": receiver.url,
            "kind": "generic",
            "event_types": ["lead.created", "lead.won"],
            "active": "on",
        },
        follow=True,
    )
    endpoint = WebhookEndpoint.objects.get()
    page = response.content.decode()
    assert endpoint.secret.startswith("whsec_") and endpoint.secret in page
    assert endpoint.event_types == ["lead.created", "lead.won"]
    Webhook(endpoint.secret)  # a secret the Standard Webhooks libraries take
    change = client.get(f"{ENDPOINTS}{endpoint.pk}/change/").content.decode()
    assert endpoint.secret not in change
    assert endpoint.secret not in client.get(ENDPOINTS).content.decode()


def test_a_slack_endpoint_left_without_types_gets_mqls_breaches_and_reports(
    client, admin_user, receiver
):
    client.force_login(admin_user)
    client.post(ADD, {"name": "#sales", "url": receiver.url, "kind": "slack", "active": "on"})
    assert WebhookEndpoint.objects.get().event_types == [
        "lead.promoted",
        "sla.breached",
        "report.weekly",
    ]
    response = client.post(
        ADD, {"name": "Bare", "url": receiver.url, "kind": "generic", "active": "on"}
    )
    assert "Pick at least one event type." in response.content.decode()


def test_send_a_test_event_reaches_the_receiver_signed(
    client, admin_user, receiver, endpoint, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_action(client, ENDPOINTS, "send_test_event", endpoint, follow=True)
    assert "A test event is on its way to 1 endpoint" in response.content.decode()
    (request,) = receiver.received
    assert request.verified and request.json["type"] == "webhook.test"
    log = client.get(DELIVERIES).content.decode()
    assert "webhook.test" in log and "Sent" in log


def test_the_delivery_log_shows_each_attempt_and_resends_a_failed_delivery(
    client, admin_user, receiver, endpoint, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    receiver.script = [(500, b"boom: upstream exploded", 0)]
    with django_capture_on_commit_callbacks(execute=True):
        lead_upsert(email="log@example.com", values={"source": "website"})
    delivery = WebhookDelivery.objects.get()
    assert delivery.message.status == OutboxStatus.FAILED
    client.force_login(admin_user)
    page = client.get(f"{DELIVERIES}{delivery.pk}/change/").content.decode()
    assert "boom: upstream exploded" in page and "500" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_action(client, DELIVERIES, "resend", delivery, follow=True)
    assert "1 delivery queued to be sent again." in response.content.decode()
    delivery.message.refresh_from_db()
    assert delivery.message.status == OutboxStatus.SENT
    assert [r.json["id"] for r in receiver.received] == [delivery.event.public_id] * 2


def test_staff_who_may_only_view_endpoints_cannot_resend_or_send_tests(client, endpoint):
    viewer = UserFactory(username="vic", is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_webhookendpoint"),
        Permission.objects.get(codename="view_webhookdelivery"),
    )
    client.force_login(viewer)
    page = client.get(ENDPOINTS).content.decode()
    assert "send_test_event" not in page and "resume" not in page
    response = admin_action(client, ENDPOINTS, "send_test_event", endpoint)
    assert response.status_code in (200, 302)
    assert not WebhookDelivery.objects.exists()
    assert not re.search(
        r"whsec_", client.get(f"{ENDPOINTS}{endpoint.pk}/change/").content.decode()
    )
    assert EndpointKind.GENERIC == endpoint.kind
