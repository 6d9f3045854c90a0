"""Order to cash: the ERP's sales desk, payledger's shop orders, the card gateway."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from payledger.domain.charges import CardSource
from payledger.domain.events import PaymentObserved
from payledger.domain.shop_orders import ErpReferences, ShopOrder, ShopOrderRecord
from payledger.flows.ports.customers import ErpCustomer


@dataclass(frozen=True)
class ErpOrder:
    """A sales order as the ERP holds it."""

    number: str
    customer_account: str
    line_numbers: frozenset[int] = frozenset()
    """Line numbers it already has (lines are added once each)."""


class SalesDesk(Protocol):
    """The ERP's customers and sales orders as order to cash sees them."""

    async def customer(self, account: str) -> ErpCustomer | None: ...

    async def customer_with_gateway_id(self, gateway_id: str) -> ErpCustomer | None: ...

    async def customer_with_email(self, email: str) -> ErpCustomer | None: ...

    async def create_customer(self, record: Mapping[str, Any], *, email: str) -> str:
        """Create a customer (exactly once per e-mail address); returns its account."""
        ...

    async def set_gateway_id(self, account: str, gateway_id: str) -> None:
        """Write the gateway customer id (the token) to the customer."""
        ...

    async def order(self, reference: str) -> ErpOrder | None:
        """The sales order whose customer's order reference is ``reference``."""
        ...

    async def create_order(self, header: Mapping[str, Any]) -> str:
        """Create a sales order header (exactly once per order reference); returns its number."""
        ...

    async def add_order_lines(self, lines: Sequence[Mapping[str, Any]]) -> None:
        """Add lines to an order, all or none."""
        ...

    async def update_order_payment(self, number: str, header: Mapping[str, Any]) -> None:
        """Write the payment fields of a mapped ``header`` to an existing order."""
        ...


class ShopOrderStore(Protocol):
    """Shop orders as payledger keeps them (see ``stores.shop_orders``)."""

    async def claim(self, order: ShopOrder, *, client: str) -> ShopOrderRecord | None:
        """None when API ``client`` may charge now; else the order as it stands (which may
        be another client's order under the same id; a declined order is claimed again only
        by its own client)."""
        ...

    async def release(self, reference: str) -> None: ...

    async def take_over(self, reference: str, *, stale_before: datetime) -> datetime | None:
        """Take over an order claimed for charging before ``stale_before``; returns when it
        was claimed, or None when it is not that stale (someone is still charging it)."""
        ...

    async def declined(self, record: ShopOrderRecord) -> None: ...

    async def accepted(
        self,
        record: ShopOrderRecord,
        event: PaymentObserved | None,
        *,
        source: str,
        run_at: datetime,
    ) -> ShopOrderRecord:
        """Store the charged order, the job that completes it, and the payment's event."""
        ...

    async def get(self, reference: str) -> ShopOrderRecord | None: ...

    async def completed(
        self,
        record: ShopOrderRecord,
        erp: ErpReferences,
        *,
        event_fields: Mapping[str, str],
        inline: bool,
    ) -> ShopOrderRecord: ...

    async def failed(self, record: ShopOrderRecord, error: str) -> None:
        """Park a paid order (pending or failed before) with the reason it is not in the ERP."""
        ...


class OrderGateway(Protocol):
    """The payment gateway charging a shop order's card.

    Raises:
        RejectedError: the gateway refused the request (unknown customer profile, bad card data).
        AmbiguousOutcome: the answer was lost and the lookup could not settle it.
        TransientError: the gateway surely did not act; try again later.
    """

    source_name: str
    """The inbox source its payments are recorded under (the poller's)."""

    async def charge_order(
        self, order: ShopOrder, card: CardSource, *, capture: bool, request: Mapping[str, Any]
    ) -> PaymentObserved:
        """A sale (``capture``) or an authorization of the order's total, with the business
        fields of ``request`` (mapped by the charge request template; the gateway adds the
        payment method); a decline is an answer, not an error. The event id is the one the
        gateway's poller gives it."""
        ...

    async def find_order_charge(self, order: ShopOrder, since: datetime) -> PaymentObserved | None:
        """The order's latest sale or authorization made since ``since`` (found by its order
        id and total), or None."""
        ...
