"""The default templates shipped in ``payledger/mapping/specs`` (one per flow target)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from payledger.mapping.errors import TemplateError
from payledger.mapping.parse import load_template
from payledger.mapping.template import Template
from payledger.mapping.yaml_loader import load_yaml

SPECS = "specs"
EXAMPLE_SETTINGS = "settings.example.yaml"


def _specs() -> Any:
    return resources.files("payledger.mapping").joinpath(SPECS)


def default_templates() -> dict[str, Template]:
    """Every default template by name (parsed once; the dict is the caller's)."""
    return dict(_load_defaults())


@cache
def _load_defaults() -> dict[str, Template]:
    templates = {}
    for entry in sorted(_specs().iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml") or entry.name == EXAMPLE_SETTINGS:
            continue
        template = load_template(entry.read_text(encoding="utf-8"), source=entry.name)
        if f"{template.name}.yaml" != entry.name:
            raise TemplateError(template.name, "", f"is stored as {entry.name}")
        templates[template.name] = template
    return templates


def default_template(name: str) -> Template:
    """One default template by name."""
    try:
        return _load_defaults()[name]
    except KeyError:
        known = ", ".join(default_templates())
        raise TemplateError(name, "", f"no such default template (known: {known})") from None


def example_settings() -> dict[str, Any]:
    """The settings shape the default templates read, with D365 demo-company values."""
    text = _specs().joinpath(EXAMPLE_SETTINGS).read_text(encoding="utf-8")
    settings: dict[str, Any] = load_yaml(text)
    return settings
