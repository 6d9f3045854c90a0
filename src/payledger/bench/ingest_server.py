"""The server of ``payledger bench ingest``: payledger's HTTP service plus two bench routes.

``python -m payledger.bench.ingest_server CONFIG PORT`` serves the app ``payledger serve``
serves (same uvicorn configuration, same middleware: request ids, size limit, card-data guard)
with two extra routes:

* ``POST /bench/noop`` reads the body and answers at once: the stack's own cost;
* ``POST /bench/no-refetch`` is ``POST /webhooks/paytrace`` (same handler, signature check,
  validation, delivery log and inbox) with the re-fetch from PayTrace replaced by a payment
  made up from the hinted id: the cost of a durable receipt without the PayTrace call.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import Depends, Request, Response

from payledger.bootstrap import build
from payledger.cli.common import setup_logging
from payledger.cli.serving import config, serve_together
from payledger.config import load_settings
from payledger.domain import Money, Payment, PaymentKind, PaymentStatus
from payledger.domain.events import PaymentObserved
from payledger.flows.ports import PaymentLookup
from payledger.web.app import create_app
from payledger.web.routes.webhooks import PayTraceWebhooks, receive_paytrace_webhook


class MadeUpPayments:
    """A ``PaymentLookup`` answering without PayTrace: a 10.00 sale for any id."""

    name = "paytrace"

    async def payment_by_id(self, transaction_id: str) -> PaymentObserved:
        payment = Payment(
            gateway_txn_id=transaction_id,
            kind=PaymentKind.SALE,
            status=PaymentStatus.APPROVED,
            amount=Money(Decimal("10.00"), "USD"),
            occurred_at=datetime.now(UTC),
        )
        return PaymentObserved(f"paytrace:{transaction_id}:sale:approved", payment)


class WebhooksWithoutRefetch(PayTraceWebhooks):
    async def lookup(self) -> PaymentLookup:
        return MadeUpPayments()


async def webhooks_without_refetch(request: Request) -> WebhooksWithoutRefetch:
    webhooks: WebhooksWithoutRefetch | None = getattr(request.app.state, "no_refetch", None)
    if webhooks is None:
        webhooks = WebhooksWithoutRefetch(request.app.state.container)
        request.app.state.no_refetch = webhooks
    return webhooks


async def serve(config_path: str, port: int) -> None:
    settings = load_settings(config_path)
    setup_logging(settings, stderr=False)
    container = build(settings)
    app = create_app(container, embedded_worker=False)

    @app.post("/bench/noop", include_in_schema=False)
    async def noop(request: Request) -> dict[str, str]:
        await request.body()
        return {"status": "ok"}

    @app.post("/bench/no-refetch", include_in_schema=False)
    async def no_refetch(
        request: Request,
        webhooks: Annotated[WebhooksWithoutRefetch, Depends(webhooks_without_refetch)],
    ) -> Response:
        return await receive_paytrace_webhook(request, webhooks)

    try:
        await serve_together(config(app, "127.0.0.1", port))
    finally:
        await container.aclose()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], int(sys.argv[2])))
