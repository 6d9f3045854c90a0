"""JSON in and out without floats: Decimals are written as bare JSON numbers, exactly.

``dumps({"CreditAmount": Decimal("125.50")})`` gives ``{"CreditAmount": 125.50}`` — the
D365 form (fact sheet §3.3: decimals are JSON numbers) and PayTrace's two-decimal amounts.
``loads`` reads numbers with a fraction back as Decimals.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def loads(text: str | bytes) -> Any:
    """Parse JSON, numbers with a fraction or exponent as :class:`~decimal.Decimal`."""
    return json.loads(text, parse_float=Decimal)


def dumps(value: Any, *, indent: int | None = None, sort_keys: bool = False) -> str:
    """Serialise mapping output; Decimals keep their exact digits, floats are refused."""
    parts: list[str] = []
    _write(value, parts, indent, 0, sort_keys)
    return "".join(parts)


def _number(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"{value} cannot be written as a JSON number")
    text = str(value)
    return text if "E" not in text else format(value, "f")


def _write(value: Any, out: list[str], indent: int | None, depth: int, sort_keys: bool) -> None:
    if isinstance(value, Decimal):
        out.append(_number(value))
    elif isinstance(value, float):
        raise TypeError(f"refusing to write the binary float {value!r}; use a Decimal")
    elif value is None or isinstance(value, bool | int | str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, dict):
        items = sorted(value.items()) if sort_keys else list(value.items())
        _container(
            "{", "}", items, out, indent, depth, sort_keys, lambda key: json.dumps(str(key)) + ": "
        )
    elif isinstance(value, list | tuple):
        _container("[", "]", [(None, item) for item in value], out, indent, depth, sort_keys, None)
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _container(
    opening: str,
    closing: str,
    items: list[tuple[Any, Any]],
    out: list[str],
    indent: int | None,
    depth: int,
    sort_keys: bool,
    key_text: Any,
) -> None:
    if not items:
        out.append(opening + closing)
        return
    inner = "" if indent is None else "\n" + " " * (indent * (depth + 1))
    outer = "" if indent is None else "\n" + " " * (indent * depth)
    separator = ", " if indent is None else ","
    out.append(opening)
    for position, (key, item) in enumerate(items):
        out.append((separator if position else "") + inner)
        if key_text is not None:
            out.append(key_text(key))
        _write(item, out, indent, depth + 1, sort_keys)
    out.append(outer + closing)
