"""``POST /webhooks/d365/business-events``: D365 F&O business events (HTTPS endpoint).

D365 stores a keyed URL (``...?key=<secret>``); the key may also come in ``X-PayLedger-Key``.
It is compared in constant time with the vault secret ``[api] business_events_secret``. An
event is stored once, by ``EventId`` and by ``ControlNumber``, before the 2xx; a
``SalesInvoicePostedBusinessEvent`` then charges a customer with a card on file and auto-pay
on (a worker does it, once per invoice). Other events are stored and acknowledged. The ids
payledger looks D365 up by (``InvoiceId``, ``InvoiceAccount``, the legal entity) must be D365
ids: anything else (a ``*`` wildcard, quotes, spaces) is refused with 422 naming the field,
before anything is stored.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Literal

import structlog
from fastapi import APIRouter, Depends, Security
from fastapi.security import APIKeyHeader, APIKeyQuery
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from payledger.bootstrap import acts_on
from payledger.domain.erp_keys import InvalidErpValue, check_erp_id
from payledger.domain.errors import ConfigError
from payledger.stores.business_events import BusinessEvents
from payledger.web.deps import ContainerDep
from payledger.web.problems import ApiProblem, problem_responses

log = structlog.get_logger(__name__)

router = APIRouter(tags=["d365"])

key_in_query = APIKeyQuery(
    name="key", auto_error=False, scheme_name="BusinessEventKeyQuery",
    description="The endpoint key in the URL D365 stores (`?key=...`).",
)  # fmt: skip
key_in_header = APIKeyHeader(
    name="X-PayLedger-Key", auto_error=False, scheme_name="BusinessEventKeyHeader",
    description="The endpoint key as a header, for relays that can set one.",
)  # fmt: skip


class BusinessEventEnvelope(BaseModel):
    """The business-event envelope; event-specific fields sit beside these (kept as sent)."""

    model_config = ConfigDict(extra="allow")

    BusinessEventId: str = Field(min_length=1, max_length=120)
    EventId: str = Field(min_length=1, max_length=64)
    ControlNumber: int | None = Field(default=None, ge=0, le=2**63 - 1)
    BusinessEventLegalEntity: str = Field(default="", max_length=10)
    LegalEntity: str | None = Field(default=None, max_length=10)
    InvoiceId: str | None = Field(default=None, max_length=40)
    InvoiceAccount: str | None = Field(default=None, max_length=40)

    @field_validator(
        "BusinessEventLegalEntity", "LegalEntity", "InvoiceId", "InvoiceAccount", mode="after"
    )
    @classmethod
    def _is_a_d365_id(cls, value: str | None, info: ValidationInfo) -> str | None:
        """A value D365 is queried by must name one record: no wildcard, no quotes."""
        if not value:
            return value
        try:
            return check_erp_id(str(info.field_name), value)
        except InvalidErpValue as exc:
            raise ValueError(str(exc)) from None


class BusinessEventReceipt(BaseModel):
    """What payledger did with the event (it is committed when this is sent)."""

    id: int
    event_id: str
    status: Literal["accepted", "duplicate"]
    """``duplicate``: this EventId or ControlNumber was received before; nothing more happens."""
    action: Literal["auto_pay", "stored"]
    """``auto_pay``: a worker charges the invoice if its customer has auto-pay on."""


async def endpoint_key(
    container: ContainerDep,
    query_key: Annotated[str | None, Security(key_in_query)],
    header_key: Annotated[str | None, Security(key_in_header)],
) -> None:
    """Admit D365's requests: the key in the URL or header must equal the vault secret."""
    given = query_key or header_key
    if not given:
        raise ApiProblem(
            401, "missing_key", "send the endpoint key as ?key=... or an X-PayLedger-Key header"
        )
    name = container.settings.api.business_events_secret
    try:
        expected = (await container.vault.get(name)).get_secret_value()
    except ConfigError as exc:
        log.warning("business_events.secret_missing", secret=name, error=str(exc))
        raise ApiProblem(
            401,
            "not_configured",
            f"no business-event key is configured (payledger secrets set {name})",
        ) from exc
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise ApiProblem(401, "invalid_key", "the endpoint key is wrong")


@router.post(
    "/webhooks/d365/business-events",
    response_model=BusinessEventReceipt,
    summary="Receive a D365 business event",
    dependencies=[Depends(endpoint_key)],
    responses=problem_responses(400, 401, 422, 503),
)
async def receive_business_event(
    envelope: BusinessEventEnvelope, container: ContainerDep
) -> BusinessEventReceipt:
    """Store the event once (by EventId and ControlNumber); acknowledge duplicates too."""
    payload = envelope.model_dump(mode="json", exclude_none=True)
    process = acts_on(container, envelope.BusinessEventId)
    legal_entity = (envelope.LegalEntity or envelope.BusinessEventLegalEntity).lower()
    ordering_key = f"invoice:{legal_entity}:{envelope.InvoiceId}" if envelope.InvoiceId else None
    async with container.database.transaction() as conn:
        receipt = await BusinessEvents(container.queue).accept(
            conn,
            event_id=envelope.EventId,
            control_number=envelope.ControlNumber,
            business_event_id=envelope.BusinessEventId,
            legal_entity=legal_entity,
            payload=payload,
            process=process,
            ordering_key=ordering_key,
        )
    log.info(
        "business_event.received",
        event_id=envelope.EventId,
        kind=envelope.BusinessEventId,
        duplicate=receipt.duplicate,
    )
    return BusinessEventReceipt(
        id=receipt.id,
        event_id=envelope.EventId,
        status="duplicate" if receipt.duplicate else "accepted",
        action="auto_pay" if process else "stored",
    )
