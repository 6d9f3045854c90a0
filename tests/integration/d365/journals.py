"""Arranging payment journals and invoices in the F&O sandbox, and looking at what it holds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from payledger.adapters.d365 import D365Client
from payledger.config import Settings
from payledger.flows.post_payment import PostingTemplates
from payledger.mapping import compile_template, default_templates
from payledger.templates import template_settings


def posting_templates(settings: Settings | None = None) -> PostingTemplates:
    """The default journal-line and order-status templates, filled with ``settings``."""
    values = template_settings(settings or Settings())
    defaults = default_templates()
    return PostingTemplates(
        journal_line=compile_template(defaults["d365_payment_journal_line"], values),
        order_status=compile_template(defaults["d365_order_payment_status"], values),
    )


SERVICE_PATH = "/api/services/PayledgerServices/PayledgerJournalService/postJournal"


def payment_line(batch: str, amount: str, invoice: str = "", **changes: Any) -> dict[str, Any]:
    """A customer payment line of US-001 (a credit; ``DebitAmount`` in ``changes`` for refunds)."""
    line: dict[str, Any] = {
        "dataAreaId": "usmf",
        "JournalBatchNumber": batch,
        "AccountType": "Cust",
        "AccountDisplayValue": "US\\-001",
        "CurrencyCode": "USD",
        "CreditAmount": Decimal(amount),
        "PaymentReference": f"REF-{batch}-{amount}-{invoice}",
        "OffsetAccountType": "Bank",
        "OffsetAccountDisplayValue": "USMF OPER",
    }
    if invoice:
        line["MarkedInvoice"] = invoice
    return {**line, **changes}


async def journal(client: D365Client, *lines: dict[str, Any]) -> str:
    """A new customer payment journal holding ``lines`` (``JournalBatchNumber`` filled in)."""
    header = await client.create(
        "CustomerPaymentJournalHeaders", {"dataAreaId": "usmf", "JournalName": "CustPay"}
    )
    batch = str(header["JournalBatchNumber"])
    for line in lines:
        await client.create("CustomerPaymentJournalLines", {**line, "JournalBatchNumber": batch})
    return batch


async def invoice(control: httpx.AsyncClient, amount: str, **extra: Any) -> str:
    """A posted invoice of US-001 (its number); ``extra`` goes to the control API."""
    answer = await control.post(
        "/_sandbox/invoices", json={"customer_account": "US-001", "amount": amount, **extra}
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["invoice"]["InvoiceNumber"])


async def rows(control: httpx.AsyncClient, entity_set: str, **match: Any) -> list[dict[str, Any]]:
    answer = await control.get(f"/_sandbox/state/{entity_set}", params={"company": "usmf"})
    return [r for r in answer.json()["value"] if all(r.get(k) == v for k, v in match.items())]


async def invoice_transaction(control: httpx.AsyncClient, number: str) -> dict[str, Any]:
    [row] = await rows(control, "CustTransactions", Invoice=number, TransType="Sales")
    return row


async def everything(control: httpx.AsyncClient) -> dict[str, list[dict[str, Any]]]:
    """What posting may touch: journal headers and lines, customer transactions."""
    names = ("CustomerPaymentJournalHeaders", "CustomerPaymentJournalLines", "CustTransactions")
    return {name: await rows(control, name) for name in names}


def money(value: Any) -> Decimal:
    return Decimal(str(value))
