"""Hostile input at the ingest endpoints: one way to refuse it, clearly and before any write.

Every ingest route reads its raw body and turns what is wrong into an
:class:`~payledger.web.problems.ApiProblem`: a 4xx whose JSON body names the problem
(``error``), explains it (``detail``) and lists the offending fields (``problems``), never
echoing a submitted value. Card data and oversized bodies are refused earlier still, by
:mod:`payledger.web.middleware`.

Usage in a route::

    require_json_content(request.headers)               # 415
    document = parse_json_object(await request.body())  # 400
    order = validate(OrderIn, document)                 # 422 naming each bad field

Routes whose bodies FastAPI parses use :class:`ExactJsonRoute` (numbers stay exact) and the
same refusals: :func:`refused_request` renders FastAPI's validation errors in this shape.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Coroutine, Mapping, Sequence
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)

from payledger.domain.errors import DomainError
from payledger.domain.money import Money, plain_amount
from payledger.web.problems import ApiProblem, ErrorBody

MAX_AMOUNT = Decimal("9999999999.99")
MAX_PROBLEMS = 20
"""A refusal lists at most this many problems (a body may hold thousands of wrong fields)."""


def problem(field: str, what: str) -> dict[str, str]:
    """One entry of a refusal's ``problems`` list: where (``body.data.transaction_id``,
    ``header.webhook-id``) and what is wrong."""
    return {"field": field, "problem": what}


def unavailable(detail: str, retry_after_s: int, error: str = "unavailable") -> ApiProblem:
    """503 with ``Retry-After``: the request was fine, payledger cannot take it right now."""
    return ApiProblem(503, error, detail, headers={"Retry-After": str(retry_after_s)})


def error_responses(meanings: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries (status → meaning) for the refusals a route can give."""
    return {status: {"model": ErrorBody, "description": text} for status, text in meanings.items()}


MALFORMED_JSON = "The body is not a JSON object (malformed, empty, or not JSON at all)"
TOO_LARGE = "The body is larger than service.max_body_bytes"
NOT_JSON = "The body is not declared as application/json"
INVALID_BODY = "The JSON does not match the schema, or carries card data; see problems"


def require_json_content(headers: Mapping[str, str]) -> None:
    """415 unless the body is declared as JSON (``application/json`` or ``+json``)."""
    declared = headers.get("content-type", "").split(";")[0].strip().lower()
    if declared != "application/json" and not declared.endswith("+json"):
        raise ApiProblem(
            415,
            "unsupported_media_type",
            f"the body must be sent as application/json, not {declared[:60] or 'undeclared'}",
        )


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object; numbers with a fraction become ``Decimal``, never float.

    Raises:
        ApiProblem: 400 when the body is empty, not UTF-8, not JSON or not an object.
    """
    if not body.strip():
        raise ApiProblem(400, "malformed_json", "the body is empty; a JSON object is expected")
    try:
        text = body.decode("utf-8")  # RFC 8259: JSON between systems is UTF-8
    except UnicodeDecodeError:
        raise ApiProblem(400, "malformed_json", "the body is not UTF-8 text") from None
    try:
        document = json.loads(text, parse_float=Decimal, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise ApiProblem(
            400,
            "malformed_json",
            f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
        ) from None
    except (ValueError, RecursionError) as exc:
        raise ApiProblem(400, "malformed_json", f"the body is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ApiProblem(
            400,
            "malformed_json",
            f"the body must be a JSON object, not a JSON {type(document).__name__}",
        )
    return document


def validate(schema: Any, document: dict[str, Any]) -> Any:
    """``document`` parsed into ``schema`` (a model, or any type pydantic can validate such as
    an annotated union); annotate the variable receiving it.

    Raises:
        ApiProblem: 422 listing every field that is missing, unknown or of the wrong
            type or value.
    """
    adapter = _adapter(schema)
    try:
        return adapter.validate_python(document)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        raise _invalid([(_field_of(document, error), error["msg"]) for error in errors]) from None


def refused_request(errors: Sequence[Any], body: Any) -> ApiProblem:
    """FastAPI's validation ``errors`` for a request as a refusal: 400 ``malformed_json`` for a
    body that is not JSON, else 422 ``invalid_body`` (or ``invalid_request`` when a path,
    query or header parameter is wrong) naming each field. Submitted values are never echoed,
    so the refusal renders whatever was sent (NaN, lone surrogates, ...)."""
    for error in errors:
        if error.get("type") == "json_invalid":
            reason = _safe(str((error.get("ctx") or {}).get("error", "")))
            return ApiProblem(400, "malformed_json", f"the body is not valid JSON: {reason}")
    named = []
    for error in errors:
        where, *inside = error.get("loc") or ("body",)
        field = (
            _field_of(body, {**error, "loc": tuple(inside)})
            if where == "body"
            else ".".join(_safe(str(part)) for part in error["loc"])
        )
        named.append((field, str(error.get("msg", ""))))
    in_body = all(tuple(error.get("loc") or ("body",))[:1] == ("body",) for error in errors)
    return _invalid(named, code="invalid_body" if in_body else "invalid_request")


def _invalid(named: list[tuple[str, str]], code: str = "invalid_body") -> ApiProblem:
    problems = [problem(field, _sentence(message)) for field, message in named[:MAX_PROBLEMS]]
    fields = ", ".join(p["field"] for p in problems)
    if len(named) > MAX_PROBLEMS:
        fields += f" and {len(named) - MAX_PROBLEMS} more"
    what = "the body does not match the schema" if code == "invalid_body" else "invalid request"
    return ApiProblem(422, code, f"{what}: {fields}", problems=problems)


def _sentence(message: str) -> str:
    return _safe(message.removeprefix("Value error, "), limit=300)


def _safe(text: str, *, limit: int = 120) -> str:
    """``text`` fit for a JSON answer: lone surrogates escaped, cut at ``limit`` characters."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _field_of(document: Any, error: Mapping[str, Any]) -> str:
    """Where an error is, as a path through the submitted document: pydantic's location also
    names union members (a discriminator tag, a model name), which are not fields."""
    path: list[str] = []
    node = document
    location = error["loc"]
    for position, part in enumerate(location):
        is_key = isinstance(node, dict) and part in node
        is_index = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if is_key or is_index:
            path.append(_safe(str(part), limit=60))
            node = node[part]
        elif position == len(location) - 1 or not isinstance(node, dict | list):
            path.append(_safe(str(part), limit=60))  # a missing or unexpected field
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        path.append(str((error.get("ctx") or {}).get("discriminator", "")).strip("'"))
    return ".".join(["body", *path])


@functools.cache
def _adapter(schema: Any) -> TypeAdapter[Any]:
    return TypeAdapter(schema)


class StrictModel(BaseModel):
    """Inbound JSON: no unknown fields, no silent type coercion (``"12"`` is not 12)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _amount(value: Any, *, positive: bool) -> Decimal:
    bound = "greater than zero" if positive else "greater than or equal to 0"
    if _signed(value):
        raise ValueError(f"an amount must be {bound}, written without a sign")
    try:
        amount = plain_amount(value)
    except DomainError as exc:
        raise ValueError(str(exc)) from None
    if positive and not amount:
        raise ValueError(f"an amount must be {bound}")
    if amount > MAX_AMOUNT:
        raise ValueError(f"an amount is at most {MAX_AMOUNT}")
    return amount


def _signed(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith(("+", "-"))
    if isinstance(value, Decimal):
        return value.is_signed()
    return isinstance(value, int) and not isinstance(value, bool) and value < 0


_AMOUNT_JSON = {
    "anyOf": [
        {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$"},
        {"type": "number", "minimum": 0},
    ],
    "description": 'An exact decimal amount, e.g. "125.50": ASCII digits, one optional "." and '
    "at most the currency's decimal places (2 for USD); no sign, exponent or spaces. A JSON "
    "number is taken where the endpoint reads it exactly.",
    "examples": ["125.50"],
}

PositiveAmount = Annotated[
    Decimal,
    BeforeValidator(functools.partial(_amount, positive=True)),
    WithJsonSchema(_AMOUNT_JSON),
]
"""A money amount in inbound JSON, greater than zero, as written (see
:func:`~payledger.domain.money.plain_amount`); check its decimal places against the currency
with :func:`amount_in`."""

NonNegativeAmount = Annotated[
    Decimal,
    BeforeValidator(functools.partial(_amount, positive=False)),
    WithJsonSchema(_AMOUNT_JSON),
]
"""Like :data:`PositiveAmount`, zero allowed (tax, shipping)."""


def amount_in(currency: str, amount: Decimal | None, field: str) -> None:
    """Refuse ``amount`` when it has more decimal places than ``currency`` (``body.amount``
    ``"10.005"`` in USD): 422 ``invalid_body`` naming ``field``."""
    if amount is None:
        return
    try:
        Money.exact(amount, currency)
    except DomainError as exc:
        raise _invalid([(field, str(exc))]) from None


def _exact_number(text: str) -> Decimal | float:
    """A JSON number with a fraction, exactly as written; one with an exponent stays a float,
    which an amount refuses (it is not written plainly)."""
    return float(text) if "e" in text or "E" in text else Decimal(text)


class _ExactJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = json.loads(body.decode("utf-8"), parse_float=_exact_number)
            except UnicodeDecodeError:
                raise json.JSONDecodeError("the body is not UTF-8 text", "", 0) from None
            except json.JSONDecodeError:
                raise
            except (ValueError, RecursionError) as exc:  # e.g. an integer of 5,000 digits
                raise json.JSONDecodeError(str(exc), "", 0) from None
        return self._json


class ExactJsonRoute(APIRoute):
    """A route whose JSON body keeps numbers exact: ``25.50`` is ``Decimal("25.50")``, never a
    float, so an amount may be sent as a JSON number (``APIRouter(route_class=...)``)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def exact(request: Request) -> Response:
            return await handler(_ExactJsonRequest(request.scope, request.receive))

        return exact


def inline_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic JSON schema with its ``$defs`` resolved in place, for ``openapi_extra``
    (where ``#/$defs/...`` references would dangle)."""
    definitions = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            reference = node.get("$ref", "")
            if reference.startswith("#/$defs/"):
                return resolve(definitions[reference.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items() if k not in ("$defs", "discriminator")}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved
