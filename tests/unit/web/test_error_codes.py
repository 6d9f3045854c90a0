"""Every error body's ``error`` is a stable snake_case code, listed in docs/api.md; every
PayLedgerError answers with its class's code and the status for its kind."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import payledger
from payledger.domain.errors import (
    AmbiguousOutcome,
    AuthError,
    CardDataRejected,
    ConfigError,
    CurrencyMismatch,
    MappingError,
    PayLedgerError,
    RateLimited,
    RejectedError,
    TransientError,
    snake_case,
)
from payledger.web.errors import problem_of

ROOT = Path(__file__).parents[3]
SNAKE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")


def every_error_class() -> list[type[PayLedgerError]]:
    for module in pkgutil.walk_packages(payledger.__path__, "payledger."):
        if ".migrations" not in module.name:  # alembic's env.py runs on import
            importlib.import_module(module.name)

    def below(cls: type[PayLedgerError]) -> Iterator[type[PayLedgerError]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from below(sub)

    return [PayLedgerError, *below(PayLedgerError)]


def codes_written_in_web() -> dict[str, str]:
    """code → file, for each code a JSON error body of the API can carry: ``ApiProblem(status,
    code, ...)``, ``SignatureRejected(code, ...)``, ``error=code``, ``{"error": code}`` and the
    webhook route's ``self.unavailable(code, ...)`` (the console's HTML pages are not bodies)."""
    found: dict[str, str] = {}
    for path in (ROOT / "src/payledger/web").rglob("*.py"):
        if "console" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            for value in _code_nodes(node):
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found[value.value] = str(path.relative_to(ROOT))
    return found


def _code_nodes(node: ast.AST) -> Iterator[ast.expr]:
    if isinstance(node, ast.Dict):
        yield from (v for k, v in zip(node.keys, node.values, strict=True) if _is(k, "error"))
    if not isinstance(node, ast.Call):
        return
    name = getattr(node.func, "id", getattr(node.func, "attr", ""))
    yield from (keyword.value for keyword in node.keywords if keyword.arg == "error")
    if name == "ApiProblem" and len(node.args) > 1:
        yield node.args[1]
    if name == "SignatureRejected" and node.args:
        yield node.args[0]
    method_on_self = isinstance(node.func, ast.Attribute) and _is_name(node.func.value, "self")
    if name == "unavailable" and method_on_self and node.args:
        yield node.args[0]


def _is(node: ast.expr | None, text: str) -> bool:
    return isinstance(node, ast.Constant) and node.value == text


def _is_name(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def test_class_names_become_snake_case_codes():
    assert snake_case("CardDataRejected") == "card_data_rejected"
    assert snake_case("D365NotFound") == "d365_not_found"
    assert snake_case("HTTPTimeout") == "http_timeout"


@pytest.mark.parametrize("cls", every_error_class(), ids=lambda cls: cls.__name__)
def test_every_payledger_error_has_a_snake_case_code(cls):
    assert SNAKE.fullmatch(cls.code), f"{cls.__name__}.code = {cls.code!r}"


def test_the_documented_codes_are_the_ones_errors_answer_with():
    assert CardDataRejected.code == "card_data_rejected"
    assert AmbiguousOutcome.code == "outcome_unknown"
    assert ConfigError.code == "not_configured"


def test_codes_written_in_the_api_are_snake_case_and_documented():
    codes = codes_written_in_web()
    assert {"idempotency_key_missing", "card_data_rejected", "outcome_unknown"} <= set(codes)
    doc = (ROOT / "docs/api.md").read_text().split("## Error codes", 1)[1]
    for code, where in codes.items():
        assert SNAKE.fullmatch(code), f"{code!r} in {where} is not snake_case"
        assert f"`{code}`" in doc, f"{code} ({where}) is not listed under docs/api.md Error codes"


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (CardDataRejected(["description"]), 422),
        (CurrencyMismatch("USD and EUR"), 422),
        (MappingError("no such field"), 422),
        (RejectedError("refused", system="d365"), 502),
        (AuthError("bad credentials", system="paytrace"), 502),
        (AmbiguousOutcome("answer lost", system="paytrace"), 502),
        (TransientError("D365 is down", system="d365"), 503),
        (ConfigError("no PayTrace password"), 503),
        (PayLedgerError("unexpected"), 500),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_an_error_answers_with_its_code_its_message_and_the_status_of_its_kind(error, status):
    problem = problem_of(error)
    assert (problem.status, problem.body()) == (
        status,
        {"error": type(error).code, "detail": str(error)},
    )


def test_a_rate_limit_says_when_to_come_back():
    problem = problem_of(RateLimited("slow down", retry_after=2.4, system="d365"))
    assert (problem.status, problem.error, problem.headers) == (
        503,
        "rate_limited",
        {"Retry-After": "2"},
    )
