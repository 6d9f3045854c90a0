"""Preview: the payload from a sample and the lineage of every target field."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from payledger.config import Settings
from payledger.domain import Money, Payment, PaymentKind, PaymentStatus
from payledger.mapping import (
    compile_template,
    default_template,
    default_templates,
    dumps,
    load_template,
    loads,
    source_document,
)
from payledger.mapping import preview as run_preview
from payledger.templates import template_settings
from tests.unit.mapping.golden_cases import GOLDEN, settings


def sale_preview():
    golden = loads((GOLDEN / "d365_payment_journal_line.sale.json").read_text())
    compiled = compile_template(default_template("d365_payment_journal_line"), settings())
    return run_preview(compiled, golden["input"]), golden["output"]


def test_preview_payload_is_what_map_gives():
    preview, expected = sale_preview()

    assert preview.ok
    assert dumps(preview.payload) == dumps(expected)
    assert (preview.template, preview.system, preview.entity) == (
        "d365_payment_journal_line",
        "d365",
        "CustomerPaymentJournalLines",
    )


def test_lineage_names_source_paths_and_transforms_of_each_field():
    preview, _ = sale_preview()
    lineage = {line.field: line for line in preview.lineage}

    credit = lineage["CreditAmount"]
    assert credit.value == Decimal("125.50")
    assert credit.sources == ("payment.amount", "payment.currency", "context.operation")
    assert credit.steps == ("money(currency=<payment.currency>)",
                            "journal_amount(side=credit, kind=<context.operation>)")  # fmt: skip
    assert lineage["dataAreaId"].sources == ("settings.company",)
    assert lineage["TransactionDate"].steps == ("d365_date(tz=America/Los_Angeles)",)
    assert lineage["AccountDisplayValue"].sources == ("customer.account",)
    assert lineage["AccountDisplayValue"].steps == ("first_of: option 1 of 3", "display_value")
    assert lineage["MarkedInvoiceCompany"].steps[0] == "if invoice.number → then"
    assert lineage["TransactionText"].steps == (
        "if payment.recurring → else",
        "lookup(table=operation_words)",
        "format('PayTrace {kind} {txn}')",
    )


def test_preview_reports_every_error_and_omitted_field_without_stopping():
    template = load_template(
        "template: t\ntarget: {system: d365, entity: X}\nfields:\n"
        "  A: {path: payment.amount, transform: money}\n"
        "  B: {path: payment.kind}\n"
        "  C: {path: payment.message, optional: true}\n"
        "  D: {path: payment.message, default: none}\n"
        "  E: {path: payment.currency}\n"
    )
    document = {"payment": {"amount": "abc", "currency": "USD"}}

    preview = run_preview(compile_template(template), document)

    statuses = {line.field: (line.status, line.error) for line in preview.lineage}
    assert statuses == {
        "A": ("error", "'abc' is not a number"),
        "B": ("error", "required value is missing (from payment.kind); the record is parked"),
        "C": ("omitted", ""),
        "D": ("default", ""),
        "E": ("mapped", ""),
    }
    assert not preview.ok and [line.field for line in preview.errors] == ["A", "B"]
    assert preview.payload == {"D": "none", "E": "USD"}


def test_preview_as_dict_is_json_ready():
    preview, _ = sale_preview()

    data = loads(dumps(preview.as_dict()))

    assert data["ok"] is True and data["target"]["entity"] == "CustomerPaymentJournalLines"
    first = data["lineage"][0]
    assert first == {
        "field": "dataAreaId",
        "status": "mapped",
        "value": "usmf",
        "sources": ["settings.company"],
        "steps": [],
        "error": "",
    }


def test_a_charge_of_paytraces_own_schedule_reads_as_recurring_on_its_journal_line():
    values = template_settings(Settings())
    template = compile_template(default_templates()["d365_payment_journal_line"], values)
    context = {"operation": "payment", "journal_batch_number": "J-1", "line_number": 1,
               "payment_reference": "PT-77-PAY"}  # fmt: skip
    texts = []
    for recurring in (False, True):
        at = datetime(2026, 3, 31, 7, 30, tzinfo=UTC)
        payment = Payment("77", PaymentKind.SALE, PaymentStatus.APPROVED, Money.of("30.00"), at,
                          recurring=recurring)  # fmt: skip
        document = source_document(payment, context=context)
        document["customer"] = {"account": "US-001"}
        texts.append(template.map(document)["TransactionText"])
    assert texts == ["PayTrace payment 77", "PayTrace recurring payment 77"]
