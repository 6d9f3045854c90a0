"""A real local HTTP receiver (chat webhook stand-in) and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from payledger.bench.postgres import free_port
from payledger.sandbox.d365.tls import write_self_signed_certificate

WEBHOOK_TOKEN = "T0SECRET/B0SECRET/xoxSecretWebhookToken"
SMTP_PASSWORD = "smtp-Pa55word-never-logged"


@dataclass
class Receiver:
    """Records every POST; answers with ``status`` (change it to make deliveries fail)."""

    url: str
    status: int = 200
    posts: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    found = Receiver(url=f"http://127.0.0.1:{port}/services/{WEBHOOK_TOKEN}")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            found.paths.append(self.path)
            found.posts.append(json.loads(body))
            self.send_response(found.status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_args: Any) -> None:
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class Mailbox:
    host: str
    port: int
    certificate: Path
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)


class _Collect:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        self.box.messages.append(parsed)  # type: ignore[arg-type]
        self.box.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[Mailbox]:
    """An SMTP server that wants STARTTLS and a login (user ``alerts``, ``SMTP_PASSWORD``)."""
    certificate, key = write_self_signed_certificate(tmp_path / "smtp-tls")
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(certificate, key)
    box = Mailbox(host="127.0.0.1", port=free_port(), certificate=certificate)

    def authenticate(_server: Any, _session: Any, _envelope: Any, mechanism: str, data: Any):
        ok = (
            isinstance(data, LoginPassword)
            and data.login == b"alerts"
            and data.password == SMTP_PASSWORD.encode()
        )
        if ok:
            box.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)

    controller = Controller(
        _Collect(box),
        hostname=box.host,
        port=box.port,
        tls_context=server_tls,
        require_starttls=True,
        authenticator=authenticate,
    )
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
