"""Fakes of the order-to-cash ports: a card gateway, the ERP's sales desk, the order store,
the operators' alerts.

Each records what it was told and takes dlt-style fault knobs (``fail_next``, ``delay``).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, final

from payledger.domain.charges import CardSource, StoredCard
from payledger.domain.events import PaymentObserved
from payledger.domain.model import Outcome, Payment, PaymentKind, PaymentStatus, PaymentToken
from payledger.domain.shop_orders import ErpReferences, ShopOrder, ShopOrderRecord, ShopOrderStatus
from payledger.flows.ports import (
    ErpCustomer,
    ErpOrder,
    OperatorAlerts,
    OrderGateway,
    SalesDesk,
    ShopOrderStore,
)

DECLINED_TOTAL = "1.12"


@final
class FakeOrderGateway(OrderGateway):
    """Approves every charge except totals of 1.12 (declined "Do not honor")."""

    source_name = "paytrace"

    def __init__(self, fail_next: list[Exception] | None = None) -> None:
        self.charges: list[tuple[str, CardSource, bool]] = []
        self.requests: list[Mapping[str, Any]] = []
        """The request of each charge, as the flow mapped it."""
        self.made: dict[str, PaymentObserved] = {}
        """Charges the gateway holds, by order id (what a lookup finds)."""
        self.lookups: list[str] = []
        self._ids = itertools.count(5001)
        self._fail_next = list(fail_next or [])

    async def charge_order(
        self, order: ShopOrder, card: CardSource, *, capture: bool, request: Mapping[str, Any]
    ) -> PaymentObserved:
        if self._fail_next:
            raise self._fail_next.pop(0)
        self.charges.append((order.reference, card, capture))
        self.requests.append(request)
        declined = str(order.total.amount) == DECLINED_TOTAL
        vault_id = card.customer_id if isinstance(card, StoredCard) else ""
        payment = Payment(
            gateway_txn_id=str(next(self._ids)),
            kind=PaymentKind.SALE if capture else PaymentKind.AUTHORIZATION,
            status=PaymentStatus.DECLINED if declined else PaymentStatus.APPROVED,
            amount=order.total,
            occurred_at=datetime(2026, 3, 24, 17, 0, tzinfo=UTC),
            outcome=Outcome.SOFT_DECLINE if declined else Outcome.APPROVED,
            response_code="102" if declined else "101",
            message="DECLINE - Do not honor" if declined else "Approved.",
            customer=replace(order.order.customer, gateway_customer_id=vault_id),
            token=PaymentToken("", "xxxxxxxxxxxx5439"),
            order_ref=order.reference,
            auth_code="" if declined else "TAS445",
        )
        key = f"paytrace:{payment.gateway_txn_id}:{payment.kind.value}:{payment.status.value}"
        observed = PaymentObserved(key, payment)
        self.made[order.reference] = observed
        return observed

    async def find_order_charge(self, order: ShopOrder, since: datetime) -> PaymentObserved | None:
        self.lookups.append(order.reference)
        return self.made.get(order.reference)


@dataclass
@final
class FakeSalesDesk(SalesDesk):
    """ERP customers (by account) and orders (by reference) in memory."""

    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    lines: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    fail_next: list[Exception] = field(default_factory=list)
    delay: float = 0.0
    """Seconds every call takes (a slow ERP)."""
    calls: list[str] = field(default_factory=list)
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def _call(self, name: str) -> None:
        self.calls.append(name)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_next:
            raise self.fail_next.pop(0)

    def _customer(self, row: dict[str, Any]) -> ErpCustomer:
        return ErpCustomer(
            row["CustomerAccount"], row.get("PayTraceCustomerId", ""), True, "No", False, row
        )

    async def customer(self, account: str) -> ErpCustomer | None:
        await self._call("customer")
        row = self.customers.get(account)
        return self._customer(row) if row else None

    async def customer_with_gateway_id(self, gateway_id: str) -> ErpCustomer | None:
        await self._call("customer_with_gateway_id")
        found = [r for r in self.customers.values() if r.get("PayTraceCustomerId") == gateway_id]
        return self._customer(found[0]) if found else None

    async def customer_with_email(self, email: str) -> ErpCustomer | None:
        await self._call("customer_with_email")
        found = [r for r in self.customers.values() if r.get("PrimaryContactEmail") == email]
        return self._customer(found[0]) if found else None

    async def create_customer(self, record: Mapping[str, Any], *, email: str) -> str:
        await self._call("create_customer")
        account = f"WEB-{len(self.customers) + 1:03d}"
        self.customers[account] = {**record, "CustomerAccount": account}
        return account

    async def set_gateway_id(self, account: str, gateway_id: str) -> None:
        await self._call("set_gateway_id")
        self.customers[account]["PayTraceCustomerId"] = gateway_id

    async def order(self, reference: str) -> ErpOrder | None:
        await self._call("order")
        header = self.orders.get(reference)
        if header is None:
            return None
        number = header["SalesOrderNumber"]
        have = frozenset(int(line["LineNumber"]) for line in self.lines.get(number, []))
        return ErpOrder(number, header["OrderingCustomerAccountNumber"], have)

    async def create_order(self, header: Mapping[str, Any]) -> str:
        await self._call("create_order")
        number = f"SO-{next(self._numbers):04d}"
        self.orders[header["CustomersOrderReference"]] = {**header, "SalesOrderNumber": number}
        return number

    async def add_order_lines(self, lines: Sequence[Mapping[str, Any]]) -> None:
        await self._call("add_order_lines")
        for line in lines:
            self.lines.setdefault(line["SalesOrderNumber"], []).append(dict(line))

    async def update_order_payment(self, number: str, header: Mapping[str, Any]) -> None:
        await self._call("update_order_payment")
        for order in self.orders.values():
            if order["SalesOrderNumber"] == number:
                order["PaymentStatus"] = header.get("PaymentStatus")


@final
class FakeShopOrderStore(ShopOrderStore):
    """Order records by reference; ``events`` holds recorded payment events, ``jobs`` the
    completion jobs (reference → due time), ``event_fields`` what each event was given."""

    def __init__(self) -> None:
        self.records: dict[str, ShopOrderRecord] = {}
        self.events: dict[int, PaymentObserved] = {}
        self.event_fields: dict[int, dict[str, str]] = {}
        self.jobs: dict[str, datetime] = {}
        self.jobs_done_inline: list[str] = []
        self.claimed_at: dict[str, datetime] = {}
        """When each order was claimed for charging (set by a test to make a claim stale)."""

    async def claim(self, order: ShopOrder, *, client: str) -> ShopOrderRecord | None:
        known = self.records.get(order.reference)
        if known is not None and (
            known.status is not ShopOrderStatus.DECLINED or not known.belongs_to(client)
        ):
            return known
        self.records[order.reference] = ShopOrderRecord(
            ShopOrderStatus.CHARGING, order, client=client
        )
        return None

    async def release(self, reference: str) -> None:
        del self.records[reference]

    async def take_over(self, reference: str, *, stale_before: datetime) -> datetime | None:
        claimed = self.claimed_at.get(reference, stale_before)
        if claimed >= stale_before:
            return None
        self.claimed_at[reference] = stale_before
        return claimed

    async def declined(self, record: ShopOrderRecord) -> None:
        self.records[record.reference] = record

    async def accepted(
        self,
        record: ShopOrderRecord,
        event: PaymentObserved | None,
        *,
        source: str,
        run_at: datetime,
    ) -> ShopOrderRecord:
        event_id = None
        if event is not None:
            event_id = len(self.events) + 1
            self.events[event_id] = event
        self.jobs[record.reference] = run_at
        stored = replace(
            record, status=ShopOrderStatus.PENDING, payment_event=event_id, job=len(self.jobs)
        )
        self.records[record.reference] = stored
        return stored

    async def get(self, reference: str) -> ShopOrderRecord | None:
        return self.records.get(reference)

    async def completed(
        self,
        record: ShopOrderRecord,
        erp: ErpReferences,
        *,
        event_fields: Mapping[str, str],
        inline: bool,
    ) -> ShopOrderRecord:
        if record.payment_event is not None:
            self.event_fields[record.payment_event] = dict(event_fields)
        if inline:
            self.jobs_done_inline.append(record.reference)
        done = replace(record, status=ShopOrderStatus.COMPLETED, erp=erp, error="")
        self.records[record.reference] = done
        return done

    async def failed(self, record: ShopOrderRecord, error: str) -> None:
        self.records[record.reference] = replace(record, status=ShopOrderStatus.FAILED, error=error)


@dataclass
@final
class FakeAlerts(OperatorAlerts):
    """Records every alert occurrence: ``(key, title, text, severity, facts)``."""

    sent: list[tuple[str, str, str, str, dict[str, object]]] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)

    async def notify(
        self,
        key: str,
        title: str,
        text: str,
        *,
        severity: str = "warning",
        facts: Mapping[str, object] | None = None,
    ) -> None:
        self.sent.append((key, title, text, severity, dict(facts or {})))

    async def clear(self, key: str) -> None:
        self.cleared.append(key)

    def keys(self) -> list[str]:
        return [key for key, *_ in self.sent]
