"""Fakes of the customer ports (ERP customers, gateway customer profiles) that record writes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, final

from payledger.domain import Address, Customer
from payledger.flows.ports import (
    CustomerDirectory,
    CustomerProfiles,
    ErpCustomer,
    GatewayProfile,
)

ID_FIELD, SYNC_FIELD, AUTO_PAY_FIELD = "PayTraceCustomerId", "PayTraceSync", "PayTraceAutoPay"


@final
class FakeCustomerDirectory(CustomerDirectory):
    """ERP customers as rows (D365 field names); ``updates`` and ``created`` record writes."""

    def __init__(self, *rows: dict[str, Any]) -> None:
        self.rows = {row["CustomerAccount"]: dict(row) for row in rows}
        self.updates: list[tuple[str, dict[str, Any]]] = []
        self.created: list[dict[str, Any]] = []
        self._next = 900

    def _customer(self, row: Mapping[str, Any]) -> ErpCustomer:
        return ErpCustomer(
            account=row["CustomerAccount"],
            gateway_id=row.get(ID_FIELD, ""),
            flagged=row.get(SYNC_FIELD) == "Yes",
            on_hold=row.get("OnHoldStatus", "No"),
            auto_pay=row.get(AUTO_PAY_FIELD) == "Yes",
            row=dict(row),
        )

    async def customers_in_scope(self) -> list[ErpCustomer]:
        return [
            self._customer(row)
            for row in self.rows.values()
            if row.get(SYNC_FIELD) == "Yes" or row.get(ID_FIELD)
        ]

    async def customer(self, account: str) -> ErpCustomer | None:
        row = self.rows.get(account)
        return self._customer(row) if row else None

    async def update_customer(self, account: str, changes: Mapping[str, Any]) -> None:
        self.updates.append((account, dict(changes)))
        self.rows[account].update(changes)

    async def create_customer(self, record: Mapping[str, Any], gateway_id: str) -> str:
        self._next += 1
        account = f"US-{self._next}"
        self.rows[account] = {**record, "CustomerAccount": account}
        self.created.append(self.rows[account])
        return account

    async def disable_auto_pay(self, account: str) -> None:
        await self.update_customer(account, {AUTO_PAY_FIELD: "No"})


def profile(
    customer_id: str,
    name: str,
    *,
    email: str = "",
    phone: str = "",
    street: str = "",
    city: str = "",
    account: str = "",
) -> GatewayProfile:
    """A profile as the PayTrace adapter would read it (flat fields, canonical customer)."""
    fields = {
        "billing_address.name": name,
        "billing_address.street_address": street,
        "billing_address.city": city,
        "email": email,
        "phone": phone,
    }
    if account:
        fields["discretionary_data.D365 Customer"] = account
    customer = Customer(
        name=name,
        gateway_customer_id=customer_id,
        email=email,
        phone=phone,
        billing_address=Address((street,) if street else (), city),
    )
    return GatewayProfile(customer_id, customer, fields, masked_card="xxxxxxxxxxxx5439")


@final
class FakeCustomerProfiles(CustomerProfiles):
    """Gateway profiles; ``updates`` records writes, ``recurring`` active schedules per id."""

    def __init__(self, *profiles: GatewayProfile, recurring: dict[str, int] | None = None) -> None:
        self.by_id = {p.customer_id: p for p in profiles}
        self.updates: list[tuple[str, dict[str, Any]]] = []
        self.recurring = dict(recurring or {})

    async def profiles(self) -> list[GatewayProfile]:
        return list(self.by_id.values())

    async def update_profile(self, profile: GatewayProfile, changes: Mapping[str, Any]) -> None:
        self.updates.append((profile.customer_id, dict(changes)))
        current = self.by_id[profile.customer_id]
        self.by_id[profile.customer_id] = replace(current, fields={**current.fields, **changes})

    async def stop_recurring(self, customer_id: str) -> int:
        return self.recurring.pop(customer_id, 0)
