"""Where webhooks may go, and the one function that sends them (SPEC §7, issue 15).

An endpoint URL is checked when it is saved and again at every delivery: its
host must resolve only to public addresses (no loopback, private, link-local,
carrier-grade NAT, multicast or reserved ranges, which covers the cloud
metadata address 169.254.169.254), unless an operator lists the host in
``WEBHOOK_ALLOWED_HOSTS``. The request then goes to the very address that was
checked (no second lookup that a rebinding DNS server could answer differently),
with a timeout, without following redirects, reading at most
``WEBHOOK_RESPONSE_LIMIT_BYTES`` of the answer.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class UnsafeURL(ValueError):
    """A URL webhooks may not be sent to; the message says why, fit to show an admin."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def _allowed_host(host: str) -> bool:
    return host.lower() in {h.lower().strip("[]") for h in settings.WEBHOOK_ALLOWED_HOSTS}


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def webhook_target(url: str, *, resolve=socket.getaddrinfo) -> Target:
    """Check ``url`` and resolve its host; raises ``UnsafeURL`` when webhooks may not go there."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeURL(_("This is not a valid URL.")) from None
    scheme = parts.scheme.lower()
    allowed_schemes = ("https",) if settings.WEBHOOK_REQUIRE_HTTPS else ("https", "http")
    if scheme not in allowed_schemes:
        raise UnsafeURL(
            _("Webhook URLs must start with https://.")
            if settings.WEBHOOK_REQUIRE_HTTPS
            else _("Webhook URLs must start with https:// or http://.")
        )
    if parts.username or parts.password:
        raise UnsafeURL(_("Webhook URLs may not carry a user name or password."))
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeURL(_("This URL names no host."))
    port = port or (443 if scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        infos = resolve(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeURL(_("The host %(host)s could not be resolved.") % {"host": host}) from None
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise UnsafeURL(_("The host %(host)s could not be resolved.") % {"host": host})
    if not _allowed_host(host):
        refused = [a for a in addresses if not _is_public(a)]
        if refused:
            raise UnsafeURL(
                _(
                    "%(host)s resolves to %(address)s, a loopback, private, link-local or "
                    "reserved address; webhooks only go to public addresses unless an operator "
                    "allows the host (WEBHOOK_ALLOWED_HOSTS)."
                )
                % {"host": host, "address": refused[0]}
            )
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=addresses)


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes  # at most WEBHOOK_RESPONSE_LIMIT_BYTES
    latency_ms: int


class _PinnedConnection(http.client.HTTPConnection):
    """Connects to an address checked beforehand, not to whatever the host resolves to now."""

    def __init__(self, target: Target, address: str, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedTLSConnection(_PinnedConnection):
    def connect(self):
        super().connect()
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(self.sock, server_hostname=self.host)


def webhook_post(url: str, *, body: bytes, headers: dict[str, str]) -> Response:
    """POST ``body`` to ``url`` after checking it; raises ``UnsafeURL`` or ``OSError``.

    Redirects are answers like any other (a 3xx is not a success and is not followed).
    """
    target = webhook_target(url)
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    limit = settings.WEBHOOK_RESPONSE_LIMIT_BYTES
    connection_class = _PinnedTLSConnection if target.scheme == "https" else _PinnedConnection
    started = time.monotonic()
    connection = connection_class(target, target.addresses[0], timeout)
    try:
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "Leadflow-Webhooks/1",
                **headers,
            },
        )
        answer = connection.getresponse()
        received = b""
        # Read in pieces, so a receiver that trickles its answer cannot hold a worker forever.
        while len(received) < limit and time.monotonic() - started < timeout:
            chunk = answer.read1(limit - len(received)) if hasattr(answer, "read1") else b""
            if not chunk:
                break
            received += chunk
        status = answer.status
    finally:
        connection.close()
    return Response(
        status=status, body=received, latency_ms=int((time.monotonic() - started) * 1000)
    )
