"""``/api/v1/payments``: charge a D365 invoice or sales order, then capture, void or refund it.

The gateway's answer comes back in the response (approved 201, declined 402 with the reason);
the D365 posting follows through the inbox. Every POST needs an ``Idempotency-Key``. A client
reads, captures, voids and refunds only the payments it made (another's are 404, as if they did
not exist); a token with the ``admin`` scope reaches every client's. The gateway announces each
call that moves money to the request's key (:class:`_Announcing`), so a request that died
before one can be retried with its key once the lease lapses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse

from payledger.bootstrap import charge_ports
from payledger.bootstrap.dunning import missed_charges
from payledger.bootstrap.refunds import refund_screen
from payledger.bootstrap.risk import review_queue
from payledger.domain.charges import (
    CardSource,
    ChargeRecord,
    ChargeReferences,
    PaymentState,
    ReceivableKind,
    StoredCard,
)
from payledger.domain.dunning import AttemptOutcome, CaseSource, MissedCharge
from payledger.domain.erp_keys import InvalidErpValue
from payledger.domain.errors import (
    AmbiguousOutcome,
    AuthError,
    ConfigError,
    PayLedgerError,
    RejectedError,
)
from payledger.domain.model import Payment
from payledger.domain.money import Money
from payledger.flows.charge_payment import (
    AmountRefused,
    Charge,
    ChargeContext,
    ChargeNotRecorded,
    NotAllowed,
    NotFound,
    capture_payment,
    charge_receivable,
    refund_payment,
    void_payment,
)
from payledger.flows.ports import CardGateway
from payledger.flows.ports.risk import HeldKind
from payledger.flows.release_refund import HeldRefund
from payledger.flows.screen_charge import Held, ItemScreen, Rejected
from payledger.flows.screen_refund import RefundWaiting, refund_key, refunds_of
from payledger.stores.api_clients import ApiClient
from payledger.stores.charge_records import SqlChargeRecords
from payledger.web.auth import require_scope
from payledger.web.deps import ContainerDep
from payledger.web.idempotency import Idempotency, IdempotencyDep, Reply
from payledger.web.inbound import ExactJsonRoute, amount_in
from payledger.web.payment_schemas import (
    AmountChange,
    ApiPaymentPublic,
    PaymentCreate,
    RefundHeldPublic,
    RefundPublic,
    RefundReviewPublic,
    card_source,
)
from payledger.web.problems import ApiProblem, ErrorBody, problem_responses

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/api/v1/payments", tags=["payments"], route_class=ExactJsonRoute)

Writer = Annotated[ApiClient, Depends(require_scope("payments:write"))]
Reader = Annotated[ApiClient, Depends(require_scope("read", "payments:write", "admin"))]
PaymentId = Annotated[
    str, Path(pattern=r"^[0-9]{1,12}$", description="The PayTrace transaction id.")
]

_WRITE_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 422, 502, 503)
_UNKNOWN = {
    "model": ErrorBody,
    "description": "The gateway's answer was lost and could not be looked up (stored: retrying "
    "the same key returns this again rather than risk a second charge)",
}


@contextmanager
def _refusals() -> Iterator[None]:
    """Business refusals (nothing was sent to the gateway) become error responses."""
    try:
        yield
    except NotFound as exc:
        raise ApiProblem(404, "not_found", str(exc)) from exc
    except NotAllowed as exc:
        raise ApiProblem(409, "not_allowed", str(exc)) from exc
    except AmountRefused as exc:
        raise ApiProblem(422, "amount_refused", str(exc)) from exc
    except InvalidErpValue as exc:
        raise ApiProblem(422, "invalid_erp_value", str(exc), field=exc.field) from exc
    except AuthError as exc:
        raise ApiProblem(
            502,
            "upstream_auth_failed",
            f"{exc.system} refused payledger's credentials; an operator must fix them",
        ) from exc
    except RejectedError as exc:
        if exc.system == "paytrace":
            raise ApiProblem(422, "gateway_refused", str(exc)) from exc
        raise ApiProblem(502, "erp_refused", str(exc)) from exc
    except ConfigError as exc:
        raise ApiProblem(503, "not_configured", str(exc)) from exc
    except RefundWaiting as exc:
        raise ApiProblem(409, "refund_waiting_for_review", str(exc)) from exc
    except Rejected as exc:
        raise ApiProblem(409, "rejected_in_review", str(exc)) from exc


async def _answer(work: Callable[[], Awaitable[Reply]]) -> Reply:
    """Run ``work``; a lost gateway answer or an unrecorded payment still gets a stored reply."""
    try:
        with _refusals():
            return await work()
    except AmbiguousOutcome as exc:
        log.error("payments.outcome_unknown", error=str(exc))
        return Reply(
            502,
            {
                "error": "outcome_unknown",
                "detail": "PayTrace's answer was lost and the payment could not be found "
                "afterwards: it may or may not have been made. payledger's poller records it "
                "if it was; do not retry with a new key before checking.",
            },
        )
    except ChargeNotRecorded as exc:
        log.error("payments.not_recorded", error=str(exc))
        return _reply(exc.record)


def _reply(record: ChargeRecord, created: int = 201) -> Reply:
    status = 402 if record.state is PaymentState.DECLINED else created
    return Reply(status, ApiPaymentPublic.of(record))


async def _own_payment(container: ContainerDep, client: ApiClient, payment_id: str) -> ChargeRecord:
    """The payment, if ``client`` made it (or is an admin): another client's is 404."""
    record = await SqlChargeRecords(container.inbox).get(payment_id)
    if record is None or not client.can_see(record.client):
        raise ApiProblem(404, "not_found", f"no payment {payment_id} was made through payledger")
    return record


class _Announcing:
    """The card gateway, announcing to the request's key each call that moves money."""

    def __init__(self, gateway: CardGateway, idempotency: Idempotency) -> None:
        self.gateway = gateway
        self.idempotency = idempotency
        self.source_name = gateway.source_name
        self.currency = gateway.currency

    async def charge(
        self,
        amount: Money,
        card: CardSource,
        *,
        capture: bool,
        refs: ChargeReferences,
        request: Mapping[str, Any],
    ) -> Payment:
        await self.idempotency.effects_begin()
        return await self.gateway.charge(amount, card, capture=capture, refs=refs, request=request)

    async def capture(self, original: ChargeRecord, amount: Money) -> Payment:
        await self.idempotency.effects_begin()
        return await self.gateway.capture(original, amount)

    async def void(self, original: ChargeRecord) -> Payment:
        await self.idempotency.effects_begin()
        return await self.gateway.void(original)

    async def refund(self, original: ChargeRecord, amount: Money) -> Payment:
        await self.idempotency.effects_begin()
        return await self.gateway.refund(original, amount)

    async def find_charge(self, refs: ChargeReferences, since: datetime) -> Payment | None:
        return await self.gateway.find_charge(refs, since)

    async def find_refund(
        self, original: ChargeRecord, amount: Money, since: datetime
    ) -> Payment | None:
        return await self.gateway.find_refund(original, amount, since)

    def event_id(self, payment: Payment) -> str:
        return self.gateway.event_id(payment)


async def _context(
    container: ContainerDep, idempotency: Idempotency, screened_by: ItemScreen | None = None
) -> ChargeContext:
    with _refusals():
        ctx = await charge_ports(container, screened_by=screened_by)
    return replace(ctx, gateway=_Announcing(ctx.gateway, idempotency))


async def _open_dunning(container: ContainerDep, record: ChargeRecord, card: CardSource) -> None:
    """A declined charge marked ``dunning``: its case retries it (when dunning is on)."""
    opener = await missed_charges(container)
    assert opener is not None and isinstance(card, StoredCard)  # checked before charging
    missed = MissedCharge(
        source=CaseSource.API,
        source_key=f"api:{record.gateway_txn_id}",
        invoice_number=record.invoice_number,
        customer_account=record.customer_account,
        vault_customer_id=card.customer_id,
        amount=record.amount,
        at=record.created_at,
        outcome=AttemptOutcome.DECLINED,
        reason=record.message,
        gateway_txn_id=record.gateway_txn_id,
    )
    try:
        await opener.charge_missed(missed)
    except PayLedgerError as exc:  # the decline stands; an operator opens the case
        log.error("payments.dunning_not_opened", payment=record.gateway_txn_id, error=str(exc))
        await container.alerts.notify(
            "dunning-not-opened",
            "A declined payment got no dunning case",
            f"Payment {record.gateway_txn_id} (invoice {record.invoice_number}) was declined "
            f"and marked for dunning, but its case could not be opened: {exc}",
            facts={"payment": record.gateway_txn_id, "invoice": record.invoice_number},
        )


def _exact(amount: Decimal | None, container: ContainerDep) -> None:
    """The amount has no more decimal places than the account's currency (422 otherwise)."""
    amount_in(container.settings.paytrace.currency, amount, "body.amount")


async def _run_once(
    idempotency: Idempotency, client: ApiClient, work: Callable[[], Awaitable[Reply]]
) -> JSONResponse:
    return await idempotency.run(client, lambda: _answer(work), announces_effects=True)


@router.post(
    "",
    status_code=201,
    response_model=ApiPaymentPublic,
    summary="Charge a D365 invoice or sales order",
    responses={
        402: {"model": ApiPaymentPublic, "description": "Declined; `message` says why"},
        **_WRITE_PROBLEMS,
        502: _UNKNOWN,
    },
)
async def create_payment(
    body: PaymentCreate, client: Writer, idempotency: IdempotencyDep, container: ContainerDep
) -> JSONResponse:
    """Charge the open amount (or `amount`) of an invoice or sales order with a vault customer's
    card, a PayTrace Protect token or a client-side encrypted card; `capture: false` only
    authorizes."""
    _exact(body.amount, container)
    refusal = body.dunning_refusal()
    if body.dunning and not container.settings.dunning.enabled:
        refusal = "dunning is off on this payledger ([dunning] enabled = false)"
    if refusal is not None:
        raise ApiProblem(422, "dunning_not_possible", refusal, field="body.dunning")

    async def work() -> Reply:
        kind = ReceivableKind.INVOICE if body.invoice else ReceivableKind.SALES_ORDER
        charge = Charge(
            kind=kind,
            number=body.invoice or body.sales_order or "",
            card=card_source(body.payment_method),
            client=client.name,
            amount=body.amount,
            currency=body.currency,
            capture=body.capture,
        )
        charged = await charge_receivable(charge, await _context(container, idempotency))
        if body.dunning and charged.record.state is PaymentState.DECLINED:
            await _open_dunning(container, charged.record, charge.card)
        return _reply(charged.record)

    return await _run_once(idempotency, client, work)


@router.get(
    "/{payment_id}",
    response_model=ApiPaymentPublic,
    summary="A payment made through payledger",
    responses=problem_responses(401, 403, 404, 503),
)
async def read_payment(
    payment_id: PaymentId, client: Reader, container: ContainerDep
) -> ApiPaymentPublic:
    """The payment as it stands now (captured, voided, refunded amounts, and refunds held for
    risk review); only the client that made it (or an ``admin`` token) sees it."""
    record = await _own_payment(container, client, payment_id)
    reviews = await review_queue(container).reviews_under(HeldKind.REFUND, refunds_of(payment_id))
    return ApiPaymentPublic.of(record).model_copy(
        update={"refund_reviews": [RefundReviewPublic.of(item) for item in reviews]}
    )


@router.post(
    "/{payment_id}/capture",
    response_model=ApiPaymentPublic,
    summary="Capture an authorization",
    responses={**_WRITE_PROBLEMS, 502: _UNKNOWN},
)
async def capture(
    payment_id: PaymentId,
    body: AmountChange,
    client: Writer,
    idempotency: IdempotencyDep,
    container: ContainerDep,
) -> JSONResponse:
    """Capture all of an authorization, or `amount` of it."""
    _exact(body.amount, container)

    async def work() -> Reply:
        await _own_payment(container, client, payment_id)
        ctx = await _context(container, idempotency)
        record = await capture_payment(payment_id, body.amount, client.name, ctx)
        return Reply(200, ApiPaymentPublic.of(record))

    return await _run_once(idempotency, client, work)


@router.post(
    "/{payment_id}/void",
    response_model=ApiPaymentPublic,
    summary="Void a payment that has not settled",
    responses={**_WRITE_PROBLEMS, 502: _UNKNOWN},
)
async def void(
    payment_id: PaymentId, client: Writer, idempotency: IdempotencyDep, container: ContainerDep
) -> JSONResponse:
    """Void a sale or authorization before it settles (refund it afterwards)."""

    async def work() -> Reply:
        await _own_payment(container, client, payment_id)
        record = await void_payment(payment_id, client.name, await _context(container, idempotency))
        return Reply(200, ApiPaymentPublic.of(record))

    return await _run_once(idempotency, client, work)


@router.post(
    "/{payment_id}/refund",
    status_code=201,
    response_model=RefundPublic,
    summary="Refund a settled payment",
    responses={
        202: {
            "model": RefundHeldPublic,
            "description": 'Held for risk review (`[risk] mode = "enforce"`): nothing was '
            "refunded yet; it is refunded once an operator approves it. `GET` the payment "
            "to follow it (`refund_reviews`).",
        },
        **_WRITE_PROBLEMS,
        502: _UNKNOWN,
    },
)
async def refund(
    payment_id: PaymentId,
    body: AmountChange,
    client: Writer,
    idempotency: IdempotencyDep,
    container: ContainerDep,
) -> JSONResponse:
    """Refund all that is left of a settled sale or capture, or `amount` of it. With risk
    screening enforced, a risky refund is held for review and answered `202`."""
    _exact(body.amount, container)

    async def work() -> Reply:
        await _own_payment(container, client, payment_id)
        held = HeldRefund(
            payment_id, client.name, refund_key(payment_id, client.name, idempotency.key or "")
        )
        ctx = await _context(container, idempotency, refund_screen(container, held))
        try:
            made, original = await refund_payment(
                payment_id, body.amount, client.name, ctx, review_key=held.ref
            )
        except Held as exc:
            return Reply(202, RefundHeldPublic.of(exc.item, payment_id))
        except ChargeNotRecorded as exc:
            log.error("payments.not_recorded", error=str(exc))
            assert exc.original is not None
            made, original = exc.record, exc.original
        body_ = RefundPublic(
            refund=ApiPaymentPublic.of(made), payment=ApiPaymentPublic.of(original)
        )
        return Reply(201, body_)

    return await _run_once(idempotency, client, work)
