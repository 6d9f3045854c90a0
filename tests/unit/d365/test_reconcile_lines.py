"""D365 payment journal rows as reconciliation reads them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from payledger.adapters.d365.reconcile import ledger_entry


def row(**values):
    return {
        "JournalBatchNumber": "00042",
        "LineNumber": Decimal("3"),
        "PaymentReference": "PT-1001-PAY",
        "AccountType": "Cust",
        "AccountDisplayValue": "us\\-001",
        "TransactionDate": "2026-03-24T12:00:00Z",
        "CurrencyCode": "USD",
        "CreditAmount": Decimal("125.50"),
        "DebitAmount": 0,
        **values,
    }


def test_a_credit_is_positive_in_minor_units_with_the_unescaped_account():
    entry = ledger_entry(row(), posted=True)
    assert (entry.line_id, entry.reference, entry.amount) == ("00042/3", "PT-1001-PAY", 12550)
    assert (entry.customer, entry.day, entry.posted) == (
        "US-001",
        date(2026, 3, 24).toordinal(),
        True,
    )


def test_a_debit_is_negative_and_minor_units_follow_the_currency():
    entry = ledger_entry(
        row(CreditAmount=0, DebitAmount=Decimal("1500"), CurrencyCode="jpy"), posted=False
    )
    assert (entry.amount, entry.currency) == (-1500, "JPY")


def test_a_line_on_a_bank_or_ledger_account_has_no_customer():
    assert (
        ledger_entry(
            row(AccountType="Bank", AccountDisplayValue="USMF OPER"), posted=False
        ).customer
        == ""
    )
