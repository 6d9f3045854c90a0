"""Golden files: every default template, run on a sample, gives exactly the stored payload.

Regenerate only deliberately: ``.venv/bin/python tests/unit/mapping/golden_cases.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from payledger.mapping import compile_template, default_template, default_templates, dumps, loads
from tests.unit.mapping.catalog import fixture_catalog
from tests.unit.mapping.golden_cases import CASES, GOLDEN, settings

GOLDEN_FILES = sorted(path for path in GOLDEN.glob("*.json") if not path.name.startswith("_"))


def _floats(value: object) -> list[object]:
    if isinstance(value, dict):
        return [f for item in value.values() for f in _floats(item)]
    if isinstance(value, list):
        return [f for item in value for f in _floats(item)]
    return [value] if isinstance(value, float) else []


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda path: path.stem)
def test_template_maps_sample_to_stored_payload(path: Path):
    golden = loads(path.read_text())
    compiled = compile_template(default_template(golden["template"]), settings(), fixture_catalog())

    payload = compiled.map(golden["input"])

    assert dumps(payload, indent=2) == dumps(golden["output"], indent=2)
    assert _floats(payload) == []


def test_every_default_template_has_a_golden_file():
    covered = {path.stem.split(".")[0] for path in GOLDEN_FILES}
    assert covered == set(default_templates())


@pytest.mark.parametrize("case", sorted(CASES))
def test_stored_inputs_are_what_the_document_helper_builds(case: str):
    stored = loads((GOLDEN / f"{case}.json").read_text())["input"]
    assert dumps(CASES[case](), indent=2) == dumps(stored, indent=2)
