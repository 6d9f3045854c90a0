"""The posting flows' ``Ledger`` port on D365 F&O: lookups, journals and batched writes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from payledger.adapters.d365.batch import BatchRequest, ChangeSetResponse
from payledger.adapters.d365.errors import SYSTEM
from payledger.adapters.d365.ledger import D365Ledger
from payledger.adapters.d365.odata import ODataQuery, any_of, key_path
from payledger.adapters.d365.odata import field as odata_field
from payledger.domain.model import Payment
from payledger.domain.posting import Posting

V = TypeVar("V")


@dataclass
class WriteResult:
    lines_error: str | None = None
    failed: dict[str, str] = field(default_factory=dict)


class _TtlCache(Generic[V]):
    """Answers of ERP lookups kept ``ttl`` seconds (customers and orders change rarely)."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._values: dict[str, tuple[float, V]] = {}

    def get(self, key: str) -> tuple[bool, V | None]:
        hit = self._values.get(key)
        if hit is None or time.monotonic() - hit[0] > self.ttl:
            return False, None
        return True, hit[1]

    def put(self, key: str, value: V) -> None:
        self._values[key] = (time.monotonic(), value)


Row = dict[str, Any]


class GatheredLookups:
    """Lookups of one kind asked for at about the same time (the flows of a processing batch
    run side by side) become one ``K eq 'a' or K eq 'b' ...`` query of up to ``most`` keys,
    instead of one request each. Keys compare as D365 compares strings: ignoring case."""

    def __init__(
        self,
        fetch: Callable[[list[str]], Awaitable[list[Row]]],
        key_field: str,
        *,
        most: int = 40,
        window_s: float = 0.005,
    ) -> None:
        self._fetch = fetch
        self._key_field = key_field
        self._most = most
        self._window_s = window_s
        self._waiting: dict[str, asyncio.Future[Row | None]] = {}
        self._running: set[asyncio.Task[None]] = set()

    async def get(self, key: str) -> Row | None:
        future = self._waiting.get(key.casefold())
        if future is None:
            loop = asyncio.get_running_loop()
            if not self._waiting:
                loop.call_later(self._window_s, self._dispatch)
            future = self._waiting[key.casefold()] = loop.create_future()
        return await asyncio.shield(future)  # one caller giving up does not fail the others

    def _dispatch(self) -> None:
        waiting, self._waiting = list(self._waiting.items()), {}
        for start in range(0, len(waiting), self._most):
            task = asyncio.ensure_future(self._look_up(dict(waiting[start : start + self._most])))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _look_up(self, futures: dict[str, asyncio.Future[Row | None]]) -> None:
        try:
            rows = await self._fetch(list(futures))
        except Exception as exc:
            for future in futures.values():
                if not future.done():
                    future.set_exception(exc)
            return
        found: dict[str, Row] = {}
        for row in rows:
            found.setdefault(str(row.get(self._key_field, "")).casefold(), row)
        for key, future in futures.items():
            if not future.done():
                future.set_result(found.get(key))


class D365PostingLedger:
    """Implements ``flows.ports.Ledger`` with one $batch request per write."""

    def __init__(self, ledger: D365Ledger, *, lookup_ttl: float = 300.0) -> None:
        self.ledger = ledger
        self.client = ledger.client
        self.settings = ledger.settings
        self.sets = ledger.sets
        self._customers: _TtlCache[str | None] = _TtlCache(lookup_ttl)
        self._orders: _TtlCache[str | None] = _TtlCache(lookup_ttl)
        self._rows: _TtlCache[dict[str, Any] | None] = _TtlCache(lookup_ttl)
        self._gathered = {
            need: GatheredLookups(self._fetcher(entity_set, key_field), key_field)
            for need, (entity_set, key_field) in {
                "d365_customer": (self.sets.customers, "CustomerAccount"),
                "d365_order": (self.sets.sales_orders, "CustomersOrderReference"),
                "d365_invoice": (self.sets.invoices, "InvoiceNumber"),
            }.items()
        }

    def _fetcher(
        self, entity_set: str, key_field: str
    ) -> Callable[[list[str]], Awaitable[list[Row]]]:
        async def fetch(keys: list[str]) -> list[Row]:
            query = self._in_company(entity_set).where(
                any_of(*(odata_field(key_field).eq(key) for key in keys))
            )
            return await self.client.collect(query)

        return fetch

    def _in_company(self, entity_set: str) -> ODataQuery:
        return ODataQuery(entity_set).where(odata_field("dataAreaId").eq(self.settings.company))

    async def customer_account_for(self, gateway_customer_id: str) -> str | None:
        id_field = self.settings.customer_gateway_id_field
        if not id_field:
            return None
        known, account = self._customers.get(gateway_customer_id)
        if not known:
            query = self._in_company(self.sets.customers).where(
                odata_field(id_field).eq(gateway_customer_id)
            )
            row = await self.client.first(query.select("CustomerAccount"))
            account = str(row["CustomerAccount"]) if row else None
            self._customers.put(gateway_customer_id, account)
        return account

    async def order_number_for(self, reference: str) -> str | None:
        known, number = self._orders.get(reference)
        if known:
            return number
        by_reference = self._in_company(self.sets.sales_orders).where(
            odata_field("CustomersOrderReference").eq(reference)
        )
        row = await self.client.first(by_reference.select("SalesOrderNumber"))
        if row is None:
            by_number = self._in_company(self.sets.sales_orders).where(
                odata_field("SalesOrderNumber").eq(reference)
            )
            row = await self.client.first(by_number.select("SalesOrderNumber"))
        number = str(row["SalesOrderNumber"]) if row else None
        self._orders.put(reference, number)
        return number

    async def enrichment(self, need: str, payment: Payment, account: str) -> dict[str, Any] | None:
        """``d365_customer`` by account, ``d365_order`` by order reference, ``d365_invoice`` by
        invoice number; asked for together with the other payments' (one query for up to 40)
        and cached for ``lookup_ttl`` seconds."""
        key = {
            "d365_customer": account,
            "d365_order": payment.order_ref,
            "d365_invoice": payment.invoice_ref,
        }.get(need)
        if not key:
            return None
        known, row = self._rows.get(f"{need}:{key}")
        if not known:
            row = await self._gathered[need].get(key)
            self._rows.put(f"{need}:{key}", row)
        return row

    async def open_payment_journal(self, description: str) -> str:
        """The header with this description, created if it does not exist yet."""
        natural_key = self._in_company(self.sets.payment_journal_headers).where(
            odata_field("Description").eq(description)
            & odata_field("JournalName").eq(self.settings.payment_journal_name)
        )
        body = {
            "dataAreaId": self.settings.company,
            "JournalName": self.settings.payment_journal_name,
            "Description": description,
        }
        record = await self.client.create_once(self.sets.payment_journal_headers, body, natural_key)
        return str(record.values["JournalBatchNumber"])

    async def journal_is_posted(self, batch_number: str) -> bool:
        header = await self.ledger.payment_journal(batch_number)
        return header.IsPosted == "Yes"

    async def write(self, lines: Sequence[Posting], others: Sequence[Posting]) -> WriteResult:
        batch = BatchRequest()
        if lines:
            changeset = batch.changeset()
            for line in lines:
                changeset.post(self.sets.payment_journal_lines, line.payload)
        for other in others:
            self._add_other(batch, other)
        response = await self.client.batch(batch)
        outcomes = response.changesets
        result = WriteResult()
        if lines:
            result.lines_error = _error_of(outcomes[0])
            outcomes = outcomes[1:]
        for other, outcome in zip(others, outcomes, strict=False):
            error = _error_of(outcome)
            if error is not None and not (other.is_removal and "404" in error):
                result.failed[other.reference] = error
        return result

    def _add_other(self, batch: BatchRequest, posting: Posting) -> None:
        changeset = batch.changeset()
        if posting.is_removal:
            changeset.delete(key_path(self.sets.payment_journal_lines, posting.payload))
            return
        key = {
            "dataAreaId": posting.payload["dataAreaId"],
            "SalesOrderNumber": posting.payload["SalesOrderNumber"],
        }
        body: dict[str, Any] = {k: v for k, v in posting.payload.items() if k not in key}
        changeset.patch(key_path(self.sets.sales_orders, key), body)

    async def existing_references(self, lines: Sequence[Posting]) -> set[str]:
        by_journal: dict[str, list[str]] = {}
        for line in lines:
            by_journal.setdefault(line.journal_batch_number, []).append(line.reference)
        found: set[str] = set()
        for batch_number, references in by_journal.items():
            rows = await self.ledger.existing_payment_references(batch_number, references)
            found.update(rows)
        return found


def _error_of(outcome: ChangeSetResponse) -> str | None:
    if outcome.ok:
        return None
    failure = outcome.failure
    if failure is None:
        return f"{SYSTEM}: changeset refused without an answer part"
    return f"{failure.status} {failure.error.text}"
