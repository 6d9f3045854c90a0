"""``POST /webhooks/paytrace``: signed hints that a PayTrace transaction changed.

Order of checks, cheapest and least trusting first: size and card data (middleware), the
Standard Webhooks signature over the raw bytes (401), content type (415), JSON (400), schema
(422). Only then is the hint stored: the delivery id and the hint in the inbox, with the job
that fetches the transaction from PayTrace, in one transaction. ``200`` means the hint is
committed (or was already); ``503`` + ``Retry-After`` means the sender should retry. PayTrace
is not called while the sender waits: the fetch job does that, and retries while PayTrace is
down.
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime
from typing import Annotated, Any, Literal

import structlog
from fastapi import FastAPI, Request, Response
from pydantic import BaseModel, Field, TypeAdapter

from payledger.bootstrap import Container, paytrace_deliveries
from payledger.domain.errors import CardDataRejected, ConfigError, TransientError
from payledger.domain.events import PaymentHinted
from payledger.flows.receive_hint import (
    DeliveryReused,
    HintOutcome,
    HintReceipt,
    RecordHint,
    record_hint,
)
from payledger.web import inbound
from payledger.web.problems import ApiProblem
from payledger.web.secret_ring import NoSecrets, SecretRing
from payledger.web.signatures import SignatureRejected, VerifiedDelivery

log = structlog.get_logger(__name__)

MAX_ID = 2**53 - 1


class TransactionRef(inbound.StrictModel):
    transaction_id: int = Field(gt=0, le=MAX_ID)


class CheckRef(inbound.StrictModel):
    check_transaction_id: int = Field(gt=0, le=MAX_ID)


class TransactionChanged(inbound.StrictModel):
    """A card transaction was created or changed state."""

    type: Literal[
        "transaction.created",
        "transaction.captured",
        "transaction.voided",
        "transaction.adjusted",
        "transaction.settled",
    ]
    data: TransactionRef
    timestamp: datetime | None = Field(None, strict=False)


class CheckChanged(inbound.StrictModel):
    """A check (ACH) transaction was created or changed state."""

    type: Literal["check.created", "check.updated"]
    data: CheckRef
    timestamp: datetime | None = Field(None, strict=False)


PayTraceHint = Annotated[TransactionChanged | CheckChanged, Field(discriminator="type")]


ReceiptStatus = Literal["accepted", "replayed", "ignored"]
STATUS: dict[HintOutcome, ReceiptStatus] = {
    HintOutcome.ACCEPTED: "accepted",
    HintOutcome.REPLAYED: "replayed",
}


class WebhookReceipt(BaseModel):
    status: ReceiptStatus
    """``accepted``: the hint is committed to the inbox and its transaction will be fetched
    from PayTrace; ``replayed``: this delivery was received before; ``ignored``: the change is
    not ingested from webhooks."""
    event_id: str = ""
    """The hint's inbox key (``accepted`` only)."""
    detail: str = ""


def _header(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": True, "description": description,
            "schema": {"type": "string", **schema}}  # fmt: skip


OPENAPI: dict[str, Any] = {
    "parameters": [
        _header(
            "webhook-id",
            "The delivery's id, the same on every retry of it.",
            {"pattern": "^[A-Za-z0-9._:~-]{1,200}$"},
        ),
        _header(
            "webhook-timestamp",
            "Unix seconds when this attempt was signed; within ±webhooks.tolerance_seconds.",
            {"pattern": "^[0-9]{1,12}$"},
        ),
        _header(
            "webhook-signature",
            "Space-separated `v1,<base64 HMAC-SHA256 of id.timestamp.body>` signatures.",
            {"minLength": 1},
        ),
    ],
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": inbound.inline_schema(TypeAdapter(PayTraceHint).json_schema())
            }
        },
    },
}

RESPONSES = inbound.error_responses(
    {
        400: inbound.MALFORMED_JSON,
        401: "The webhook-* headers are missing or malformed, the timestamp is outside the "
        "tolerance, or no signature matches a current secret",
        413: inbound.TOO_LARGE,
        415: inbound.NOT_JSON,
        422: inbound.INVALID_BODY + "; or the webhook-id was used before for another body",
        503: "Not stored: the database is unavailable, or no signing secret is configured; "
        "retry after Retry-After seconds",
    }
)


class PayTraceWebhooks:
    """What the endpoint keeps between requests: the secret ring and the delivery log."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.settings = container.settings.webhooks
        self.ring = SecretRing(self._secrets, ttl_s=self.settings.secret_cache_seconds)
        self.deliveries = paytrace_deliveries(container)

    async def _secrets(self) -> dict[str, str]:
        return await self.container.secrets_named(self.settings.paytrace_secrets)

    def unavailable(self, error: str, detail: str) -> ApiProblem:
        return inbound.unavailable(detail, self.settings.retry_after_seconds, error)

    async def verify(self, request: Request, body: bytes) -> VerifiedDelivery:
        try:
            return await self.ring.verify(
                request.headers, body, now=time.time(), tolerance_s=self.settings.tolerance_seconds
            )
        except SignatureRejected as exc:
            log.warning("webhook.signature_rejected", source="paytrace", reason=exc.reason)
            raise ApiProblem(401, exc.reason, exc.detail) from None
        except NoSecrets:
            log.error("webhook.no_secret", names=self.settings.paytrace_secrets)
            raise self.unavailable(
                "not_configured", "payledger has no signing secret for this webhook yet"
            ) from None
        except TransientError as exc:
            raise self.database_unavailable(exc) from None
        except ConfigError as exc:
            log.error("webhook.not_configured", error=str(exc))
            raise self.unavailable(
                "not_configured", "payledger cannot read its webhook signing secrets"
            ) from None

    def database_unavailable(self, exc: TransientError) -> ApiProblem:
        log.warning("webhook.unavailable", dependency="database", error=str(exc))
        return self.unavailable(
            "database_unavailable", "the database is unavailable; nothing stored, retry later"
        )

    async def record(
        self, delivery: VerifiedDelivery, body: bytes, hint: TransactionChanged
    ) -> HintReceipt:
        hinted = PaymentHinted(
            delivery_id=delivery.message_id,
            signed_at=delivery.timestamp,
            transaction_id=str(hint.data.transaction_id),
            change=hint.type,
        )
        command = RecordHint(hinted, fingerprint=hashlib.sha256(body).hexdigest())
        return await record_hint(command, deliveries=self.deliveries)


def webhooks_of(request: Request) -> PayTraceWebhooks:
    """The endpoint's state for the app serving ``request``, built on first use. Looked up
    directly rather than declared as a FastAPI dependency: solving one costs more than the
    lookup itself on this busy route."""
    container: Container = request.app.state.container
    webhooks: PayTraceWebhooks | None = getattr(request.app.state, "paytrace_webhooks", None)
    if webhooks is None or webhooks.container is not container:
        webhooks = request.app.state.paytrace_webhooks = PayTraceWebhooks(container)
    return webhooks


async def receive_paytrace_webhook(request: Request) -> Response:
    """Verify the Standard Webhooks signature and store the hint, with the job that fetches the
    named transaction from PayTrace; answered only once the hint is committed."""
    webhooks = webhooks_of(request)
    body = await request.body()
    delivery = await webhooks.verify(request, body)
    inbound.require_json_content(request.headers)
    hint: TransactionChanged | CheckChanged = inbound.validate(
        PayTraceHint, inbound.parse_json_object(body)
    )
    if isinstance(hint, CheckChanged):
        return _answer(
            WebhookReceipt(
                status="ignored",
                detail="check (ACH) changes come in through the poller: PayTrace has no check "
                "export by id to fetch from",
            )
        )
    try:
        receipt = await webhooks.record(delivery, body, hint)
    except DeliveryReused as exc:
        raise ApiProblem(422, "delivery_id_reused", str(exc)) from None
    except CardDataRejected as exc:
        raise ApiProblem(422, "card_data_rejected", str(exc)) from None
    except TransientError as exc:
        raise webhooks.database_unavailable(exc) from None
    # Not logged: the inbox row is the record of every accepted delivery (and the fetch job
    # logs what came of it); rendering, redacting and writing a line per delivery was a
    # sizeable share of the request's CPU.
    return _answer(WebhookReceipt(status=STATUS[receipt.outcome], event_id=receipt.event_id))


def _answer(receipt: WebhookReceipt) -> Response:
    # Serialised here (pydantic's own JSON), so FastAPI neither validates the model again on
    # the way out nor encodes it through ``jsonable_encoder``.
    return Response(receipt.model_dump_json(), media_type="application/json")


def install(app: FastAPI) -> None:
    """Mount ``POST /webhooks/paytrace`` on ``app`` itself, ahead of every other route (the
    documentation's included): routes are tried in order, this is the busiest by far, and a
    route of an included router is reached through one more layer of dispatch."""
    app.add_api_route(
        "/webhooks/paytrace",
        receive_paytrace_webhook,
        methods=["POST"],
        response_model=WebhookReceipt,
        responses=RESPONSES,
        openapi_extra=OPENAPI,
        summary="Receive a signed PayTrace change notification",
        tags=["webhooks"],
    )
    app.router.routes.insert(0, app.router.routes.pop())
