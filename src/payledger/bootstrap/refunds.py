"""Wiring of refunds held for risk review: the screen a payments-API refund passes, and the
``payments.refund_held`` job an operator's decision enqueues (it refunds once, or records
nothing for a rejection)."""

from __future__ import annotations

import structlog

from payledger.bootstrap.container import Container
from payledger.bootstrap.payments import charge_ports
from payledger.bootstrap.risk import item_screen
from payledger.engine.jobs import Handler, Job
from payledger.flows.release_refund import HeldRefund, release_refund
from payledger.flows.screen_charge import ItemScreen

log = structlog.get_logger(__name__)

REFUND_HELD = "payments.refund_held"


def refund_screen(container: Container, held: HeldRefund) -> ItemScreen | None:
    """What screens the refund ``held`` before it is made; None when screening is off."""
    payload = {"payment_id": held.payment_id, "client": held.client, "ref": held.ref}
    return item_screen(container, REFUND_HELD, payload)


def release_held_refund(container: Container) -> Handler:
    """Run a decided held refund: approved, refunded once; rejected, never."""

    async def run(job: Job) -> None:
        held = HeldRefund(
            payment_id=str(job.payload["payment_id"]),
            client=str(job.payload["client"]),
            ref=str(job.payload["ref"]),
        )
        screened_by = refund_screen(container, held)
        if screened_by is None:
            log.warning("risk.refund_not_released", ref=held.ref, reason="[risk] mode is off")
            return
        status = await release_refund(held, await charge_ports(container, screened_by=screened_by))
        log.info("risk.refund_released", ref=held.ref, status=status.value)

    return run
