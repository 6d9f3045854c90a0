"""The control API under ``/_sandbox``: reset, state, invoices, faults, clock, settings, events.

Not part of F&O: tests, the demo and operators use it to arrange situations and look inside.
Fault injection never applies here.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from payledger.sandbox.d365.events import BusinessEventEmitter
from payledger.sandbox.d365.invoices import InvoiceError, InvoiceRequest, post_invoice
from payledger.sandbox.d365.reads import ReadContext, full_values
from payledger.sandbox.d365.rules import WriteContext
from payledger.sandbox.d365.state import SandboxState
from payledger.sandbox.d365.values import dumps, loads, to_json


class ControlledSandbox(Protocol):
    """What the control API drives: the app's ``D365Sandbox`` (which imports this module)."""

    state: SandboxState
    events: BusinessEventEmitter

    def reset(self, *, seed: bool = ...) -> None: ...

    def post_journal(self, entity_set: str, company: str, batch: str) -> Response: ...


def _json(payload: Any, status: int = 200) -> Response:
    return Response(dumps(payload), status, media_type="application/json")


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    return loads(raw) if raw.strip() else {}


class ControlApi:
    """Routes of the control API bound to one sandbox (see :func:`create_app`)."""

    def __init__(self, sandbox: ControlledSandbox) -> None:
        self.sandbox = sandbox

    @property
    def state(self) -> SandboxState:
        return self.sandbox.state

    def routes(self) -> list[Route]:
        return [
            Route("/_sandbox/reset", self.reset, methods=["POST"]),
            Route("/_sandbox/state", self.summary, methods=["GET"]),
            Route("/_sandbox/state/{entity_set}", self.rows, methods=["GET"]),
            Route("/_sandbox/invoices", self.create_invoice, methods=["POST"]),
            Route("/_sandbox/faults", self.faults, methods=["GET", "PUT"]),
            Route("/_sandbox/settings", self.settings, methods=["GET", "PUT"]),
            Route("/_sandbox/clock", self.clock, methods=["GET", "POST"]),
            Route(
                "/_sandbox/journals/{entity_set}/{company}/{batch}/post",
                self.post,
                methods=["POST"],
            ),
            Route("/_sandbox/events", self.events, methods=["GET"]),
            Route("/_sandbox/events/flush", self.flush_events, methods=["POST"]),
        ]

    async def reset(self, request: Request) -> Response:
        """Back to the fresh state: seeded demo data (``{"seed": false}`` for empty)."""
        body = await _body(request)
        self.sandbox.reset(seed=body.get("seed", True))
        return await self.summary(request)

    async def summary(self, request: Request) -> Response:
        state = self.state
        return _json(
            {
                "counts": {name: len(t.records) for name, t in state.store.tables.items()},
                "sequences": state.store.sequences,
                "stats": vars(state.stats),
                "posted_journals": state.posted_journals,
                "clock": state.clock.now().isoformat(),
                "faults": state.faults.counts,
            }
        )

    async def rows(self, request: Request) -> Response:
        """Every row of an entity set (all companies), as OData would render it."""
        name = request.path_params["entity_set"]
        entity = self.state.catalog.entities.get(name)
        if entity is None:
            return _json({"error": f"unknown entity set {name}"}, 404)
        read = ReadContext(WriteContext(self.state, self.state.settings.default_company), "")
        company = request.query_params.get("company")
        rows = []
        for record in self.state.store.table(name):
            values = full_values(read, entity, record)
            if company and str(values.get(entity.company_property or "", "")) != company.lower():
                continue
            rows.append({n: to_json(p, values[n]) for n, p in entity.properties.items()})
        return _json({"value": rows})

    async def create_invoice(self, request: Request) -> Response:
        """Post a sales invoice inside "F&O" and emit its business event."""
        body = await _body(request)
        try:
            invoice_request = InvoiceRequest(
                company=body.get("company", self.state.settings.default_company),
                customer_account=body["customer_account"],
                amount=Decimal(str(body["amount"])) if body.get("amount") is not None else None,
                tax_amount=Decimal(str(body.get("tax_amount", 0))),
                sales_order_number=body.get("sales_order_number", ""),
                customers_order_reference=body.get("customers_order_reference", ""),
                invoice_date=date.fromisoformat(body["invoice_date"])
                if body.get("invoice_date")
                else None,
            )
            ctx = WriteContext(self.state, invoice_request.company, system=True)
            header = post_invoice(ctx, invoice_request)
        except (KeyError, ValueError, InvoiceError) as exc:
            return _json({"error": str(exc)}, 400)
        envelope = self.sandbox.events.invoice_posted(header)
        delivery = self.sandbox.events.emit(envelope)
        entity = self.state.catalog.entities["SalesInvoiceHeadersV2"]
        invoice = {n: to_json(entity.properties[n], v) for n, v in header.items()}
        return _json({"invoice": invoice, "event": envelope, "delivery": delivery is not None}, 201)

    async def faults(self, request: Request) -> Response:
        injector = self.state.faults
        if request.method == "PUT":
            try:
                injector.settings.update(await _body(request))
            except (ValueError, TypeError) as exc:
                return _json({"error": str(exc)}, 400)
        return _json({"settings": injector.settings.as_dict(), "counts": injector.counts})

    async def settings(self, request: Request) -> Response:
        settings = self.state.settings
        if request.method == "PUT":
            try:
                settings.update(await _body(request))
            except ValueError as exc:
                return _json({"error": str(exc)}, 400)
        return _json(settings.runtime_view())

    async def clock(self, request: Request) -> Response:
        """Move the sandbox clock forward (``{"advance_s": 7200}``) to expire tokens."""
        if request.method == "POST":
            self.state.clock.advance(float((await _body(request)).get("advance_s", 0)))
        return _json({"now": self.state.clock.now().isoformat()})

    async def post(self, request: Request) -> Response:
        """Post a journal as a user would in F&O (balance checked, then IsPosted = Yes)."""
        return self.sandbox.post_journal(
            request.path_params["entity_set"],
            request.path_params["company"],
            request.path_params["batch"],
        )

    async def events(self, request: Request) -> Response:
        return _json({"deliveries": self.sandbox.events.deliveries})

    async def flush_events(self, request: Request) -> Response:
        await self.sandbox.events.flush()
        return _json({"deliveries": self.sandbox.events.deliveries})
