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
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from payledger.web.problems import ApiProblem, ErrorBody

MAX_AMOUNT = Decimal("9999999999.99")


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
        problems = [
            problem(_field_of(document, error), error["msg"])
            for error in exc.errors(include_url=False, include_input=False)
        ]
        fields = ", ".join(p["field"] for p in problems)
        raise ApiProblem(
            422,
            "invalid_body",
            f"the body does not match the schema: {fields}",
            problems=problems,
        ) from None


def _field_of(document: Any, error: ErrorDetails) -> str:
    """Where an error is, as a path through the submitted document: pydantic's location also
    names union members (a discriminator tag, a model name), which are not fields."""
    path: list[str] = []
    node = document
    location = error["loc"]
    for position, part in enumerate(location):
        is_key = isinstance(node, dict) and part in node
        is_index = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if is_key or is_index:
            path.append(str(part))
            node = node[part]
        elif position == len(location) - 1 or not isinstance(node, dict | list):
            path.append(str(part))  # a missing or unexpected field
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        path.append(str(error.get("ctx", {}).get("discriminator", "")).strip("'"))
    return ".".join(["body", *path])


@functools.cache
def _adapter(schema: Any) -> TypeAdapter[Any]:
    return TypeAdapter(schema)


class StrictModel(BaseModel):
    """Inbound JSON: no unknown fields, no silent type coercion (``"12"`` is not 12)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _positive_amount(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError('an amount is a decimal number, e.g. "25.00" or 25.00')
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError('an amount is a decimal number, e.g. "25.00"') from None
    if not amount.is_finite():
        raise ValueError("an amount must be a finite number")
    if amount <= 0:
        raise ValueError("an amount must be greater than zero")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("an amount has at most two decimal places")
    if amount > MAX_AMOUNT:
        raise ValueError(f"an amount is at most {MAX_AMOUNT}")
    return amount.quantize(Decimal("0.01"))


PositiveAmount = Annotated[Decimal, BeforeValidator(_positive_amount)]
"""A money amount in inbound JSON: a positive decimal with at most two places, given as a
string or a JSON number (parsed as Decimal by :func:`parse_json_object`, never as float)."""


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
