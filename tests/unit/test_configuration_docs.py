"""docs/configuration.md documents every key, and the example file is valid."""

from __future__ import annotations

from pathlib import Path

from payledger.config import Settings, load_settings

ROOT = Path(__file__).parents[2]


def test_every_configuration_key_is_documented():
    doc = (ROOT / "docs/configuration.md").read_text()
    for section, field in Settings.model_fields.items():
        assert f"## `[{section}]`" in doc
        for key in field.annotation.model_fields:
            assert f"| `{key}` |" in doc, f"{section}.{key} is not documented"


def test_the_example_configuration_loads():
    settings = load_settings(ROOT / "payledger.example.toml")
    assert settings.database.url.startswith("sqlite")
