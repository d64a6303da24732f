"""A real HTTP receiver on 127.0.0.1, in a thread, that verifies every signature it gets."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    verified: bool
    error: str = ""

    @property
    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each POST with the next scripted (status, body, delay), then with ``status``."""

    secret: str | None = None
    status: int = 204
    script: list[tuple[int, bytes, float]] = field(default_factory=list)
    headers: dict = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                verified, error = False, ""
                if receiver.secret:
                    try:
                        Webhook(receiver.secret).verify(body, headers)
                        verified = True
                    except WebhookVerificationError as exc:
                        error = str(exc)
                with receiver.lock:
                    status, answer, delay = (
                        receiver.script.pop(0) if receiver.script else (receiver.status, b"ok", 0)
                    )
                    receiver.received.append(Received(self.path, headers, body, verified, error))
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    for key, value in receiver.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass  # the sender gave up waiting

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/leadflow"

    def events(self) -> list[dict]:
        with self.lock:
            return [r.json for r in self.received]

    def all_verified(self) -> bool:
        with self.lock:
            return all(r.verified for r in self.received)
