"""A YAML loader that keeps template values as written.

Plain YAML 1.1 turns ``No``/``Yes``/``On``/``Off`` into booleans (D365's ``NoYes`` enum!),
``2025-03-05`` into a date and ``1.10`` into a binary float. Here only ``true``/``false`` are
booleans, dates stay text and decimals are exact :class:`~decimal.Decimal`.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


class TemplateLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with YAML 1.2-like booleans, text dates and Decimal numbers."""


TemplateLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
TemplateLoader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL, list("tTfF"))


def _construct_bool(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> bool:
    return str(loader.construct_scalar(node)).lower() == "true"


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal | str:
    text = str(loader.construct_scalar(node))
    try:
        number = Decimal(text.replace("_", ""))
    except InvalidOperation:
        return text
    return number if number.is_finite() else text


TemplateLoader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)
TemplateLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


def load_yaml(text: str) -> Any:
    """Parse one YAML document with :class:`TemplateLoader`."""
    return yaml.load(text, Loader=TemplateLoader)  # noqa: S506 - a SafeLoader subclass
