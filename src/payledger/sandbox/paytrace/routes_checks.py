"""ACH check endpoints (fact sheet §4.14)."""

from __future__ import annotations

from payledger.sandbox.paytrace import checks, messages
from payledger.sandbox.paytrace.dispatch import Call, Handler, OperationTable, Reply, collect
from payledger.sandbox.paytrace.errors import VendorErrors
from payledger.sandbox.paytrace.records import BankAccount, CheckStatus, CheckTransaction

routes = OperationTable()


def check_reply(check: CheckTransaction, code: int, message: str) -> Reply:
    if check.status is CheckStatus.DECLINED:
        return Reply(
            {
                "success": False,
                "response_code": 125,
                "status_message": messages.CHECK_NOT_PROCESSED,
                "check_transaction_id": check.check_transaction_id,
                "ach_code": 0,
                "ach_message": "",
            },
            "declined",
        )
    return Reply(
        {
            "success": True,
            "response_code": code,
            "status_message": message,
            "check_transaction_id": check.check_transaction_id,
        }
    )


def _account(call: Call, *, by_customer: bool) -> tuple[BankAccount, str]:
    """The account to debit and the vault customer id; errors 30, 45 and 46 together."""
    body = call.body
    problems = VendorErrors()
    customer_id = body.text("customer_id")
    profile = call.state.customers.get(customer_id) if customer_id else None
    if (by_customer or customer_id) and (profile is None or profile.account is None):
        problems.add(messages.CUSTOMER_NOT_FOUND, messages.customer_not_found(customer_id))
    section = body.section("check")
    if not by_customer or body.has("check"):
        checks.validate_account(
            section.text("account_number"), section.text("routing_number"), problems
        )
    problems.raise_if_any()
    if not by_customer or body.has("check"):
        return BankAccount(
            section.text("account_number"), section.text("routing_number")
        ), customer_id
    assert profile is not None and profile.account is not None
    return profile.account, customer_id


def _discretionary(call: Call) -> dict[str, str]:
    return call.body.discretionary(call.state.settings)


def _open(call: Call, kind: str, *, by_customer: bool) -> Reply:
    amount, found, discretionary = collect(
        call.body.amount,
        lambda: _account(call, by_customer=by_customer),
        lambda: _discretionary(call),
    )
    account, customer_id = found
    check = checks.open_check(
        call.state,
        call.now,
        kind,
        amount,
        account,
        customer_id=customer_id,
        details=call.body.echoed(),
        discretionary_data=discretionary,
        from_ip=call.from_ip,
    )
    return check_reply(check, 120, messages.CHECK_PROCESSED)


def _variant(kind: str, by_customer: bool) -> Handler:
    return lambda call: _open(call, kind, by_customer=by_customer)


for _kind in ("sale", "hold"):
    for _target in ("by_account", "by_customer"):
        routes.post(f"/v1/checks/{_kind}/{_target}", permission="check")(
            _variant(_kind, _target == "by_customer")
        )


def _check_id(call: Call) -> int:
    return call.body.id_number("check_transaction_id", messages.CHECK_NOT_FOUND)


@routes.post("/v1/checks/refund/by_transaction", permission="refund")
def refund_by_transaction(call: Call) -> Reply:
    check_id, amount = collect(lambda: _check_id(call), call.body.optional_amount)
    refund = checks.refund(call.state, call.now, check_id, amount, call.from_ip)
    return check_reply(refund, 122, messages.CHECK_REFUNDED)


@routes.post("/v1/checks/refund/by_account", permission="refund")
def refund_by_account(call: Call) -> Reply:
    amount, found, discretionary = collect(
        call.body.amount, lambda: _account(call, by_customer=False), lambda: _discretionary(call)
    )
    refund = checks.open_check(
        call.state,
        call.now,
        "refund",
        amount,
        found[0],
        details=call.body.echoed(),
        discretionary_data=discretionary,
        from_ip=call.from_ip,
    )
    return check_reply(refund, 122, messages.CHECK_REFUNDED)


@routes.post("/v1/checks/manage/fund", permission="check")
def fund(call: Call) -> Reply:
    check_id, amount = collect(lambda: _check_id(call), call.body.optional_amount)
    check = checks.fund(call.state, call.now, check_id, amount)
    return check_reply(check, 124, messages.CHECK_MANAGED)


@routes.post("/v1/checks/manage/void", permission="check")
def void(call: Call) -> Reply:
    check = checks.void(call.state, call.now, _check_id(call))
    return check_reply(check, 124, messages.CHECK_MANAGED)
