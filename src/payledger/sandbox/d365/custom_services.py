"""JSON custom services under ``/api/services``: the journal-posting service a deployment adds.

F&O has no standard OData action that posts a journal (fact sheet 4.7), so an extension
registers a custom service: ``POST /api/services/<group>/<service>/<operation>`` (fact sheet
2.1), authenticated like OData. The sandbox hosts one, named by ``journal_service``, with a
second operation that posts a free-text invoice (``free_text_invoice_operation``).

UNCERTAIN, chosen here (an extension's contract, not Microsoft's):

* Request: the operation's parameters as a JSON object; ``postJournal`` takes one data
  contract, ``{"_contract": {"DataAreaId": "usmf", "JournalBatchNumber": "00631"}}``.
* Answer: 200 with the contract it returns, ``{"$id": "1", "DataAreaId": "usmf",
  "JournalBatchNumber": "00631", "IsPosted": true, "LineCount": 3, "TransactionCount": 3}``.
* ``postFreeTextInvoice`` takes ``{"_contract": {"DataAreaId": "usmf", "InvoiceIdentifier":
  "FTI-000001"}}`` (the draft's key) and answers ``{"$id": "1", "DataAreaId": "usmf",
  "InvoiceIdentifier": "FTI-000001", "InvoiceId": "CIV-000004", "IsPosted": true,
  "InvoiceAmount": 49.90}``; once posted it emits ``CustFreeTextInvoicePostedBusinessEvent``.
* Refusal (an X++ exception): 500 with ``{"Message": "An exception occured when invoking the
  operation - <Infolog>", "ExceptionType": "XppServicesException", "ExceptionMessage": ...,
  "StackTrace": ...}``; a missing parameter is refused the same way.
* A group, service or operation that does not exist: 404 with ASP.NET's
  ``{"Message": "No HTTP resource was found that matches the request URI '...'."}``.
* ``GET`` lists the groups, a group's services or a service's operations; on an operation it
  describes its parameters and return type. Nothing runs.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from payledger.sandbox.d365.auth import TokenService
from payledger.sandbox.d365.errors import ODataError, WriteFailed, throttled
from payledger.sandbox.d365.events import BusinessEventEmitter
from payledger.sandbox.d365.free_text import HEADERS as FREE_TEXT_HEADERS
from payledger.sandbox.d365.free_text import post_free_text_invoice
from payledger.sandbox.d365.identity import base_url
from payledger.sandbox.d365.journals import post_journal
from payledger.sandbox.d365.rules import WriteContext
from payledger.sandbox.d365.state import SandboxState
from payledger.sandbox.d365.values import dumps, loads

EXCEPTION_TYPE = "XppServicesException"
_HEADER_SETS = ("CustomerPaymentJournalHeaders", "LedgerJournalHeaders")
_STACK = "   at Dynamics.AX.Application.PayledgerJournalService.postJournal()"


class ServiceRefused(Exception):
    """An X++ exception inside a service operation: answered 500 with its Infolog."""


def _json(payload: Any, status: int = 200) -> Response:
    return Response(dumps(payload), status, media_type="application/json; charset=utf-8")


def _refusal(message: str) -> Response:
    text = f"An exception occured when invoking the operation - {message}"
    return _json(
        {
            "Message": text,
            "ExceptionType": EXCEPTION_TYPE,
            "ExceptionMessage": text,
            "StackTrace": _STACK,
        },
        500,
    )


def _not_found(request: Request) -> Response:
    return _json(
        {"Message": f"No HTTP resource was found that matches the request URI '{request.url}'."},
        404,
    )


def _contract(body: Any) -> dict[str, Any]:
    contract = body.get("_contract") if isinstance(body, dict) else None
    if not isinstance(contract, dict):
        raise ServiceRefused("Parameter '_contract' is not found within the request content body.")
    return contract


def post_journal_operation(state: SandboxState, company: str, body: Any) -> dict[str, Any]:
    """``postJournal(_contract)``: post the journal the contract names, in its company."""
    contract = _contract(body)
    company = str(contract.get("DataAreaId") or company).lower()
    batch = str(contract.get("JournalBatchNumber") or "")
    key = {"dataAreaId": company, "JournalBatchNumber": batch}
    entity = next(
        (
            state.catalog.entities[name]
            for name in _HEADER_SETS
            if state.store.table(name).get(key) is not None
        ),
        state.catalog.entities[_HEADER_SETS[0]],
    )
    try:
        posted = post_journal(WriteContext(state, company), entity, key)
    except WriteFailed as failure:
        raise ServiceRefused("; ".join(failure.infolog)) from failure
    return {
        "$id": "1",
        "DataAreaId": company,
        "JournalBatchNumber": posted["header"]["JournalBatchNumber"],
        "IsPosted": True,
        "LineCount": posted["lines"],
        "TransactionCount": posted["transactions"],
    }


def post_free_text_invoice_operation(
    state: SandboxState, company: str, body: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``postFreeTextInvoice(_contract)``: post the draft the contract names; the answer and
    the posted invoice (its ``SalesInvoiceHeadersV2`` values)."""
    contract = _contract(body)
    company = str(contract.get("DataAreaId") or company).lower()
    identifier = str(contract.get("InvoiceIdentifier") or "")
    try:
        posted = post_free_text_invoice(
            WriteContext(state, company), state.catalog.entities[FREE_TEXT_HEADERS], identifier
        )
    except WriteFailed as failure:
        raise ServiceRefused("; ".join(failure.infolog)) from failure
    answer = {
        "$id": "1",
        "DataAreaId": company,
        "InvoiceIdentifier": identifier,
        "InvoiceId": posted["InvoiceNumber"],
        "IsPosted": True,
        "InvoiceAmount": posted["TotalInvoiceAmount"],
    }
    return answer, posted


_DESCRIPTIONS = {
    "postJournal": {
        "Parameters": [{"Name": "_contract", "Type": "PayledgerPostJournalContract"}],
        "Return": {"Name": "return", "Type": "PayledgerPostJournalResultContract"},
    },
    "postFreeTextInvoice": {
        "Parameters": [{"Name": "_contract", "Type": "PayledgerPostFreeTextInvoiceContract"}],
        "Return": {"Name": "return", "Type": "PayledgerPostFreeTextInvoiceResultContract"},
    },
}


class CustomServices:
    """``/api/services``: token check, faults, then the one journal-posting service."""

    def __init__(
        self, state: SandboxState, tokens: TokenService, events: BusinessEventEmitter
    ) -> None:
        self.state = state
        self.tokens = tokens
        self.events = events

    def routes(self) -> list[Route]:
        return [
            Route("/api/services", self.handle, methods=["GET", "POST"]),
            Route("/api/services/{path:path}", self.handle, methods=["GET", "POST"]),
        ]

    def _tree(self) -> dict[str, dict[str, dict[str, str]]]:
        settings = self.state.settings
        group, service, operation = settings.journal_service
        operations = {settings.free_text_invoice_operation: "postFreeTextInvoice"}
        return {group: {service: {**operations, operation: "postJournal"}}}

    async def handle(self, request: Request) -> Response:
        base = base_url(self.state, request)
        client = self.tokens.validate(request.headers.get("authorization"), base.lower())
        if client is None:
            self.state.stats.unauthorized += 1
            return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
        faults = self.state.faults
        rejection = await faults.admit()
        if rejection is not None:
            error = (
                throttled(rejection.retry_after_s)
                if rejection.status == 429
                else ODataError(rejection.status, rejection.reason)
            )
            return Response(dumps(error.body()), error.status, headers=error.headers)
        if faults.settings.service_answer == "missing":
            return _not_found(request)
        parts = [p for p in request.path_params.get("path", "").split("/") if p]
        level: Any = self._tree()
        for part in parts:
            names = level if isinstance(level, dict) else {}
            match = next((k for k in names if k.casefold() == part.casefold()), None)
            if match is None:
                return _not_found(request)
            level = names[match]
        if request.method == "GET":
            return _json(self._describe(level, len(parts)))
        if not isinstance(level, str):
            return _json(
                {"Message": "The requested resource does not support http method 'POST'."}, 405
            )
        return await self._run(request, client.default_company, level)

    @staticmethod
    def _describe(level: Any, depth: int) -> dict[str, Any]:
        if isinstance(level, str):
            return _DESCRIPTIONS[level]
        listing = ("ServiceGroups", "Services", "Operations")[depth]
        return {listing: [{"Name": name} for name in level]}

    def _operate(self, kind: str, company: str, body: Any) -> dict[str, Any]:
        if kind == "postJournal":
            return post_journal_operation(self.state, company, body)
        answer, posted = post_free_text_invoice_operation(self.state, company, body)
        self.events.emit(self.events.free_text_invoice_posted(posted))
        return answer

    async def _run(self, request: Request, company: str, kind: str) -> Response:
        raw = await request.body()
        try:
            body = loads(raw) if raw.strip() else {}
        except ValueError:
            return _refusal("The request content is not valid JSON.")
        self.state.stats.write_requests += 1
        async with self.state.faults.serving(1):
            try:
                answer = self._operate(kind, company, body)
            except ServiceRefused as refused:
                return _refusal(str(refused))
        faults = self.state.faults
        if faults.should_drop_after_commit():
            await faults.hang()
            return Response(status_code=504)
        if faults.settings.service_answer == "garbage":
            return Response(
                b"<html><body>Request accepted</body></html>", 200, media_type="text/html"
            )
        if faults.settings.service_answer == "wrong_shape":
            return _json({"result": "ok"})
        return _json(answer)
