"""Customer transactions (``CustTransactions``) and the settlement that posting a payment does.

Posting an invoice opens a transaction for its total; posting a payment journal turns each
customer line into a transaction and settles the invoices the line marks (``MarkedInvoice``, or
its ``PaymentJournalLineSettledInvoices`` rows, which then say how much of each). A credit
(payment) settles at most what is open on the invoice; the rest stays open on the payment. A
debit (refund) marked to an invoice reopens at most what was settled on it. Open amount =
``AmountCur - SettleAmountCur``; ``Closed`` is the day the open amount reached zero.

UNCERTAIN (fact sheet 4.7): the entity set and its fields are a non-standard exposure; F&O's
own settlement also handles cash discounts, exchange rates and over-/underpayment rules that
the sandbox leaves out (a mark across currencies is refused).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from payledger.sandbox.d365.catalog import EntityType
from payledger.sandbox.d365.rules import Row, WriteContext, records_where, split_display_value
from payledger.sandbox.d365.store import Record

CUST_TRANSACTIONS = "CustTransactions"
FIRST_SYS_REC_ID = 5637200000


def _new_transaction(ctx: WriteContext, values: Row) -> Record:
    sys_rec_id = FIRST_SYS_REC_ID + ctx.store.next_number("CustTrans")
    return ctx.store.insert(CUST_TRANSACTIONS, {"SysRecId": sys_rec_id, **values})


def open_invoice(ctx: WriteContext, header: Row) -> None:
    """The open transaction a posted invoice leaves on its customer."""
    _new_transaction(
        ctx,
        {
            "dataAreaId": header["dataAreaId"],
            "AccountNum": header["InvoiceCustomerAccountNumber"],
            "Invoice": header["InvoiceNumber"],
            "Voucher": header.get("LedgerVoucher", ""),
            "TransDate": header["InvoiceDate"],
            "DueDate": header["InvoiceDate"],
            "TransType": "Sales",
            "AmountCur": header["TotalInvoiceAmount"],
            "CurrencyCode": header["CurrencyCode"],
            "Txt": f"Invoice {header['InvoiceNumber']}",
        },
    )


@dataclass
class _Mark:
    invoice: str
    company: str
    amount: Decimal | None
    """How much to settle; None: as much as the line and the invoice allow."""


def _marks(ctx: WriteContext, line: Row) -> list[_Mark]:
    settled = records_where(
        ctx,
        "PaymentJournalLineSettledInvoices",
        JournalLineCompany=line["dataAreaId"],
        JournalBatchNumber=line["JournalBatchNumber"],
        JournalLineNumber=line["LineNumber"],
    )
    if settled:
        return [
            _Mark(
                r.values["InvoiceNumber"],
                r.values["InvoiceCompany"],
                r.values.get("SettlementAmountInInvoiceCurrency") or None,
            )
            for r in settled
        ]
    if line.get("MarkedInvoice"):
        company = line.get("MarkedInvoiceCompany") or line["dataAreaId"]
        return [_Mark(line["MarkedInvoice"], company, None)]
    return []


def post_payment_lines(ctx: WriteContext, entity: EntityType, lines: list[Row]) -> int:
    """Customer transactions for the customer lines of a journal being posted; settles marks.

    Returns how many transactions were made. Raises ``ctx.fail`` (the caller rolls back).
    """
    made = 0
    for line in lines:
        if line.get("AccountType", "Cust") != "Cust":
            continue
        amount = line.get("DebitAmount", Decimal(0)) - line.get("CreditAmount", Decimal(0))
        payment = _new_transaction(
            ctx,
            {
                "dataAreaId": line["dataAreaId"],
                "AccountNum": split_display_value(line.get("AccountDisplayValue", ""))[0],
                "Voucher": line.get("Voucher", ""),
                "TransDate": line.get("TransactionDate") or ctx.state.clock.now().date(),
                "TransType": "Payment",
                "AmountCur": amount,
                "CurrencyCode": line.get("CurrencyCode", ""),
                "PaymReference": line.get("PaymentReference", ""),
                "Txt": line.get("TransactionText", ""),
            },
        )
        made += 1
        for mark in _marks(ctx, line):
            payment = _settle(ctx, entity, payment, mark)
    return made


def _open(values: Row) -> Decimal:
    return Decimal(values.get("AmountCur", 0)) - Decimal(values.get("SettleAmountCur", 0))


def _with_settled(values: Row, settled: Decimal, day: Any) -> Row:
    changed = {**values, "SettleAmountCur": settled}
    if _open(changed) == 0:
        changed["Closed"] = day
    else:
        changed.pop("Closed", None)
    return changed


def _settle(ctx: WriteContext, entity: EntityType, payment: Record, mark: _Mark) -> Record:
    """Settle one marked invoice against the payment; returns the payment as updated."""
    pay = payment.values
    invoice = next(
        (
            r
            for r in records_where(
                ctx, CUST_TRANSACTIONS, dataAreaId=mark.company.lower(), Invoice=mark.invoice
            )
            if r.values.get("TransType") == "Sales"
        ),
        None,
    )
    if invoice is None:
        raise ctx.fail(entity, f"Error: Invoice {mark.invoice} has no customer transaction.")
    if str(invoice.values.get("CurrencyCode", "")).upper() != str(pay["CurrencyCode"]).upper():
        raise ctx.fail(
            entity,
            f"Error: Invoice {mark.invoice} is in {invoice.values.get('CurrencyCode')}; a "
            f"payment in {pay['CurrencyCode']} cannot settle it without an exchange rate.",
        )
    day = pay.get("TransDate") or ctx.state.clock.now().date()
    if pay["AmountCur"] < 0:  # a payment: settles what is open, up to what it has left
        room = min(-_open(pay), _open(invoice.values))
    else:  # a refund: reopens what was settled, up to its own amount
        room = -min(_open(pay), Decimal(invoice.values.get("SettleAmountCur", 0)))
    if mark.amount is not None:
        room = min(room, mark.amount) if room >= 0 else max(room, -mark.amount)
    if not room:
        return payment
    invoice_settled = Decimal(invoice.values.get("SettleAmountCur", 0)) + room
    ctx.store.replace(
        CUST_TRANSACTIONS, invoice, _with_settled(invoice.values, invoice_settled, day)
    )
    payment_settled = Decimal(pay.get("SettleAmountCur", 0)) - room
    return ctx.store.replace(CUST_TRANSACTIONS, payment, _with_settled(pay, payment_settled, day))
