"""The validate phase: the templates in force, against D365 ``$metadata`` or offline."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from payledger.bootstrap import Container, build
from payledger.config import Settings
from payledger.doctor.validate import template_issues
from tests.integration.doctor.conftest import SECRETS, Sandboxes, close, configured, opened


async def test_template_issues_is_empty_for_the_defaults_against_the_sandbox(ready: Container):
    assert await template_issues(ready) == []


def customer_with_unknown_field() -> str:
    """The default customer template plus a field CustomersV3 does not have."""
    default = resources.files("payledger.mapping") / "specs" / "d365_customer.yaml"
    return default.read_text() + "  CustomerNickname: {path: customer.name, optional: true}\n"


async def test_an_unknown_target_field_names_template_and_field(
    sandboxes: Sandboxes, tmp_path: Path
):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "d365_customer.yaml").write_text(customer_with_unknown_field())
    settings = configured(sandboxes, tmp_path, mapping={"templates_dir": folder})
    container = await opened(settings, SECRETS)
    try:
        online = await template_issues(container)
        offline = await template_issues(container, offline=True)
    finally:
        await close(container)

    assert [(i.template, i.field) for i in online] == [("d365_customer", "CustomerNickname")]
    assert online[0].reason == "CustomersV3 has no property CustomerNickname"
    assert offline == []  # D365 fields are only known from $metadata


async def test_offline_validation_needs_no_d365_and_reports_every_broken_file(tmp_path: Path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "a.yaml").write_text("template: a\ntarget: {system: d365, entity: X}\nfieldz: {}\n")
    (folder / "b.yaml").write_text("template: b\nfields: {X: {path: payment.amount\n")
    settings = Settings(
        database={"url": f"sqlite:///{tmp_path / 'payledger.db'}"},
        mapping={"templates_dir": folder},
        d365={"base_url": "https://127.0.0.1:9"},
    )
    container = build(settings)
    try:
        broken = await template_issues(container)
        (folder / "a.yaml").unlink()
        (folder / "b.yaml").write_text(
            "template: b\ntarget: {system: d365, entity: X}\nfields: {Y: {path: payment.amout}}\n"
        )
        unknown_source = await template_issues(container)
    finally:
        await close(container)

    assert [i.template for i in broken] == ["a", "b.yaml"]
    assert "unknown key 'fieldz'" in broken[0].reason
    assert "not valid YAML" in broken[1].reason
    assert [(i.template, i.field) for i in unknown_source] == [("b", "Y")]
    assert "unknown source path payment.amout" in unknown_source[0].reason
