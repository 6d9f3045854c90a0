"""Customer and token sync: the ERP's customers and the gateway's customer profiles."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from payledger.domain.model import Customer


@dataclass(frozen=True)
class ErpCustomer:
    """A customer as the ERP holds it, with the raw row the sync templates read and compare."""

    account: str
    gateway_id: str
    """The gateway (PayTrace) customer id on the customer; empty when none."""
    flagged: bool
    """Flagged for sync."""
    on_hold: str
    """The ERP's block status (``No``, ``Invoice``, ``All``, ...)."""
    auto_pay: bool
    row: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GatewayProfile:
    """A gateway customer profile (a token on file), never with card data."""

    customer_id: str
    customer: Customer
    """The profile as a canonical customer (name, contact, billing address, its id)."""
    fields: Mapping[str, Any] = field(default_factory=dict)
    """Current values, flat (``billing_address.city``), in the profile template's shape."""
    masked_card: str = ""


class CustomerDirectory(Protocol):
    """The ERP's customers as the customer sync sees them."""

    async def customers_in_scope(self) -> list[ErpCustomer]:
        """Customers flagged for sync or carrying a gateway customer id."""
        ...

    async def customer(self, account: str) -> ErpCustomer | None: ...

    async def update_customer(self, account: str, changes: Mapping[str, Any]) -> None: ...

    async def create_customer(self, record: Mapping[str, Any], gateway_id: str) -> str:
        """Create a customer (exactly once per ``gateway_id``); returns its account."""
        ...

    async def disable_auto_pay(self, account: str) -> None: ...


class CustomerProfiles(Protocol):
    """The gateway's customer profiles: the cards and bank accounts it keeps on file."""

    async def profiles(self) -> list[GatewayProfile]: ...

    async def update_profile(self, profile: GatewayProfile, changes: Mapping[str, Any]) -> None:
        """Write flat ``changes`` (``billing_address.city``, ``discretionary_data.<title>``)."""
        ...

    async def stop_recurring(self, customer_id: str) -> int:
        """Stop the profile's recurring payments; returns how many were active."""
        ...
