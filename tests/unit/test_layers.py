"""The layers contract in pyproject.toml names every top-level part of payledger, so a new one
cannot stand outside the architecture."""

from __future__ import annotations

import tomllib
from pathlib import Path

import payledger

ROOT = Path(__file__).resolve().parents[2]


def layered_modules() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    (layers,) = [c for c in contracts if c["type"] == "layers"]
    names = set()
    for layer in layers["layers"]:
        names |= {part.strip() for part in layer.replace(":", "|").split("|")}
    return names


def test_every_top_level_package_and_module_is_in_a_layer():
    package = Path(payledger.__file__).parent
    top_level = {
        f"payledger.{path.stem}"
        for path in package.iterdir()
        if (path.is_dir() and (path / "__init__.py").exists())
        or (path.suffix == ".py" and path.stem != "__init__")
    }
    assert top_level - layered_modules() == set()
    assert layered_modules() - top_level == set()
