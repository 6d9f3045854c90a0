"""``POST /webhooks/paytrace``: signed hints that a PayTrace transaction changed.

Order of checks, cheapest and least trusting first: size and card data (middleware), the
Standard Webhooks signature over the raw bytes (401), content type (415), JSON (400), schema
(422). Only then is the transaction re-fetched from PayTrace and stored. ``200`` means the
event is committed (or was already); ``503`` + ``Retry-After`` means the sender should retry.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from datetime import datetime
from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, TypeAdapter

from payledger.bootstrap import Container
from payledger.domain.errors import (
    AuthError,
    CardDataRejected,
    ConfigError,
    RejectedError,
    TransientError,
)
from payledger.domain.events import PaymentObserved
from payledger.flows.ports import PaymentLookup
from payledger.flows.receive_hint import (
    DeliveryReused,
    HintOutcome,
    HintReceipt,
    ReceiveHint,
    receive_hint,
)
from payledger.web import inbound
from payledger.web.problems import ApiProblem
from payledger.web.secret_ring import NoSecrets, SecretRing
from payledger.web.signatures import SignatureRejected, VerifiedDelivery

log = structlog.get_logger(__name__)
router = APIRouter(tags=["webhooks"])

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


ReceiptStatus = Literal["accepted", "duplicate", "replayed", "ignored"]
STATUS: dict[HintOutcome, ReceiptStatus] = {
    HintOutcome.ACCEPTED: "accepted",
    HintOutcome.DUPLICATE: "duplicate",
    HintOutcome.REPLAYED: "replayed",
}


class WebhookReceipt(BaseModel):
    status: ReceiptStatus
    """``accepted``: the payment state is new and committed to the inbox; ``duplicate``: it
    was already there; ``replayed``: this delivery was received before; ``ignored``: the
    change is not ingested from webhooks."""
    event_id: str = ""
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
        422: inbound.INVALID_BODY + "; or PayTrace does not know the transaction, or the "
        "webhook-id was used before for another body",
        503: "Not stored: the database or PayTrace is unavailable, or no signing secret is "
        "configured; retry after Retry-After seconds",
    }
)


class PayTraceWebhooks:
    """What the endpoint keeps between requests: the secret ring and the delivery log."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.settings = container.settings.webhooks
        self.ring = SecretRing(self._secrets, ttl_s=self.settings.secret_cache_seconds)
        self.deliveries = container.delivery_log("paytrace")
        self.refetches = asyncio.Semaphore(self.settings.refetch_concurrency)

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
            log.warning("webhook.unavailable", dependency="database", error=str(exc))
            raise self.unavailable(
                "database_unavailable", "the database is unavailable; retry later"
            ) from None
        except ConfigError as exc:
            log.error("webhook.not_configured", error=str(exc))
            raise self.unavailable(
                "not_configured", "payledger cannot read its webhook signing secrets"
            ) from None

    async def receive(self, delivery: VerifiedDelivery, body: bytes, txn: int) -> HintReceipt:
        command = ReceiveHint(
            delivery_id=delivery.message_id,
            fingerprint=hashlib.sha256(body).hexdigest(),
            transaction_id=str(txn),
            fetch_timeout_s=self.settings.refetch_timeout_seconds,
        )
        return await receive_hint(command, lookup=await self.lookup(), deliveries=self.deliveries)

    async def lookup(self) -> PaymentLookup:
        """Where hinted transactions are fetched from: PayTrace, a few calls at a time."""
        return LimitedLookup(await self.container.payment_lookup(), self.refetches)


class LimitedLookup:
    """A ``PaymentLookup`` with at most as many calls in flight as ``slots`` allows: a burst of
    deliveries queues here rather than as a crowd of simultaneous PayTrace requests (which
    costs the HTTP client far more CPU per request than a few at a time)."""

    def __init__(self, inner: PaymentLookup, slots: asyncio.Semaphore) -> None:
        self.inner = inner
        self.name = inner.name
        self.slots = slots

    async def payment_by_id(self, transaction_id: str) -> PaymentObserved:
        async with self.slots:
            return await self.inner.payment_by_id(transaction_id)


async def get_webhooks(request: Request) -> PayTraceWebhooks:
    container: Container = request.app.state.container
    webhooks: PayTraceWebhooks | None = getattr(request.app.state, "paytrace_webhooks", None)
    if webhooks is None or webhooks.container is not container:
        webhooks = request.app.state.paytrace_webhooks = PayTraceWebhooks(container)
    return webhooks


@router.post(
    "/webhooks/paytrace",
    response_model=WebhookReceipt,
    responses=RESPONSES,
    openapi_extra=OPENAPI,
    summary="Receive a signed PayTrace change notification",
)
async def receive_paytrace_webhook(
    request: Request, webhooks: Annotated[PayTraceWebhooks, Depends(get_webhooks)]
) -> JSONResponse:
    """Verify the Standard Webhooks signature, re-fetch the named transaction from PayTrace
    and store it in the inbox; answered only once the event is committed."""
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
                "export by id to re-fetch from",
            )
        )
    txn = hint.data.transaction_id
    try:
        receipt = await webhooks.receive(delivery, body, txn)
    except DeliveryReused as exc:
        raise ApiProblem(422, "delivery_id_reused", str(exc)) from None
    except CardDataRejected as exc:
        raise ApiProblem(422, "card_data_rejected", str(exc)) from None
    except AuthError:
        log.error("webhook.paytrace_auth_failed", transaction_id=txn)
        raise webhooks.unavailable(
            "paytrace_unavailable", "PayTrace refused payledger's credentials; nothing stored"
        ) from None
    except RejectedError:
        raise ApiProblem(
            422,
            "unknown_transaction",
            f"PayTrace does not know transaction {txn}; nothing was stored",
            problems=[inbound.problem("body.data.transaction_id", "unknown to PayTrace")],
        ) from None
    except TransientError as exc:
        down = "database" if exc.system == "database" else "paytrace"
        log.warning("webhook.unavailable", dependency=down, error=str(exc))
        raise webhooks.unavailable(
            f"{down}_unavailable", f"{down} is unavailable; nothing stored, retry later"
        ) from None
    except ConfigError as exc:
        log.error("webhook.not_configured", error=str(exc))
        raise webhooks.unavailable(
            "not_configured", "payledger is not configured to reach PayTrace yet"
        ) from None
    log.info(
        "webhook.received",
        source="paytrace",
        delivery_id=delivery.message_id,
        transaction_id=txn,
        outcome=receipt.outcome.value,
    )
    return _answer(WebhookReceipt(status=STATUS[receipt.outcome], event_id=receipt.event_id))


def _answer(receipt: WebhookReceipt) -> JSONResponse:
    # A response object, so FastAPI does not validate the model a second time on the way out
    return JSONResponse(receipt.model_dump())
