"""Recurring payments (fact sheet §4.16): schedules on vault customers, run at 12:30 a.m. PT."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

from payledger.sandbox.paytrace import ledger, messages
from payledger.sandbox.paytrace.clock import parse_request_date
from payledger.sandbox.paytrace.errors import VendorErrors
from payledger.sandbox.paytrace.records import Recurrence, Transaction, TxnType
from payledger.sandbox.paytrace.requests import Body
from payledger.sandbox.paytrace.state import SandboxState

INDEFINITE = 999
MONTHS_BETWEEN = {"1": 12, "8": 6, "A": 4, "2": 3, "9": 2, "3": 1}
DAYS_BETWEEN = {"4": 14, "5": 7, "6": 1}
FIRST_AND_FIFTEENTH = "7"
FREQUENCIES = {*MONTHS_BETWEEN, *DAYS_BETWEEN, FIRST_AND_FIFTEENTH}
THROUGH = "Recurring"
"""``created.through`` of scheduled charges (value UNCERTAIN)."""


def following_date(current: date, frequency: str, anchor_day: int) -> date:
    """The run after ``current``; monthly steps keep ``anchor_day`` (clamped to month end)."""
    if frequency in DAYS_BETWEEN:
        return current + timedelta(days=DAYS_BETWEEN[frequency])
    if frequency == FIRST_AND_FIFTEENTH:
        if current.day < 15:
            return current.replace(day=15)
        return _add_months(current.replace(day=1), 1, 1)
    return _add_months(current, MONTHS_BETWEEN[frequency], anchor_day)


def _add_months(day: date, months: int, anchor_day: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


def create(state: SandboxState, body: Body) -> Recurrence:
    customer = state.customer(body.text("customer_id"))
    spec = body.section("recurrence")
    recurrence = Recurrence(
        recurrence_id=state.next_recurrence_id(),
        customer_id=customer.customer_id,
        amount=spec.amount(),
        frequency=_frequency(spec),
        start_date=_start_date(spec),
        total_count=_total_count(spec),
        transaction_type=_transaction_type(spec),
        description=spec.text("description"),
        customer_receipt=spec.flag("customer_receipt"),
    )
    recurrence.next_date = recurrence.start_date
    state.recurrences[recurrence.recurrence_id] = recurrence
    return recurrence


def _frequency(spec: Body) -> str:
    frequency = spec.text("frequency").upper()
    if frequency not in FREQUENCIES:
        raise VendorErrors.of(messages.INVALID_FREQUENCY)
    return frequency


def _start_date(spec: Body) -> date:
    try:
        return parse_request_date(spec.text("start_date"))
    except ValueError:
        raise VendorErrors.of(messages.INVALID_DATE_RANGE) from None


def _total_count(spec: Body) -> int:
    raw = spec.text("total_count") or str(INDEFINITE)
    if not raw.isdigit() or int(raw) < 1:
        raise VendorErrors.of(messages.INVALID_FREQUENCY)
    return int(raw)


def _transaction_type(spec: Body) -> str:
    kind = (spec.text("transaction_type") or "sale").lower()
    return "authorization" if kind.startswith("auth") else "sale"


def find(state: SandboxState, body: Body) -> Recurrence:
    spec = body.section("recurrence")
    raw = spec.text("id") or body.text("recurrence_id")
    found = state.recurrences.get(int(raw)) if raw.isdigit() else None
    if found is None:
        raise VendorErrors.of(messages.RECURRENCE_NOT_FOUND)
    return found


def update(state: SandboxState, body: Body) -> Recurrence:
    recurrence = find(state, body)
    spec = body.section("recurrence")
    if spec.has("amount"):
        recurrence.amount = spec.amount()
    if spec.has("frequency"):
        recurrence.frequency = _frequency(spec)
    if spec.has("start_date"):
        recurrence.start_date = recurrence.next_date = _start_date(spec)
    if spec.has("total_count"):
        recurrence.total_count = _total_count(spec)
    if spec.has("description"):
        recurrence.description = spec.text("description")
    if spec.has("transaction_type"):
        recurrence.transaction_type = _transaction_type(spec)
    return recurrence


def delete(state: SandboxState, body: Body) -> list[Recurrence]:
    """Stop one schedule (by ``recurrence.id``) or all of a customer's (by ``customer_id``)."""
    if not body.section("recurrence").has("id") and body.has("customer_id"):
        customer_id = state.customer(body.text("customer_id")).customer_id
        stopped = [r for r in state.recurrences.values() if r.customer_id == customer_id]
    else:
        stopped = [find(state, body)]
    for recurrence in stopped:
        recurrence.active = False
    return stopped


def run_once(state: SandboxState, recurrence: Recurrence, at: datetime) -> Transaction | None:
    """Charge the customer once for the due date and move the schedule on."""
    customer = state.customers.get(recurrence.customer_id)
    if customer is None or customer.card is None:
        recurrence.active = False
        return None
    kind = TxnType.AUTHORIZATION if recurrence.transaction_type == "authorization" else TxnType.SALE
    request = ledger.Charge(
        kind,
        recurrence.amount,
        customer.card,
        details={
            "description": recurrence.description,
            "billing_address": customer.billing_address,
        },
        discretionary_data=customer.discretionary_data,
        customer_id=customer.customer_id,
        through=THROUGH,
    )
    txn = ledger.charge(state, at, request)
    txn.details["recurrence_id"] = recurrence.recurrence_id
    recurrence.runs += 1
    recurrence.transaction_ids.append(txn.transaction_id)
    assert recurrence.next_date is not None
    recurrence.next_date = following_date(
        recurrence.next_date, recurrence.frequency, recurrence.start_date.day
    )
    if recurrence.total_count != INDEFINITE and recurrence.runs >= recurrence.total_count:
        recurrence.active = False
    return txn


def due(state: SandboxState) -> list[Recurrence]:
    return [r for r in state.recurrences.values() if r.active and r.next_date is not None]
