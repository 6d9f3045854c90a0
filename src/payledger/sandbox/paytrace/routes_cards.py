"""Card transaction endpoints: sale, authorization, capture, void, refund, adjust, receipts."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from payledger.sandbox.paytrace import ledger, messages, protect
from payledger.sandbox.paytrace.cards import Card, validated_card
from payledger.sandbox.paytrace.dispatch import Call, Handler, OperationTable, Reply, collect
from payledger.sandbox.paytrace.errors import VendorErrors
from payledger.sandbox.paytrace.records import CustomerProfile, Transaction, TxnStatus, TxnType

routes = OperationTable()
NO_EXTERNAL_ID = {"external_transaction_id": ""}


def external_id_on_errors(handler: Handler) -> Handler:
    """Sale, authorization, capture and refund errors carry ``external_transaction_id`` (§4)."""

    def answer(call: Call) -> Reply:
        try:
            return handler(call)
        except VendorErrors as exc:
            raise VendorErrors(exc.errors, **{**NO_EXTERNAL_ID, **exc.extra}) from None

    return answer


def transaction_reply(txn: Transaction, code: int, message: str, *, masked: bool) -> Reply:
    """The shared "TxnResult" shape (fact sheet §4); declines keep the keys with code 102."""
    declined = txn.status is TxnStatus.DECLINED
    body = {
        "success": not declined,
        "response_code": 102 if declined else code,
        "status_message": messages.DECLINED if declined else message,
        "transaction_id": txn.transaction_id,
        "approval_code": txn.approval_code,
        "approval_message": txn.approval_message,
        "avs_response": txn.avs_response,
        "csc_response": txn.csc_response,
        "external_transaction_id": "",
    }
    if masked:
        body["masked_card_number"] = txn.card.masked
    if txn.discretionary_data:
        body["discretionary_data"] = dict(txn.discretionary_data)
    return Reply(body, "declined" if declined else "approved")


def _charge(
    call: Call,
    kind: TxnType,
    card: Card,
    amount: Decimal,
    *,
    customer_id: str = "",
    billing: dict[str, str] | None = None,
) -> Transaction:
    """Record a charge; ``billing`` (from a profile or earlier transaction) unless one is sent."""
    details = call.body.echoed()
    if billing and "billing_address" not in details:
        details["billing_address"] = billing
    request = ledger.Charge(
        kind,
        amount,
        card,
        csc=call.body.csc(call.settings),
        details=details,
        customer_id=customer_id,
        from_ip=call.from_ip,
        discretionary_data=call.body.discretionary(call.settings),
    )
    return ledger.charge(call.state, call.now, request)


def _keyed(call: Call, kind: TxnType) -> Reply:
    amount, card, _ = collect(
        call.body.amount,
        lambda: call.body.card(call.settings, call.now.date()),
        lambda: call.body.discretionary(call.settings),
    )
    txn = _charge(call, kind, card, amount)
    return transaction_reply(txn, 101, messages.APPROVED, masked=True)


def _by_customer(call: Call, kind: TxnType) -> Reply:
    amount, profile = collect(call.body.amount, lambda: _customer_with_card(call))
    txn = _charge(
        call,
        kind,
        profile.card,
        amount,
        customer_id=profile.customer_id,
        billing=profile.billing_address,
    )
    return transaction_reply(txn, 101, messages.APPROVED, masked=False)


def _customer_with_card(call: Call) -> CustomerProfile:
    """The vault profile to charge; error 30 when unknown or holding no card."""
    customer_id = call.body.text("customer_id")
    profile = call.state.customers.get(customer_id)
    if profile is None or profile.card is None:
        raise VendorErrors.of(messages.CUSTOMER_NOT_FOUND, messages.customer_not_found(customer_id))
    return profile


def _by_transaction(call: Call, kind: TxnType) -> Reply:
    amount, earlier = collect(
        call.body.amount, lambda: call.state.transaction(call.body.id_number())
    )
    txn = _charge(
        call,
        kind,
        earlier.card,
        amount,
        customer_id=earlier.customer_id,
        billing=earlier.details.get("billing_address", {}),
    )
    return transaction_reply(txn, 101, messages.APPROVED, masked=False)


def protect_card(call: Call) -> Card:
    """The card a Protect ``hpf_token`` + ``enc_key`` stands for (9113 when missing)."""
    body, settings = call.body, call.settings
    if not (body.text("hpf_token") and body.text("enc_key")):
        raise VendorErrors.of(messages.INVALID_PROTECT_TOKEN)
    fields = protect.open_nonce(body.text("hpf_token"), body.text("enc_key"), settings.protect_key)
    if fields is None and settings.protect_strict:
        raise VendorErrors.of(messages.INVALID_CARD_NUMBER)
    if fields is None:
        fields = {
            "number": settings.protect_fallback_number,
            "expiration_month": "12",
            "expiration_year": str(call.now.year + 3),
        }
    if fields.get("csc") and not body.has("csc"):
        body.data["csc"] = fields["csc"]
    return validated_card(
        fields["number"],
        fields.get("expiration_month"),
        fields.get("expiration_year"),
        call.now.date(),
    )


def _protect(call: Call, kind: TxnType) -> Reply:
    amount, card = collect(call.body.amount, lambda: protect_card(call))
    txn = _charge(call, kind, card, amount)
    return transaction_reply(txn, 101, messages.APPROVED, masked=True)


def _variant(how: Callable[[Call, TxnType], Reply], kind: TxnType) -> Handler:
    return external_id_on_errors(lambda call: how(call, kind))


# Sales and authorizations share one body per card source: keyed, vault, earlier txn, Protect.
for _kind, _name in ((TxnType.SALE, "sale"), (TxnType.AUTHORIZATION, "authorization")):
    for _suffix, _how in (
        ("keyed", _keyed),
        ("by_customer", _by_customer),
        ("by_transaction", _by_transaction),
        ("pt_protect", _protect),
    ):
        routes.post(f"/v1/transactions/{_name}/{_suffix}", permission=_name)(_variant(_how, _kind))


@routes.post("/v1/transactions/authorization/capture", permission="capture")
@external_id_on_errors
def capture(call: Call) -> Reply:
    txn = ledger.capture(call.state, call.now, call.body.id_number(), call.body.optional_amount())
    return Reply(
        {
            "success": True,
            "response_code": 112,
            "status_message": messages.CAPTURED,
            "transaction_id": txn.transaction_id,
            **NO_EXTERNAL_ID,
        }
    )


@routes.post("/v1/transactions/void", permission="void")
def void(call: Call) -> Reply:
    txn = ledger.void(call.state, call.now, call.body.id_number())
    return Reply(
        {
            "success": True,
            "response_code": 109,
            "status_message": messages.VOIDED,
            "transaction_id": txn.transaction_id,
        }
    )


def refund_reply(txn: Transaction) -> Reply:
    return Reply(
        {
            "success": True,
            "response_code": 106,
            "status_message": messages.REFUNDED,
            "transaction_id": txn.transaction_id,
            **NO_EXTERNAL_ID,
            "masked_card_number": txn.card.masked,
        }
    )


@routes.post("/v1/transactions/refund/for_transaction", permission="refund")
@external_id_on_errors
def refund_for_transaction(call: Call) -> Reply:
    original_id, amount = collect(call.body.id_number, call.body.optional_amount)
    details = {k: v for k, v in call.body.echoed().items() if k != "billing_address"}
    extra = call.body.discretionary(call.settings)
    txn = ledger.refund(call.state, call.now, original_id, amount, details, call.from_ip, extra)
    return refund_reply(txn)


@routes.post("/v1/transactions/refund/keyed", permission="refund")
@external_id_on_errors
def refund_keyed(call: Call) -> Reply:
    amount, card = collect(call.body.amount, lambda: call.body.card(call.settings, call.now.date()))
    return refund_reply(_charge(call, TxnType.REFUND, card, amount))


@routes.post("/v1/transactions/refund/to_customer", permission="refund")
@external_id_on_errors
def refund_to_customer(call: Call) -> Reply:
    amount, profile = collect(call.body.amount, lambda: _customer_with_card(call))
    txn = _charge(
        call,
        TxnType.REFUND,
        profile.card,
        amount,
        customer_id=profile.customer_id,
        billing=profile.billing_address,
    )
    return refund_reply(txn)


@routes.post("/v1/transactions/adjust", permission="adjust")
def adjust(call: Call) -> Reply:
    """Path and reply are UNCERTAIN (fact sheet §4.10); the rules are confirmed."""
    transaction_id, amount = collect(call.body.id_number, call.body.amount)
    txn = ledger.adjust(call.state, call.now, transaction_id, amount)
    return Reply(
        {
            "success": True,
            "response_code": 1,
            "status_message": messages.REQUEST_COMPLETED,
            "transaction_id": txn.transaction_id,
            "amount": txn.amount,
        }
    )


@routes.post("/v1/transactions/email_receipt", permission="email_receipt")
def email_receipt(call: Call) -> Reply:
    txn = ledger.email_receipt(call.state, call.body.id_number(), call.body.text("email"))
    message = messages.receipt_emailed(txn.transaction_id, txn.receipt_emailed_to)
    return Reply({"success": True, "response_code": 149, "status_message": message})


def _level_three(call: Call, brand: str, label: str) -> Reply:
    items = call.body.data.get("line_items") or []
    line_items = [item for item in items if isinstance(item, dict)]
    txn = ledger.add_level_three(call.state, call.body.id_number(), brand, line_items)
    message = messages.level_three_added(txn.transaction_id, label, len(line_items))
    return Reply({"success": True, "response_code": 170, "status_message": message})


@routes.post("/v1/level_three/visa", permission="level_three")
def level_three_visa(call: Call) -> Reply:
    return _level_three(call, "VISA", "Visa/MasterCard")


@routes.post("/v1/level_three/mastercard", permission="level_three")
def level_three_mastercard(call: Call) -> Reply:
    return _level_three(call, "MASTERCARD", "Visa/MasterCard")


@routes.post("/v1/payment_fields/token/create", permission="protect", writes=False)
def protect_client_key(call: Call) -> Reply:
    """Client key for Protect.js; response shape UNCERTAIN beyond ``clientKey``."""
    return Reply(
        {
            "success": True,
            "response_code": 1,
            "status_message": messages.REQUEST_COMPLETED,
            "clientKey": call.state.hex_token(24),
        }
    )
