"""``/api/v1/orders``: a web shop's order, paid by card, created in D365 (order to cash)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse

from payledger.bootstrap import order_gateway, order_parts, shop_orders
from payledger.domain.erp_keys import InvalidErpValue
from payledger.domain.errors import (
    AmbiguousOutcome,
    AuthError,
    ConfigError,
    DomainError,
    RejectedError,
)
from payledger.domain.shop_orders import ShopOrder
from payledger.flows.order_to_cash import OrderBeingCharged, OrderIdTaken, place_shop_order
from payledger.stores.api_clients import ApiClient
from payledger.web.auth import require_scope
from payledger.web.deps import ContainerDep
from payledger.web.idempotency import IdempotencyDep, Reply
from payledger.web.inbound import ExactJsonRoute
from payledger.web.order_schemas import (
    ORDER_ID,
    OrderCreate,
    OrderPublic,
    order_public,
    status_code_of,
)
from payledger.web.problems import ApiProblem, problem_responses

router = APIRouter(prefix="/api/v1/orders", tags=["orders"], route_class=ExactJsonRoute)

WriterDep = Annotated[ApiClient, Depends(require_scope("orders:write"))]
ReaderDep = Annotated[ApiClient, Depends(require_scope("read", "orders:write", "admin"))]

_CREATED: dict[int | str, dict[str, Any]] = {
    201: {"model": OrderPublic, "description": "Paid and created in D365 (customer, order, lines)"},
    202: {
        "model": OrderPublic,
        "description": "Paid; D365 is slow or down, the order completes later (see status_url)",
    },
    402: {"model": OrderPublic, "description": "The card was declined; detail says why"},
}


_OUTCOME_UNKNOWN = {
    "error": "outcome_unknown",
    "detail": "PayTrace's answer was lost and the charge could not be found afterwards: the card "
    "may or may not have been charged. The order id stays reserved (409) until it is settled; "
    "payledger's poller records the payment if it was made.",
}


def _shop_order(body: OrderCreate, currency: str) -> ShopOrder:
    if body.currency != currency:
        raise ApiProblem(
            422,
            "currency_not_accepted",
            f"this PayTrace account charges {currency}; the order is in {body.currency}",
        )
    try:
        return body.domain()
    except DomainError as exc:
        raise ApiProblem(422, "invalid_order", str(exc)) from None


@router.post(
    "",
    status_code=201,
    response_model=OrderPublic,
    responses={**_CREATED, **problem_responses(400, 401, 403, 409, 422, 502, 503)},
)
async def create_order(
    body: OrderCreate, client: WriterDep, idempotency: IdempotencyDep, container: ContainerDep
) -> JSONResponse:
    """Charge a shop order's card in PayTrace, then create the customer, order and lines in
    D365 (201), or answer 202 when D365 does not answer in time (the order completes later).

    A declined card answers 402 with the reason and creates nothing in D365 (unless
    ``[orders] on_decline = "hold"``). An order id is charged once: a request for an order
    already paid returns its state without charging again; an order id another API client
    used answers 409 ``order_id_taken``. A value D365 is queried by that could match another
    record (``*`` in the customer account, e-mail address, ...) answers 422
    ``invalid_erp_value`` before anything is charged. Needs an ``Idempotency-Key``.
    """
    shop = _shop_order(body, container.settings.paytrace.currency)
    card = body.payment.card()

    async def work() -> Reply:
        try:
            outcome = await place_shop_order(
                shop,
                card,
                client=client.name,
                parts=await order_parts(container),
                gateway=await order_gateway(container),
                clock=container.clock,
            )
        except InvalidErpValue as exc:
            raise ApiProblem(422, "invalid_erp_value", str(exc), field=exc.field) from None
        except OrderIdTaken as exc:
            raise ApiProblem(409, "order_id_taken", str(exc)) from None
        except AmbiguousOutcome:
            return Reply(502, _OUTCOME_UNKNOWN)
        except ConfigError as exc:
            raise ApiProblem(503, "not_configured", str(exc)) from None
        except OrderBeingCharged as exc:
            raise ApiProblem(
                409, "order_in_progress", str(exc), headers={"Retry-After": "1"}
            ) from None
        except AuthError as exc:
            raise ApiProblem(
                502, "gateway_unavailable", f"PayTrace refused payledger: {exc}"
            ) from None
        except RejectedError as exc:
            raise ApiProblem(
                422, "payment_rejected", f"PayTrace refused the payment: {exc}"
            ) from None
        return Reply(status_code_of(outcome.record), order_public(outcome.record))

    return await idempotency.run(client, work)


@router.get("/{order_id}", response_model=OrderPublic, responses=problem_responses(401, 403, 404))
async def read_order(
    order_id: Annotated[str, Path(pattern=ORDER_ID)], client: ReaderDep, container: ContainerDep
) -> OrderPublic:
    """Where a shop order of this API client stands: being charged, declined, pending,
    completed or failed (paid, but parked: not in D365, see ``error``). Another client's
    order is 404 as if it did not exist; an ``admin`` token reads every client's."""
    record = await shop_orders(container).get(order_id)
    if record is None or not client.can_see(record.client):
        raise ApiProblem(404, "order_not_found", f"no shop order {order_id!r}")
    return order_public(record)
