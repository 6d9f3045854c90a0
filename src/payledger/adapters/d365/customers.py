"""The customer sync's ``CustomerDirectory`` port on ``CustomersV3`` in one company.

Which customers are in scope, and where the PayTrace id, the sync flag and the auto-pay flag
live, are extension fields named in the configuration (``[d365.fields]``); the two flags are
F&O ``NoYes`` enums.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from payledger.adapters.d365.client import D365Client
from payledger.adapters.d365.odata import EnumValue, Filter, ODataQuery, any_of
from payledger.adapters.d365.odata import field as odata_field
from payledger.flows.ports import ErpCustomer

YES, NO = EnumValue("NoYes", "Yes"), EnumValue("NoYes", "No")


@dataclass(frozen=True)
class CustomerFields:
    """Extension fields on customers; an empty name means the environment has none."""

    gateway_id: str = "PayTraceCustomerId"
    sync: str = "PayTraceSync"
    auto_pay: str = "PayTraceAutoPay"


class D365CustomerDirectory:
    """Implements ``flows.ports.CustomerDirectory`` with a :class:`D365Client`."""

    def __init__(
        self,
        client: D365Client,
        *,
        company: str,
        entity_set: str = "CustomersV3",
        fields: CustomerFields | None = None,
    ) -> None:
        self.client = client
        self.company = company
        self.entity_set = entity_set
        self.fields = fields or CustomerFields()

    def _query(self) -> ODataQuery:
        return ODataQuery(self.entity_set).where(odata_field("dataAreaId").eq(self.company))

    def translate(self, row: Mapping[str, Any]) -> ErpCustomer:
        f = self.fields
        return ErpCustomer(
            account=str(row["CustomerAccount"]),
            gateway_id=str(row.get(f.gateway_id) or "") if f.gateway_id else "",
            flagged=bool(f.sync) and row.get(f.sync) == YES.member,
            on_hold=str(row.get("OnHoldStatus") or "No"),
            auto_pay=bool(f.auto_pay) and row.get(f.auto_pay) == YES.member,
            row=dict(row),
        )

    async def customers_in_scope(self) -> list[ErpCustomer]:
        conditions: list[Filter] = []
        if self.fields.sync:
            conditions.append(odata_field(self.fields.sync).eq(YES))
        if self.fields.gateway_id:
            conditions.append(odata_field(self.fields.gateway_id).ne(""))
        if not conditions:
            return []
        rows = await self.client.collect(self._query().where(any_of(*conditions)))
        return [self.translate(row) for row in rows]

    async def customer(self, account: str) -> ErpCustomer | None:
        row = await self.client.first(
            self._query().where(odata_field("CustomerAccount").eq(account))
        )
        return self.translate(row) if row else None

    async def customer_with_gateway_id(self, gateway_id: str) -> ErpCustomer | None:
        if not self.fields.gateway_id:
            return None
        row = await self.client.first(
            self._query().where(odata_field(self.fields.gateway_id).eq(gateway_id))
        )
        return self.translate(row) if row else None

    async def update_customer(self, account: str, changes: Mapping[str, Any]) -> None:
        key = {"dataAreaId": self.company, "CustomerAccount": account}
        await self.client.update(self.entity_set, key, dict(changes))

    async def create_customer(self, record: Mapping[str, Any], gateway_id: str) -> str:
        """Create once: after a lost answer the customer is looked up by its PayTrace id."""
        if not self.fields.gateway_id:
            created = await self.client.create(self.entity_set, record)
            return str(created["CustomerAccount"])
        natural_key = self._query().where(odata_field(self.fields.gateway_id).eq(gateway_id))
        created = await self.client.create_once(self.entity_set, record, natural_key)
        return str(created["CustomerAccount"])

    async def disable_auto_pay(self, account: str) -> None:
        if self.fields.auto_pay:
            await self.update_customer(account, {self.fields.auto_pay: NO.member})
