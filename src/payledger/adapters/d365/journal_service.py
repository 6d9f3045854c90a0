"""The ``JournalPoster`` port on D365 F&O: a custom service posts, OData reads back.

F&O has no standard OData action that posts a journal, so posting goes through the custom
service ``/api/services/<service_group>/<service>/<operation>`` named in ``[posting]``.
UNCERTAIN (the extension's contract, which the sandbox implements): the request is
``{"_contract": {"DataAreaId": company, "JournalBatchNumber": batch}}`` and the answer the
result contract ``{"JournalBatchNumber": batch, "IsPosted": true, ...}``; a refusal is an X++
exception (500, ``XppServicesException``). Open amounts are read from the customer
transactions entity set of ``[d365.entity_sets] customer_transactions`` (UNCERTAIN too).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from payledger.adapters.d365.client import D365Client
from payledger.adapters.d365.errors import SYSTEM, D365NotFound, WritesDisabled
from payledger.adapters.d365.ledger import D365Ledger
from payledger.adapters.d365.odata import ODataQuery, any_of, dumps, loads
from payledger.adapters.d365.odata import field as odata_field
from payledger.config import PostingSettings
from payledger.domain.errors import AmbiguousOutcome, AuthError, ConfigError, RejectedError
from payledger.flows.ports.journal_posting import JournalReadback

LOOKUP_CHUNK = 40
"""Invoices per ``Invoice eq 'a' or ...`` query (as the posting lookups gather them)."""


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def service_url(client: D365Client, posting: PostingSettings, operation: str = "") -> str:
    """Where an operation (default: the journal-posting one) of the ``[posting]`` custom
    service is, in this environment."""
    names = (posting.service_group, posting.service, operation or posting.operation)
    return f"{client.base_url}/api/services/" + "/".join(quote(n, safe="") for n in names)


class ServiceOperation:
    """One operation of the ``[posting]`` custom service, called with a data contract.

    A missing operation (404) is a ``ConfigError`` whose message says which settings name it
    (``settings_hint``); other failures are the client's mapped errors (a refusal is a
    ``RejectedError``, a lost answer an ``AmbiguousOutcome`` saying what to ``read_back``)."""

    def __init__(
        self,
        client: D365Client,
        posting: PostingSettings,
        operation: str,
        purpose: str,
        settings_hint: str,
        read_back: str,
    ) -> None:
        self.client = client
        self.url = service_url(client, posting, operation)
        self.name = f"{purpose} ({posting.service}.{operation})"
        self.purpose = purpose
        self.settings_hint = settings_hint
        self.read_back = read_back

    async def call(self, contract: Mapping[str, Any]) -> dict[str, Any]:
        """The answer's JSON object; an answer that is none is an ``AmbiguousOutcome``."""
        try:
            response = await self.client.request(
                "POST",
                self.url,
                operation=self.name,
                write=True,
                content=dumps({"_contract": dict(contract)}),
                headers={"Content-Type": "application/json"},
            )
        except D365NotFound as exc:
            raise ConfigError(
                f"D365 has no {self.purpose} service at {self.url} (HTTP 404): deploy the "
                f"extension, or set {self.settings_hint} to its names"
            ) from exc
        try:
            answer = loads(response.content)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise self.unexpected(response.status_code, response.content)
        return answer

    def unexpected(self, status: int, content: bytes) -> AmbiguousOutcome:
        return AmbiguousOutcome(
            f"D365 {self.name}: HTTP {status} but not the service's answer "
            f"({content[:80]!r}); {self.read_back}",
            system=SYSTEM,
            operation=self.name,
            status=status,
        )


class D365JournalPoster:
    """Implements ``flows.ports.JournalPoster`` in the ledger's company.

    ``post_journal`` is idempotent: when D365 refuses because the journal is posted already
    (a lost answer retried, or someone posted it in F&O), that counts as posted.
    """

    def __init__(self, ledger: D365Ledger, posting: PostingSettings) -> None:
        self.client = ledger.client
        self.company = ledger.settings.company
        self.sets = ledger.sets
        self.service = ServiceOperation(
            self.client,
            posting,
            posting.operation,
            "journal-posting",
            "[posting] service_group, service and operation",
            "read the journal to know whether it was posted",
        )
        self.url = self.service.url
        self.operation = self.service.name

    async def post_journal(self, batch_number: str) -> None:
        contract = {"DataAreaId": self.company, "JournalBatchNumber": batch_number}
        try:
            answer = await self.service.call(contract)
        except (WritesDisabled, AuthError):
            raise
        except RejectedError:
            if (await self.read_journal(batch_number)).is_posted:
                return
            raise
        if not (
            str(answer.get("JournalBatchNumber", "")).casefold() == batch_number.casefold()
            and answer.get("IsPosted") is True
        ):
            raise self.service.unexpected(200, dumps(answer))

    async def read_journal(self, batch_number: str) -> JournalReadback:
        key = {"dataAreaId": self.company, "JournalBatchNumber": batch_number}
        try:
            header = await self.client.get(
                self.sets.payment_journal_headers, key, select=("JournalBatchNumber", "IsPosted")
            )
        except D365NotFound:
            return JournalReadback(batch_number, exists=False, is_posted=False)
        query = (
            ODataQuery(self.sets.payment_journal_lines)
            .where(
                odata_field("dataAreaId").eq(self.company)
                & odata_field("JournalBatchNumber").eq(batch_number)
            )
            .select("LineNumber", "CreditAmount", "DebitAmount")
        )
        lines = await self.client.collect(query)
        total = sum(
            (_decimal(r.get("CreditAmount")) - _decimal(r.get("DebitAmount")) for r in lines),
            Decimal(0),
        )
        return JournalReadback(
            batch_number,
            exists=True,
            is_posted=header.get("IsPosted") == "Yes",
            line_count=len(lines),
            total=total,
        )

    async def open_invoice_amounts(self, invoices: Sequence[str]) -> dict[str, Decimal]:
        """Open amount per invoice: its transactions' ``AmountCur - SettleAmountCur``."""
        wanted = {number.casefold(): number for number in invoices}
        numbers = list(wanted.values())
        found: dict[str, Decimal] = {}
        for start in range(0, len(numbers), LOOKUP_CHUNK):
            query = (
                ODataQuery(self.sets.customer_transactions)
                .where(
                    odata_field("dataAreaId").eq(self.company)
                    & any_of(
                        *(
                            odata_field("Invoice").eq(n)
                            for n in numbers[start : start + LOOKUP_CHUNK]
                        )
                    )
                )
                .select("Invoice", "AmountCur", "SettleAmountCur")
            )
            async for row in self.client.iterate(query):
                number = wanted.get(str(row.get("Invoice", "")).casefold())
                if number is None:
                    continue
                open_amount = _decimal(row.get("AmountCur")) - _decimal(row.get("SettleAmountCur"))
                found[number] = found.get(number, Decimal(0)) + open_amount
        return found
