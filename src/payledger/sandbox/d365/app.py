"""The D365 F&O sandbox as one ASGI app: identity, OData under ``/data``, custom services
under ``/api/services``, control API."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from payledger.sandbox.d365.auth import TokenService
from payledger.sandbox.d365.batch import BatchRunner, ChangeSet, count_operations, parse_batch
from payledger.sandbox.d365.control import ControlApi
from payledger.sandbox.d365.custom_services import CustomServices
from payledger.sandbox.d365.errors import ODataError, throttled
from payledger.sandbox.d365.events import BusinessEventEmitter
from payledger.sandbox.d365.identity import IdentityEndpoints, base_url
from payledger.sandbox.d365.journals import post_journal
from payledger.sandbox.d365.rules import WriteContext
from payledger.sandbox.d365.seed import seed as seed_demo
from payledger.sandbox.d365.service import WRITE_METHODS, ODataRequest, ODataResponse, ODataService
from payledger.sandbox.d365.settings import D365SandboxSettings
from payledger.sandbox.d365.state import Clock, SandboxState
from payledger.sandbox.d365.values import dumps
from payledger.sandbox.faults import FaultSettings

_ODATA_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE", "MERGE"]


def _to_response(response: ODataResponse) -> Response:
    return Response(response.body, response.status, headers=response.headers)


class D365Sandbox:
    """One emulated F&O environment with its Entra ID tenant."""

    def __init__(self, settings: D365SandboxSettings) -> None:
        self.settings = settings
        self.state = SandboxState(settings)
        self.tokens = TokenService(self.state)
        self.service = ODataService(self.state)
        self.events = BusinessEventEmitter(self.state)
        self.custom_services = CustomServices(self.state, self.tokens, self.events)
        self.reset(seed=settings.seed_demo_data, faults=False)

    def reset(self, *, seed: bool = True, faults: bool = True) -> None:
        """Empty every table and reload the demo (``seed``); faults back to none."""
        self.state.clear()
        self.state.clock = Clock()
        self.events.reset()
        if faults:
            self.state.faults.reset(seed=self.settings.fault_seed)
            self.settings.faults = self.state.faults.settings
        if seed:
            seed_demo(self.state)

    def post_journal(self, entity_set: str, company: str, batch: str) -> Response:
        entity = self.state.catalog.entities.get(entity_set)
        if entity is None or entity_set not in (
            "CustomerPaymentJournalHeaders",
            "LedgerJournalHeaders",
        ):
            return Response(dumps({"error": f"{entity_set} is not a journal header set"}), 404)
        try:
            post_journal(
                WriteContext(self.state, company),
                entity,
                {"dataAreaId": company, "JournalBatchNumber": batch},
            )
        except ODataError as error:
            return Response(dumps(error.body()), error.status, media_type="application/json")
        return Response(dumps({"posted": True, "batch": batch}), media_type="application/json")

    async def odata(self, request: Request) -> Response:
        """Every ``/data`` request: token check, fault injection, then the service."""
        self.state.stats.odata_requests += 1
        if (
            request.method in WRITE_METHODS
            and request.path_params.get("path", "").strip("/") != "$batch"
        ):
            self.state.stats.write_requests += 1
        base = base_url(self.state, request)
        client = self.tokens.validate(request.headers.get("authorization"), base.lower())
        if client is None:
            self.state.stats.unauthorized += 1
            return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
        rejection = await self.state.faults.admit()
        if rejection is not None:
            error = (
                throttled(rejection.retry_after_s)
                if rejection.status == 429
                else ODataError(rejection.status, rejection.reason)
            )
            return _to_response(ODataResponse.error(error))
        template = ODataRequest(
            request.method,
            request.path_params.get("path", ""),
            request.query_params.multi_items(),
            {k.lower(): v for k, v in request.headers.items()},
            await request.body(),
            base,
            client.default_company,
        )
        if template.path.strip("/") == "$batch" and request.method == "POST":
            return await self._batch(request, template)
        async with self.state.faults.serving(1):
            response = self.service.handle(template)
        committed = request.method in WRITE_METHODS and response.status < 400
        if committed and self.state.faults.should_drop_after_commit():
            await self.state.faults.hang()
            return Response(status_code=504)
        return _to_response(response)

    async def _batch(self, request: Request, template: ODataRequest) -> Response:
        self.state.stats.batches += 1
        try:
            items = parse_batch(request.headers.get("content-type", ""), template.body)
        except ODataError as error:
            return _to_response(ODataResponse.error(error))
        if any(isinstance(i, ChangeSet) or i.method in WRITE_METHODS for i in items):
            self.state.stats.write_requests += 1
        runner = BatchRunner(self.service, template)
        async with self.state.faults.serving(count_operations(items)):
            response = runner.run(items)
        if runner.committed_writes and self.state.faults.should_drop_after_commit():
            await self.state.faults.hang()
            return Response(status_code=504)
        return _to_response(response)

    def asgi(self) -> Starlette:
        routes = [
            *ControlApi(self).routes(),
            Route("/data", self.odata, methods=_ODATA_METHODS),
            Route("/data/{path:path}", self.odata, methods=_ODATA_METHODS),
            *self.custom_services.routes(),
            *IdentityEndpoints(self.state, self.tokens).routes(),
        ]
        app = Starlette(routes=routes)
        app.state.sandbox = self
        return app


def create_app(settings: D365SandboxSettings | None = None) -> Starlette:
    """The sandbox ASGI app; ``app.state.sandbox`` is the :class:`D365Sandbox` behind it."""
    return D365Sandbox(settings or D365SandboxSettings()).asgi()


__all__ = ["D365Sandbox", "FaultSettings", "create_app"]
