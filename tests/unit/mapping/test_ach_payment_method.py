"""ACH (check) lines carry their own method of payment; without one configured, the card one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from payledger.config import D365Settings, Settings
from payledger.domain import Customer, Money, Payment, PaymentKind, PaymentStatus
from payledger.mapping import compile_template, default_template, source_document
from payledger.templates import template_settings

LINE = {"journal_batch_number": "00631", "line_number": 1, "operation": "payment"}


def method_of(kind: PaymentKind, settings: Settings) -> str:
    template = compile_template(
        default_template("d365_payment_journal_line"), template_settings(settings)
    )
    payment = Payment(
        "CHK-981619",
        kind,
        PaymentStatus.APPROVED,
        Money.of("42.10"),
        datetime(2026, 3, 24, 17, tzinfo=UTC),
        customer=Customer("Contoso", account="US-001"),
    )
    operation = "refund" if kind.moves_money_out else "payment"
    context = {**LINE, "operation": operation, "payment_reference": "PT-CHK-981619-PAY"}
    return str(template.map(source_document(payment, context=context))["PaymentMethodName"])


ACH_CONFIGURED = Settings(d365=D365Settings(payment_method="CREDITCARD", ach_payment_method="ACH"))


@pytest.mark.parametrize("kind", [PaymentKind.ACH_SALE, PaymentKind.ACH_REFUND])
def test_ach_lines_use_the_ach_method_of_payment(kind):
    assert method_of(kind, ACH_CONFIGURED) == "ACH"


@pytest.mark.parametrize("kind", [PaymentKind.SALE, PaymentKind.CAPTURE, PaymentKind.REFUND])
def test_card_lines_keep_the_card_method_of_payment(kind):
    assert method_of(kind, ACH_CONFIGURED) == "CREDITCARD"


def test_without_an_ach_method_ach_lines_use_the_payment_method():
    assert method_of(PaymentKind.ACH_SALE, Settings()) == "ELECTRONIC"
