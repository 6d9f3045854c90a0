"""docs/configuration.md documents every key, and the example file is valid."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

from payledger.config import Settings, load_settings

ROOT = Path(__file__).parents[2]


def sections(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, type[BaseModel]]]:
    """Every section and sub-section (``d365``, ``d365.fields``...) with its model."""
    for key, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield prefix + key, annotation
            yield from sections(annotation, f"{prefix}{key}.")


def test_every_configuration_key_is_documented():
    doc = (ROOT / "docs/configuration.md").read_text()
    found = list(sections(Settings))
    assert "d365.setup_entity_sets" in dict(found)  # sub-sections are walked too
    for section, model in found:
        heading = rf"^#{{2,3}} `\[{re.escape(section)}\]`$"
        assert re.search(heading, doc, re.MULTILINE), f"[{section}] has no heading"
        for key in model.model_fields:
            assert f"| `{key}` |" in doc, f"{section}.{key} is not documented"


def test_the_example_configuration_loads():
    settings = load_settings(ROOT / "payledger.example.toml")
    assert settings.database.url.startswith("sqlite")
