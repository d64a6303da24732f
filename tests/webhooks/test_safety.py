"""Webhooks never go to loopback, private, link-local or metadata addresses unless allowed."""

import socket

import pytest

from apps.leads.services import lead_upsert
from apps.webhooks import events as vocabulary
from apps.webhooks.models import WebhookAttempt, WebhookEndpoint
from apps.webhooks.safety import UnsafeURL, webhook_target

pytestmark = pytest.mark.django_db


def resolving_to(*addresses):
    def resolve(host, port, type=None):
        family = {True: socket.AF_INET6, False: socket.AF_INET}
        return [(family[":" in a], socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    return resolve


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",  # the cloud metadata service
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fd00:ec2::254",
        "fe80::1",
        "::ffff:127.0.0.1",
    ],
)
def test_a_host_resolving_to_a_non_public_address_is_refused(address):
    with pytest.raises(UnsafeURL, match="loopback, private, link-local"):
        webhook_target("https://hooks.example.com/x", resolve=resolving_to(address))


def test_one_private_address_among_public_ones_is_enough_to_refuse():
    with pytest.raises(UnsafeURL):
        webhook_target("https://a.example/", resolve=resolving_to("93.184.216.34", "10.0.0.1"))


def test_a_public_address_is_taken_and_pinned():
    target = webhook_target(
        "https://hooks.example.com:8443/in?x=1", resolve=resolving_to("93.184.216.34")
    )
    assert (target.host, target.port, target.path) == ("hooks.example.com", 8443, "/in?x=1")
    assert target.addresses == ("93.184.216.34",)


def test_an_operator_allows_an_internal_host(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["hooks.internal"]
    target = webhook_target("http://hooks.internal/x", resolve=resolving_to("10.0.0.5"))
    assert target.addresses == ("10.0.0.5",)


def test_production_wants_https(settings):
    settings.WEBHOOK_REQUIRE_HTTPS = True
    with pytest.raises(UnsafeURL, match="https://"):
        webhook_target("http://hooks.example.com/", resolve=resolving_to("93.184.216.34"))
    settings.WEBHOOK_REQUIRE_HTTPS = False
    webhook_target("http://hooks.example.com/", resolve=resolving_to("93.184.216.34"))


@pytest.mark.parametrize(
    "url", ["ftp://hooks.example.com/", "https://user:pw@hooks.example.com/", "https:///x"]
)
def test_other_schemes_credentials_and_missing_hosts_are_refused(url):
    with pytest.raises(UnsafeURL):
        webhook_target(url, resolve=resolving_to("93.184.216.34"))


def test_a_private_url_is_refused_when_the_admin_saves_it(client, admin_user, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    client.force_login(admin_user)
    for url in ("http://localhost:9000/hook", "http://169.254.169.254/latest/meta-data/"):
        response = client.post(
            "/admin/webhooks/webhookendpoint/add/",
            {
                "name": "Sneaky",
                "url": url,
                "kind": "generic",
                "event_types": ["lead.created"],
                "active": "on",
            },
        )
        assert response.status_code == 200
        assert "loopback, private, link-local" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_a_private_address_is_refused_at_delivery_too(
    receiver, settings, django_capture_on_commit_callbacks
):
    # Saved while allowed (or while its name resolved elsewhere); checked again at delivery.
    WebhookEndpoint.objects.create(
        name="Moved", url=receiver.url, event_types=list(vocabulary.EVENT_TYPES)
    )
    settings.WEBHOOK_ALLOWED_HOSTS = []
    with django_capture_on_commit_callbacks(execute=True):
        lead_upsert(email="ssrf@example.com", values={"source": "website"})
    attempt = WebhookAttempt.objects.get()
    assert not attempt.ok and attempt.status_code is None
    assert attempt.error.startswith("Refused:") and "127.0.0.1" in attempt.error
    assert receiver.received == []
