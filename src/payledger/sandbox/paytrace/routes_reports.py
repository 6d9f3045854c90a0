"""Reporting endpoints: transaction exports, settlement and batch exports (fact sheet §4.17)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from payledger.sandbox.paytrace import check_exports, exports, messages, settlement
from payledger.sandbox.paytrace.clock import pacific_date, parse_request_date
from payledger.sandbox.paytrace.dispatch import Call, OperationTable, Reply
from payledger.sandbox.paytrace.errors import VendorErrors
from payledger.sandbox.paytrace.records import Batch, Transaction, TxnStatus
from payledger.sandbox.paytrace.requests import Body

routes = OperationTable()

TYPE_FILTERS: dict[str, Callable[[Transaction], bool]] = {
    "SALE": lambda t: t.type.value == "SALE",
    "AUTHORIZATION": lambda t: t.type.value == "AUTHORIZATION",
    "REFUND": lambda t: t.type.value == "REFUND",
    "VOID": lambda t: t.status is TxnStatus.VOIDED,
    "SETTLED": lambda t: t.status is TxnStatus.SETTLED,
    "PENDING": lambda t: t.status in (TxnStatus.PENDING, TxnStatus.AUTHORIZED),
    "DECLINED": lambda t: t.status is TxnStatus.DECLINED,
    "STR/FWD": lambda t: False,
}


def completed(**fields: Any) -> Reply:
    return Reply(
        {
            "success": True,
            "response_code": 1,
            "status_message": messages.REQUEST_COMPLETED,
            **fields,
        }
    )


def date_range(body: Body) -> tuple[date, date]:
    """``start_date`` / ``end_date`` (MM/DD/YYYY, both required); error 9108 (invented)."""
    try:
        start = parse_request_date(body.text("start_date"))
        end = parse_request_date(body.text("end_date"))
    except ValueError:
        raise VendorErrors.of(messages.INVALID_DATE_RANGE) from None
    if end < start:
        raise VendorErrors.of(messages.INVALID_DATE_RANGE)
    return start, end


def transaction_list(
    txns: Iterable[Transaction], body: Body, checks: list[dict[str, Any]] | None = None
) -> Reply:
    records = [exports.transaction_record(t, include_bin=body.flag("include_bin")) for t in txns]
    return completed(transactions=records + (checks or []), external_transaction_id="")


@routes.post("/v1/transactions/export/by_id", permission="export", writes=False)
def export_by_id(call: Call) -> Reply:
    txn = call.state.transaction(call.body.id_number())
    return transaction_list([txn], call.body)


def matches(txn: Transaction, body: Body, start: date, end: date) -> bool:
    if not start <= pacific_date(txn.created.at) <= end:
        return False
    wanted_type = body.text("transaction_type").upper()
    if wanted_type and not (wanted_type in TYPE_FILTERS and TYPE_FILTERS[wanted_type](txn)):
        return False
    if body.has("transaction_id") and body.text("transaction_id") != str(txn.transaction_id):
        return False
    if body.has("customer_id") and body.text("customer_id") != txn.customer_id:
        return False
    text = body.text("including_text").lower()
    return not text or any(text in value.lower() for value in exports.searchable_text(txn))


@routes.post("/v1/transactions/export/by_date_range", permission="export", writes=False)
def export_by_date_range(call: Call) -> Reply:
    start, end = date_range(call.body)
    found = [t for t in call.state.transactions.values() if matches(t, call.body, start, end)]
    checks = (
        check_exports.check_records(call.state, call.body, start, end)
        if call.state.settings.checks_in_transaction_export
        else []
    )
    return transaction_list(sorted(found, key=lambda t: t.transaction_id), call.body, checks)


@routes.post("/v1/checks/export/by_date_range", permission="export", writes=False)
def export_checks_by_date_range(call: Call) -> Reply:
    """INVENTED: checks only, same filters, answered as a ``checks`` array."""
    start, end = date_range(call.body)
    return completed(checks=check_exports.check_records(call.state, call.body, start, end))


@routes.post("/v1/transactions/settle", permission="settle")
def settle(call: Call) -> Reply:
    """Close the open batch (response shape UNCERTAIN: code 1 plus the batch totals)."""
    batch = settlement.settle(call.state, call.now)
    if batch is None:
        return completed(batch_number=None, transaction_count=0, net_amount=0)
    summary = exports.batch_summary(batch)
    return completed(**{k: summary[k] for k in ("batch_number", "transaction_count", "net_amount")})


def _batch(call: Call, body: Body) -> Batch:
    batches = call.state.batches
    if not body.has("batch_number"):
        if not batches:
            raise VendorErrors.of(messages.BATCH_NOT_FOUND)
        return batches[max(batches)]
    number = body.id_number("batch_number", messages.BATCH_NOT_FOUND)
    if number not in batches:
        raise VendorErrors.of(messages.BATCH_NOT_FOUND)
    return batches[number]


@routes.post("/v1/batches/export", permission="export", writes=False)
def export_batches(call: Call) -> Reply:
    start, end = date_range(call.body)
    found = [b for b in call.state.batches.values() if start <= pacific_date(b.closed_at) <= end]
    return completed(batches=[exports.batch_summary(b) for b in found])


@routes.post("/v1/batches/export_one", permission="export", writes=False)
def export_one_batch(call: Call) -> Reply:
    """One batch; without ``batch_number`` the latest closed one (UNCERTAIN)."""
    return completed(batches=[exports.batch_summary(_batch(call, call.body))])


@routes.post("/v1/batches/transaction_list", permission="export", writes=False)
def batch_transactions(call: Call) -> Reply:
    if not call.body.has("batch_number"):
        raise VendorErrors.of(messages.BATCH_NOT_FOUND)
    batch = _batch(call, call.body)
    txns = [call.state.transactions[i] for i in batch.transaction_ids]
    return transaction_list(txns, call.body)
