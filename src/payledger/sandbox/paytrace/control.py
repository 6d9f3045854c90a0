"""The ``/_sandbox`` control API: reset, seed, clock, recurring, state, faults, notifier."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from payledger.sandbox.paytrace import auth, demo, exports, protect, settlement
from payledger.sandbox.paytrace.cards import CustomerDeclines
from payledger.sandbox.paytrace.clock import pacific_date, pacific_text
from payledger.sandbox.paytrace.dispatch import json_default
from payledger.sandbox.paytrace.service import PayTraceSandbox
from payledger.sandbox.paytrace.settings import DO_NOT_HONOR

router = APIRouter(prefix="/_sandbox", tags=["sandbox control"])


def get_sandbox(request: Request) -> PayTraceSandbox:
    sandbox: PayTraceSandbox = request.app.state.sandbox
    return sandbox


SandboxDep = Annotated[PayTraceSandbox, Depends(get_sandbox)]


class ResetRequest(BaseModel):
    seed: int | None = None
    keep_faults: bool = False


class AdvanceRequest(BaseModel):
    seconds: float | None = None
    to: datetime | None = None


class RunRecurringRequest(BaseModel):
    through: date | None = None
    """Pacific date; defaults to today on the sandbox clock."""


class NotifierConfig(BaseModel):
    url: str | None = None
    secret: str | None = None
    attempts: int | None = None
    backoff_s: float | None = None


class CustomerDeclinesRequest(BaseModel):
    text: str = Field(DO_NOT_HONOR, min_length=1, max_length=200)
    """The processor text (``approval_message``) of each decline; e.g. the expired-card one
    ``"  EXPIRED CARD - Expired card"`` for a hard decline."""
    times: int = Field(1, ge=0, le=1000)
    """How many of the customer's next charges are declined (0: none any more)."""


class EncryptRequest(BaseModel):
    number: str
    expiration_month: str = "12"
    expiration_year: str = "2030"
    csc: str = ""


def _plain(value: Any) -> Any:
    """Decimals as JSON numbers, recursively (FastAPI would turn them into strings)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    try:
        return json_default(value)
    except TypeError:
        return value


def clock_info(sandbox: PayTraceSandbox) -> dict[str, str]:
    now = sandbox.clock.now()
    return {"now": now.isoformat(), "pacific": pacific_text(now)}


@router.post("/reset")
def reset(sandbox: SandboxDep, request: ResetRequest | None = None) -> dict[str, Any]:
    """Forget all data, tokens, clock offset and (unless ``keep_faults``) fault settings."""
    request = request or ResetRequest()
    sandbox.reset(request.seed, keep_faults=request.keep_faults)
    return {"reset": True, "seed": sandbox.settings.seed}


@router.post("/seed")
def seed(sandbox: SandboxDep) -> dict[str, Any]:
    """Add the deterministic demo customers and transactions."""
    return demo.seed_demo(sandbox)


@router.get("/clock")
def read_clock(sandbox: SandboxDep) -> dict[str, str]:
    return clock_info(sandbox)


@router.post("/clock/advance")
def advance_clock(sandbox: SandboxDep, request: AdvanceRequest) -> dict[str, str]:
    """Move the clock by ``seconds`` or to ``to``; due recurring runs and cutoffs happen."""
    if request.to is not None:
        if request.to.tzinfo is None:
            raise HTTPException(422, "'to' must carry a timezone")
        sandbox.clock.advance_to(request.to)
    else:
        sandbox.clock.advance(request.seconds or 0.0)
    sandbox.catch_up()
    return clock_info(sandbox)


@router.post("/recurring/run")
def run_recurring(
    sandbox: SandboxDep, request: RunRecurringRequest | None = None
) -> dict[str, Any]:
    """Run every schedule due on or before ``through`` now, whatever the time of day."""
    now = sandbox.clock.now()
    through = (request.through if request else None) or pacific_date(now)
    created = sandbox.scheduler.run_recurring(through, now)
    sandbox.publish_changes()
    return {"transaction_ids": [t.transaction_id for t in created]}


@router.post("/settle")
def settle(sandbox: SandboxDep) -> dict[str, Any]:
    """Close the open batch without a token (same as ``/v1/transactions/settle``)."""
    batch = settlement.settle(sandbox.state, sandbox.clock.now())
    sandbox.publish_changes()
    return {"batch": _plain(exports.batch_summary(batch)) if batch else None}


@router.post("/tokens/expire")
def expire_tokens(sandbox: SandboxDep) -> dict[str, int]:
    """Expire every issued access token (the next call gets ``invalid_token``)."""
    return {"expired": auth.expire_all(sandbox.state)}


@router.get("/state")
def read_state(sandbox: SandboxDep) -> dict[str, Any]:
    """Everything the sandbox holds, for assertions."""
    state = sandbox.state
    everything: dict[str, Any] = _plain(
        {
            "clock": clock_info(sandbox),
            "transactions": [exports.transaction_record(t) for t in state.transactions.values()],
            "checks": [exports.check_record(c) for c in state.checks.values()],
            "customers": [exports.customer_record(c) for c in state.customers.values()],
            "batches": [exports.batch_summary(b) for b in state.batches.values()],
            "open_batch": [t.transaction_id for t in settlement.open_batch(state)],
            "recurrences": [exports.recurrence_record(r) for r in state.recurrences.values()],
            "changes": [{**c.as_event(), "at": c.at.isoformat()} for c in state.changes],
            "tokens": len(state.tokens),
        }
    )
    return everything


@router.get("/declines")
def read_declines(sandbox: SandboxDep) -> dict[str, Any]:
    """The declines set by vault customer id, with how many are left."""
    found = sandbox.state.customer_declines
    return {"customers": {cid: vars(run) for cid, run in found.items()}}


@router.put("/declines/customers/{customer_id}")
def decline_customer(
    sandbox: SandboxDep, customer_id: str, request: CustomerDeclinesRequest
) -> dict[str, Any]:
    """Decline the next ``times`` charges of the vault customer's card with ``text`` (any
    amount), then approve again: a retried charge can be declined N times, then recovered."""
    sandbox.state.customer_declines[customer_id] = CustomerDeclines(request.text, request.times)
    return read_declines(sandbox)


@router.get("/faults")
def read_faults(sandbox: SandboxDep) -> dict[str, Any]:
    return {"settings": sandbox.faults.settings.as_dict(), "counts": sandbox.faults.counts}


@router.put("/faults")
def change_faults(
    sandbox: SandboxDep, changes: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    """Change fault settings by name (see ``FaultSettings``); unknown names are a 422."""
    try:
        sandbox.faults.settings.update(changes)
    except (ValueError, TypeError) as exc:
        raise HTTPException(422, str(exc)) from exc
    return read_faults(sandbox)


@router.post("/faults/reset")
def reset_faults(sandbox: SandboxDep) -> dict[str, Any]:
    sandbox.faults.reset(seed=sandbox.settings.seed)
    return read_faults(sandbox)


@router.get("/notifications")
def read_notifications(sandbox: SandboxDep) -> dict[str, Any]:
    notifier = sandbox.notifier
    return {
        "enabled": notifier.enabled,
        "url": notifier.url,
        "deliveries": [vars(d) for d in notifier.deliveries],
    }


@router.post("/notifications/flush")
async def flush_notifications(sandbox: SandboxDep) -> dict[str, Any]:
    """Wait for every pending delivery (and its retries) to finish."""
    await sandbox.notifier.flush()
    return read_notifications(sandbox)


@router.put("/notifier")
def configure_notifier(sandbox: SandboxDep, config: NotifierConfig) -> dict[str, Any]:
    """Point the notifier at ``url`` (empty disables it) and optionally change its secret."""
    notifier = sandbox.notifier
    notifier.url = config.url or None
    for name in ("secret", "attempts", "backoff_s"):
        if getattr(config, name) is not None:
            setattr(notifier, name, getattr(config, name))
    return {**read_notifications(sandbox), "secret": notifier.secret}


@router.post("/protect/encrypt")
def encrypt_card(sandbox: SandboxDep, card: EncryptRequest) -> dict[str, str]:
    """Protect-encrypted forms of a test card, for curl users (tests call ``protect`` directly)."""
    key = sandbox.settings.protect_key
    nonce = protect.protect_nonce(
        card.number, card.expiration_month, card.expiration_year, card.csc, key
    )
    return {
        "encrypted_number": protect.encrypt_field(card.number, key),
        "encrypted_csc": protect.encrypt_field(card.csc, key) if card.csc else "",
        "hpf_token": nonce.hpf_token,
        "enc_key": nonce.enc_key,
    }
