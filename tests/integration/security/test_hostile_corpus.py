"""Hundreds of hostile requests against every route of the service (API, both webhooks and the
console) with both sandboxes behind it, on SQLite and PostgreSQL: nothing is answered with a
5xx, nothing carrying card data is accepted, and afterwards no canary card number is in the
database, the log file, PayTrace or D365."""

from __future__ import annotations

import base64
import itertools
import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from payledger.adapters.db.scan import scan_database
from payledger.adapters.db.tables import metadata
from payledger.bootstrap import Container
from payledger.domain.card_data import find_card_numbers
from payledger.stores.api_clients import ApiClients
from payledger.web.app import create_app
from payledger.web.signatures import sign
from tests.integration.o2c.conftest import (
    drain,
    o2c_settings,
    open_container,
    order_body,
)
from tests.integration.security.corpus import CANARIES, Probe, probes

WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"hostile-corpus-webhook-key-0001").decode()
EVENT_KEY = "business-event-key-for-the-corpus"
BASE = "https://payledger.test"
serials = itertools.count(1)


@pytest.fixture
async def container(database_url, tmp_path, stage, log_file) -> AsyncIterator[Container]:
    built = await open_container(o2c_settings(database_url, tmp_path, stage))
    await built.vault.set("paytrace-webhook-secret", WEBHOOK_SECRET, actor="test")
    await built.vault.set(built.settings.api.business_events_secret, EVENT_KEY, actor="test")
    yield built
    await built.aclose()


def templates() -> dict[str, Any]:
    def order() -> dict[str, Any]:
        return order_body(f"HOST-{next(serials):05d}")

    def payment() -> dict[str, Any]:
        return {
            "invoice": "CIV-000817",
            "amount": "5.00",
            "capture": True,
            "payment_method": {"type": "vault_customer", "customer_id": "corpus-customer"},
        }

    def business_event() -> dict[str, Any]:
        serial = next(serials)
        return {
            "BusinessEventId": "SalesInvoicePostedBusinessEvent",
            "EventId": f"corpus-{serial}",
            "ControlNumber": serial,
            "LegalEntity": "usmf",
            "InvoiceId": "CIV-000817",
            "InvoiceAccount": "US-001",
        }

    def hint() -> dict[str, Any]:
        return {"type": "transaction.created", "data": {"transaction_id": next(serials)}}

    def subscription() -> dict[str, Any]:
        return {
            "customer_account": "US-003",
            "vault_customer_id": "corpus-customer",
            "plan": {"amount": "5.00", "currency": "USD", "description": "Corpus plan"},
            "interval": {"unit": "month"},
        }

    def subscription_change() -> dict[str, Any]:
        return {"plan": {"amount": "5.00", "currency": "USD", "description": "Corpus plan"}}

    return {
        "orders": order,
        "payments": payment,
        "subscriptions": subscription,
        "subscription_change": subscription_change,
        "business_events": business_event,
        "paytrace_webhook": hint,
    }


class Sender:
    """Sends probes as their sender would: a shop with a token, D365 with its key, PayTrace's
    relay with a signature, an operator signed in to the console."""

    def __init__(self, http: httpx.AsyncClient, token: str, csrf: str) -> None:
        self.http = http
        self.token = token
        self.csrf = csrf

    async def send(self, probe: Probe) -> httpx.Response:
        options = dict(probe.options)
        given = options.pop("headers", {})
        extra = options.pop("extra_headers", False)
        pairs = list(given) if extra else list(given.items())
        names = {name.lower() for name, _ in pairs}
        content = options.get("content", b"")
        if probe.needs == "api" and probe.path.startswith("/api/"):
            if "authorization" not in names or extra:
                pairs.append(("authorization", f"Bearer {self.token}"))
            if probe.method in ("POST", "PATCH") and "idempotency-key" not in names:
                pairs.append(("idempotency-key", str(uuid.uuid4())))
        if probe.path.startswith("/webhooks/d365"):
            pairs.append(("x-payledger-key", EVENT_KEY))
        if probe.path == "/webhooks/paytrace" and "webhook-signature" not in names:
            pairs += self._signature(content, given if not extra else {})
        if "data" in options:
            options["data"] = {
                k: (self.csrf if v == "{csrf}" else v) for k, v in options["data"].items()
            }
        raw = [(name.encode(), _header_bytes(value)) for name, value in pairs]
        return await self.http.request(probe.method, probe.path, headers=raw, **options)

    @staticmethod
    def _signature(content: bytes, given: dict[str, str]) -> list[tuple[str, str]]:
        message_id = given.get("webhook-id", f"msg_corpus_{next(serials):06d}")
        stamp = int(time.time())
        signature = sign(WEBHOOK_SECRET, message_id, stamp, content)
        pairs = [("webhook-timestamp", str(stamp)), ("webhook-signature", signature)]
        return pairs if "webhook-id" in given else [("webhook-id", message_id), *pairs]


def _header_bytes(value: str) -> bytes:
    """Latin-1 where it fits (HTTP's own reading), else UTF-8 bytes as a client might send."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


async def signed_in(http: httpx.AsyncClient, container: Container) -> tuple[str, str]:
    """(API token, console CSRF token): one client allowed everything the probes try."""
    async with container.database.transaction() as conn:
        issued = await ApiClients(container.clock).issue(
            conn, "corpus", ["orders:write", "payments:write", "read", "operate"], actor="test"
        )
    form = await http.get("/console/login")
    nonce = re.search(r'name="nonce" value="([^"]+)"', form.text)
    assert nonce is not None, form.text
    signed = await http.post(
        "/console/login", data={"token": issued.secret, "nonce": nonce.group(1), "next": ""}
    )
    assert signed.status_code == 303, signed.text
    page = await http.get("/console/dead-letters")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None, page.text
    return issued.secret, csrf.group(1)


def canaries_in(text: str) -> set[str]:
    return set(find_card_numbers(text)) & set(CANARIES)


async def database_text(container: Container) -> str:
    """Every row of every table, as text."""
    dumped = []
    async with container.database.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in await conn.execute(select(table)):
                dumped.append(json.dumps(list(row), default=str, ensure_ascii=False))
    return "\n".join(dumped)


@pytest.mark.slow
async def test_no_hostile_request_gets_a_5xx_or_leaves_card_data_anywhere(
    container,
    stage,
    log_file,
):
    app = create_app(container, embedded_worker=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        token, csrf = await signed_in(http, container)
        sender = Sender(http, token, csrf)
        good = await sender.send(
            Probe("a valid order", "POST", "/api/v1/orders", {"json": order_body("HOST-GOOD")})
        )
        assert good.status_code in (201, 202), good.text
        corpus = list(probes(templates(), {"order": "HOST-GOOD", "payment": "1"}))
        answers = [(probe, await sender.send(probe)) for probe in corpus]
        assert (await sender.send(Probe("still up", "GET", "/healthz"))).status_code == 200
    await drain(container)

    assert len(corpus) >= 300
    server_errors = [
        (p.what, r.status_code, r.text[:200]) for p, r in answers if r.status_code >= 500
    ]
    assert server_errors == [], "\n".join(map(str, server_errors))
    accepted_cards = [
        (p.what, r.status_code) for p, r in answers if p.carries_card and r.status_code < 400
    ]
    assert accepted_cards == [], "\n".join(map(str, accepted_cards))
    leaked = [p.what for p, r in answers if canaries_in(r.text)]
    assert leaked == []

    assert [hit async for hit in scan_database(container.database)] == []
    assert canaries_in(await database_text(container)) == set()
    assert canaries_in(log_file.read_text()) == set()
    assert canaries_in(repr(vars(stage.paytrace.state))) == set()
    assert canaries_in(repr(vars(stage.d365.state))) == set()
