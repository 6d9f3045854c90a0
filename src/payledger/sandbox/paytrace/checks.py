"""ACH checks (fact sheet §4.14): sale, hold → fund, void, refund, by account or vault customer."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from payledger.sandbox.paytrace import messages
from payledger.sandbox.paytrace.errors import VendorErrors
from payledger.sandbox.paytrace.records import BankAccount, CheckStatus, CheckTransaction
from payledger.sandbox.paytrace.state import SandboxState

_ABA_WEIGHTS = (3, 7, 1) * 3


def routing_ok(routing: str) -> bool:
    """Nine digits with a valid ABA checksum."""
    if len(routing) != 9 or not routing.isdigit():
        return False
    return sum(int(d) * w for d, w in zip(routing, _ABA_WEIGHTS, strict=True)) % 10 == 0


def validate_account(account_number: str, routing_number: str, problems: VendorErrors) -> None:
    """Add errors 45 / 46 to ``problems`` for a bad account or routing number."""
    if not (account_number.isdigit() and 4 <= len(account_number) <= 17):
        problems.add(messages.INVALID_ACCOUNT_NUMBER)
    if not routing_ok(routing_number):
        problems.add(messages.INVALID_ROUTING_NUMBER)


def open_check(
    state: SandboxState,
    at: datetime,
    kind: str,
    amount: Decimal,
    account: BankAccount,
    *,
    customer_id: str = "",
    details: dict[str, Any] | None = None,
    discretionary_data: dict[str, str] | None = None,
    from_ip: str = "",
    original_check_id: int | None = None,
) -> CheckTransaction:
    """A new check ``sale``, ``hold`` or ``refund``; declined for the configured amounts."""
    declined = kind != "refund" and str(amount) in state.settings.check_decline_amounts
    status = CheckStatus.HELD if kind == "hold" else CheckStatus.PENDING
    check = CheckTransaction(
        check_transaction_id=state.next_check_id(),
        kind=kind,
        status=CheckStatus.DECLINED if declined else status,
        amount=amount,
        account=account,
        created=state.origin(at, from_ip=from_ip),
        customer_id=customer_id,
        details=dict(details or {}),
        discretionary_data=dict(discretionary_data or {}),
        original_check_id=original_check_id,
    )
    state.checks[check.check_transaction_id] = check
    state.record("check.created", check.check_transaction_id, at)
    return check


def find(state: SandboxState, check_id: int) -> CheckTransaction:
    check = state.checks.get(check_id)
    if check is None:
        raise VendorErrors.of(messages.CHECK_NOT_FOUND)
    return check


def fund(
    state: SandboxState, at: datetime, check_id: int, amount: Decimal | None
) -> CheckTransaction:
    check = find(state, check_id)
    if check.status is not CheckStatus.HELD:
        raise VendorErrors.of(messages.CHECK_NOT_FOUND, messages.CHECK_ALREADY_CLOSED)
    if amount is not None and amount > check.amount:
        raise VendorErrors.of(messages.AMOUNT_TOO_HIGH)
    check.amount = amount or check.amount
    check.status = CheckStatus.PENDING
    state.record("check.updated", check_id, at)
    return check


def void(state: SandboxState, at: datetime, check_id: int) -> CheckTransaction:
    check = find(state, check_id)
    if check.status not in (CheckStatus.HELD, CheckStatus.PENDING):
        raise VendorErrors.of(messages.CHECK_NOT_FOUND, messages.CHECK_ALREADY_CLOSED)
    check.status = CheckStatus.VOIDED
    if check.original_check_id is not None:
        state.checks[check.original_check_id].refunded -= check.amount
    state.record("check.updated", check_id, at)
    return check


def refund(
    state: SandboxState, at: datetime, check_id: int, amount: Decimal | None, from_ip: str = ""
) -> CheckTransaction:
    original = find(state, check_id)
    refundable = original.kind in ("sale", "hold") and original.status in (
        CheckStatus.PENDING,
        CheckStatus.SETTLED,
    )
    if not refundable:
        raise VendorErrors.of(messages.CHECK_NOT_FOUND, messages.CHECK_ALREADY_CLOSED)
    remaining = original.amount - original.refunded
    amount = amount or remaining
    if amount > remaining:
        raise VendorErrors.of(messages.AMOUNT_TOO_HIGH)
    original.refunded += amount
    return open_check(
        state,
        at,
        "refund",
        amount,
        original.account,
        customer_id=original.customer_id,
        details=original.details,
        discretionary_data=original.discretionary_data,
        from_ip=from_ip,
        original_check_id=original.check_transaction_id,
    )
