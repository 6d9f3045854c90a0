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

from collections.abc import Sequence
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


def service_url(client: D365Client, posting: PostingSettings) -> str:
    """Where the journal-posting service of ``[posting]`` is, in this environment."""
    names = (posting.service_group, posting.service, posting.operation)
    return f"{client.base_url}/api/services/" + "/".join(quote(n, safe="") for n in names)


class D365JournalPoster:
    """Implements ``flows.ports.JournalPoster`` in the ledger's company.

    ``post_journal`` is idempotent: when D365 refuses because the journal is posted already
    (a lost answer retried, or someone posted it in F&O), that counts as posted.
    """

    def __init__(self, ledger: D365Ledger, posting: PostingSettings) -> None:
        self.client = ledger.client
        self.company = ledger.settings.company
        self.sets = ledger.sets
        self.url = service_url(self.client, posting)
        self.operation = f"post journal ({posting.service}.{posting.operation})"

    async def post_journal(self, batch_number: str) -> None:
        contract = {"DataAreaId": self.company, "JournalBatchNumber": batch_number}
        try:
            response = await self.client.request(
                "POST",
                self.url,
                operation=self.operation,
                write=True,
                content=dumps({"_contract": contract}),
                headers={"Content-Type": "application/json"},
            )
        except D365NotFound as exc:
            raise ConfigError(
                f"D365 has no journal-posting service at {self.url} (HTTP 404): deploy the "
                "extension, or set [posting] service_group, service and operation to its names"
            ) from exc
        except (WritesDisabled, AuthError):
            raise
        except RejectedError:
            if (await self.read_journal(batch_number)).is_posted:
                return
            raise
        self._check_answer(response.content, response.status_code, batch_number)

    def _check_answer(self, content: bytes, status: int, batch_number: str) -> None:
        try:
            answer = loads(content)
        except ValueError:
            answer = None
        if not (
            isinstance(answer, dict)
            and str(answer.get("JournalBatchNumber", "")).casefold() == batch_number.casefold()
            and answer.get("IsPosted") is True
        ):
            raise AmbiguousOutcome(
                f"D365 {self.operation}: HTTP {status} but not the service's answer "
                f"({content[:80]!r}); read the journal to know whether it was posted",
                system=SYSTEM,
                operation=self.operation,
                status=status,
            )

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
