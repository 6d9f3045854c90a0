"""The mapping package keeps an explicit, sorted ``__all__``."""

from __future__ import annotations

import payledger.mapping as mapping


def test_all_names_exist_and_are_sorted():
    assert mapping.__all__ == sorted(mapping.__all__)
    for member in mapping.__all__:
        assert hasattr(mapping, member), f"payledger.mapping.{member} is listed but missing"


def test_mapping_imports_only_domain_stdlib_yaml_and_jsonata():
    import ast
    from pathlib import Path

    allowed = {"payledger.domain", "payledger.mapping", "yaml", "jsonata"}
    root = Path(mapping.__file__).parent
    for source in root.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top == "payledger":
                    assert any(name.startswith(a) for a in allowed), f"{source.name}: {name}"
                elif top not in {"yaml", "jsonata"}:
                    import sys

                    assert top in sys.stdlib_module_names, f"{source.name} imports {name}"


def test_the_docs_describe_every_transform_and_default_template():
    from pathlib import Path

    docs = (Path(__file__).parents[3] / "docs" / "mapping.md").read_text()
    for name in [*mapping.TRANSFORMS, *mapping.default_templates()]:
        assert f"`{name}`" in docs or f"{name}`" in docs, name
