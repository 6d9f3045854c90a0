"""The demo's web shop: orders placed through payledger's own API (``POST /api/v1/orders``),
paid with Protect cards and cards on file, some declined, some during a D365 outage; then
each one checked in D365 (customer, order, lines, payment status) and in the ledger."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from payledger.adapters.d365.odata import Filter, ODataQuery
from payledger.adapters.d365.odata import field as odata_field
from payledger.adapters.paytrace import (
    PayTraceAddress,
    PayTraceCustomerDetails,
    PayTraceEncryptedCard,
)
from payledger.bootstrap import Container, customer_sync_command, customer_sync_parts
from payledger.demo.stage import Stage
from payledger.flows.sync_customers import run_customer_sync
from payledger.sandbox.paytrace import encrypt_field, protect_nonce
from payledger.sandbox.paytrace.demo import TEST_CARD_NUMBERS
from payledger.stores.api_clients import ApiClients
from payledger.web.app import create_app

Say = Callable[[str], None]
ITEMS = {"D0001": "200.00", "D0002": "180.00", "D0003": "220.00", "T0001": "16.50"}
SHOPPERS = (
    ("Nathan Williams", "Spokane", "WA", "99201"),
    ("Ada Lovelace", "Seattle", "WA", "98101"),
    ("Grace Hopper", "Arlington", "VA", "22202"),
    ("Alan Turing", "Portland", "OR", "97205"),
    ("Katherine Johnson", "Hampton", "VA", "23666"),
    ("Edsger Dijkstra", "Austin", "TX", "78701"),
)
VAULTED = {"shop-vault-1": 1, "shop-vault-2": 3}
"""Returning shoppers whose cards the shop keeps at PayTrace: vault id → shopper."""
DECLINE_AMOUNT = "1.12"
"""The PayTrace sandbox declines this amount ("Do not honor")."""


@dataclass
class ShopOrders:
    """What the shop sent and what came back, by order id."""

    answers: dict[str, int] = field(default_factory=dict)
    """HTTP status of each order's first answer."""
    queued: list[str] = field(default_factory=list)
    """Answered 202 (D365 slow or down), to be completed by a worker."""
    seconds: float = 0.0
    latencies: dict[str, float] = field(default_factory=dict)
    """Seconds each order's request took, by order id."""
    retried_without_charge: int = 0
    checked: dict[str, str] = field(default_factory=dict)
    """Order id → "ok" or what is wrong with it in D365."""
    customers_created: int = 0
    lines: int = 0
    synced_ids: int = 0
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The order bodies sent, by order id."""

    def count(self, status: int) -> int:
        return sum(1 for code in self.answers.values() if code == status)

    @property
    def all_ok(self) -> bool:
        return all(result == "ok" for result in self.checked.values())


class ShopFront:
    """Plays the web shop: builds orders and sends them to payledger with an API token."""

    def __init__(self, http: httpx.AsyncClient, seed: int = 23) -> None:
        self.http = http
        self.rng = random.Random(seed)
        self.sent = 0
        self.orders: dict[str, dict[str, Any]] = {}

    def order(
        self, *, payment: dict[str, Any], declined: bool = False, shopper: int | None = None
    ) -> dict[str, Any]:
        self.sent += 1
        chosen = SHOPPERS[shopper] if shopper is not None else self.rng.choice(SHOPPERS)
        name, city, state, postal = chosen
        lines: list[dict[str, Any]]
        if declined:
            lines = [{"item_number": "T0001", "quantity": 1, "unit_price": DECLINE_AMOUNT}]
        else:
            picked = self.rng.sample(sorted(ITEMS), self.rng.randint(1, 3))
            lines = [
                {"item_number": item, "quantity": self.rng.randint(1, 4), "unit_price": ITEMS[item]}
                for item in picked
            ]
        goods = sum((Decimal(line["unit_price"]) * line["quantity"] for line in lines), Decimal(0))
        tax = Decimal(0) if declined else (goods * Decimal("0.08")).quantize(Decimal("0.01"))
        shipping = Decimal(0) if declined or goods > 300 else Decimal("9.90")
        slug = name.split()[0].lower()
        order_id = f"SHOP-{self.sent:04d}"
        body: dict[str, Any] = {
            "order_id": order_id,
            "currency": "USD",
            "customer": {
                "name": name,
                "email": f"{slug}@shop.example",
                "billing_address": {
                    "lines": [f"{self.rng.randint(1, 999)} Main St"],
                    "city": city,
                    "state": state,
                    "postal_code": postal,
                    "country": "US",
                },
            },
            "lines": lines,
            "tax": str(tax),
            "shipping": str(shipping),
            "total": str(goods + tax + shipping),
            "payment": payment,
        }
        self.orders[order_id] = body
        return body

    async def send(self, body: dict[str, Any]) -> httpx.Response:
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        return await self.http.post("/api/v1/orders", json=body, headers=headers)


def protect_card(rng: random.Random) -> dict[str, Any]:
    """What PayTrace Protect.js gives the shop's page; the number never reaches payledger."""
    number = rng.choice(TEST_CARD_NUMBERS)
    nonce = protect_nonce(number, 12, 2030, "999")
    return {"protect": {"hpf_token": nonce.hpf_token, "enc_key": nonce.enc_key}}


async def place_shop_orders(container: Container, stage: Stage, say: Say) -> ShopOrders:
    """23 shop orders through the API: 16 paid, 3 declined, 4 during a D365 outage."""
    result, started = ShopOrders(), time.monotonic()
    async with container.database.transaction() as conn:
        token = await ApiClients(container.clock).issue(
            conn, "demo-shop", ["orders:write", "read"], actor="demo"
        )
    await _vault_cards(container)
    app = create_app(container, embedded_worker=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://payledger.demo",
        headers={"Authorization": f"Bearer {token.secret}"},
    ) as http:
        front = ShopFront(http)
        say("the web shop: 14 orders by Protect card, 2 by card on file, 3 declined")
        for index in range(19):
            if index in (4, 11, 17):
                body = front.order(payment=protect_card(front.rng), declined=True)
            elif index in (6, 13):
                vault_id = sorted(VAULTED)[index % 2]
                payment = {"vault_customer_id": vault_id}
                body = front.order(payment=payment, shopper=VAULTED[vault_id])
            else:
                body = front.order(payment=protect_card(front.rng))
            await _send(front, body, result)
        first = next(o for o, code in result.answers.items() if code == 201)
        again = await front.send(front.orders[first])  # a new key: still one charge
        result.retried_without_charge = int(again.status_code == 201)
        say("D365 goes down: 4 more orders are charged and answered 202, D365 follows later")
        faults = stage.d365.state.faults.settings
        faults.update({"outage": True})
        try:
            for _ in range(4):
                await _send(front, front.order(payment=protect_card(front.rng)), result)
        finally:
            faults.update({"outage": False})
    result.sent = front.orders
    result.seconds = time.monotonic() - started
    return result


async def _send(front: ShopFront, body: dict[str, Any], result: ShopOrders) -> None:
    sent = time.monotonic()
    status = (await front.send(body)).status_code
    result.latencies[body["order_id"]] = time.monotonic() - sent
    result.answers[body["order_id"]] = status
    if status == 202:
        result.queued.append(body["order_id"])


async def _vault_cards(container: Container) -> None:
    """The shop's own vaulting of two returning customers' cards (at PayTrace, not payledger)."""
    paytrace = await container.paytrace_client()
    for customer_id, shopper in VAULTED.items():
        name, city, state, postal = SHOPPERS[shopper]
        details = PayTraceCustomerDetails(
            billing_address=PayTraceAddress(name=name, city=city, state=state, zip=postal),
            email=f"{name.split()[0].lower()}@shop.example",
        )
        card = PayTraceEncryptedCard(
            encrypted_number=encrypt_field(TEST_CARD_NUMBERS[0]),
            expiration_month=12,
            expiration_year=2030,
        )
        await paytrace.create_customer(customer_id, card=card, profile=details)


async def check_shop_orders(container: Container, result: ShopOrders, say: Say) -> None:
    """After the day settled: every order as D365 holds it, and the customer sync."""
    client = await container.d365_client()
    for order_id, body in result.sent.items():
        declined = body["total"] == DECLINE_AMOUNT
        rows = await client.collect(
            _in_usmf("SalesOrderHeadersV2").where(_eq("CustomersOrderReference", order_id))
        )
        result.checked[order_id] = _judge(body, rows, declined)
        if rows and not declined:
            lines = await client.collect(
                _in_usmf("SalesOrderLines").where(
                    _eq("SalesOrderNumber", rows[0]["SalesOrderNumber"])
                )
            )
            result.lines += len(lines)
            if len(lines) != len(body["lines"]):
                result.checked[order_id] = f"{len(lines)} lines, expected {len(body['lines'])}"
    customers = await client.collect(_in_usmf("CustomersV3").select("PrimaryContactEmail"))
    result.customers_created = sum(
        1 for row in customers if str(row["PrimaryContactEmail"]).endswith("@shop.example")
    )
    report = await run_customer_sync(
        customer_sync_command(container.settings), await customer_sync_parts(container)
    )
    result.synced_ids = report.ids_written
    say(
        f"customer sync: {report.paired} D365 customers paired with PayTrace profiles, "
        f"{report.ids_written} ids written back"
    )


def _judge(body: dict[str, Any], rows: list[dict[str, Any]], declined: bool) -> str:
    if declined:
        return "ok" if not rows else "a declined order reached D365"
    if len(rows) != 1:
        return f"{len(rows)} D365 orders"
    header = rows[0]
    if header.get("PaymentStatus") != "Paid":
        return f"payment status {header.get('PaymentStatus')!r}"
    if Decimal(str(header.get("PaymentAmount"))) != Decimal(body["total"]):
        return f"payment amount {header.get('PaymentAmount')} != {body['total']}"
    return "ok"


def _in_usmf(entity_set: str) -> ODataQuery:
    return ODataQuery(entity_set).where(odata_field("dataAreaId").eq("usmf"))


def _eq(name: str, value: str) -> Filter:
    return odata_field(name).eq(value)
