"""Sample source documents for previews: what a sample holds that no template can use.

``payledger mapping preview`` and the web console's mapping preview share these checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from payledger.mapping.document import DOCUMENT_FIELDS, ENRICHMENTS, FREE_NAMESPACES, known_type
from payledger.mapping.jsonio import dumps
from payledger.mapping.schema import FieldType

SECTIONS = (*DOCUMENT_FIELDS, *FREE_NAMESPACES, "enrich")
"""The top-level sections a source document may have."""


def sample_document(data: Any) -> Any:
    """The source document in ``data``: a golden file (``{"input": ..., "output": ...}``) is a
    sample too."""
    if isinstance(data, dict) and isinstance(data.get("input"), dict) and "payment" not in data:
        return data["input"]
    return data


def _leaves(value: Any, prefix: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield prefix, value
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _leaves(item, (*prefix, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*prefix, str(index)))


_JSON_KINDS: dict[FieldType, tuple[type, ...]] = {
    FieldType.STRING: (str,),
    FieldType.DECIMAL: (int, Decimal),
    FieldType.INTEGER: (int,),
    FieldType.BOOLEAN: (bool,),
    FieldType.DATETIME: (str,),
    FieldType.DATE: (str,),
    FieldType.LIST: (list,),
    FieldType.OBJECT: (dict,),
}


def sample_problems(document: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Values of the wrong type (errors) and fields no template can read (warnings)."""
    problems, unknown = [], []
    for section, content in document.items():
        if section not in SECTIONS:
            unknown.append(section)
            continue
        if section in FREE_NAMESPACES:
            continue
        if section == "enrich":
            if not isinstance(content, dict):
                problems.append(f"sample section enrich: expected an object, got {content!r}")
                continue
            unknown += [f"enrich.{name}" for name in content if name not in ENRICHMENTS]
            continue
        for path, value in _leaves(content, ()):
            expected = known_type(section, path)
            shown = ".".join((section, *path))
            if expected is None:
                if not isinstance(value, dict | list):
                    unknown.append(shown)
            elif value is not None and not _fits(expected, value):
                got = f"{_json_kind(value)} {dumps(value)}"
                problems.append(f"sample field {shown}: expected {_EXPECTED[expected]}, got {got}")
    return problems, unknown


_EXPECTED = {
    FieldType.STRING: "text",
    FieldType.DECIMAL: "a JSON number",
    FieldType.INTEGER: "a whole number",
    FieldType.BOOLEAN: "true or false",
    FieldType.DATETIME: "ISO-8601 UTC text like 2025-03-05T03:04:05Z",
    FieldType.DATE: "a day like 2025-03-05",
    FieldType.LIST: "a list",
    FieldType.OBJECT: "an object",
}


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | Decimal):
        return "number"
    kinds: dict[type, str] = {str: "text", list: "list", dict: "object"}
    return kinds.get(type(value), type(value).__name__)


_TEXT_FORMS = {
    FieldType.DATETIME: re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d"),
    FieldType.DATE: re.compile(r"\d{4}-\d\d-\d\d\Z"),
}


def _fits(expected: FieldType, value: Any) -> bool:
    kinds = _JSON_KINDS.get(expected)
    if kinds is None:
        return True
    if isinstance(value, bool) and bool not in kinds:
        return False
    form = _TEXT_FORMS.get(expected)
    if form is not None and isinstance(value, str):
        return form.match(value) is not None
    return isinstance(value, kinds)
