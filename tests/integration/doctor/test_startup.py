"""The start-up gate: broken templates stop ``serve``, ``worker`` and the demo; an outage not."""

from __future__ import annotations

from pathlib import Path

import pytest

from payledger.bench.postgres import free_port
from payledger.bootstrap import Container
from payledger.doctor.startup import require_valid_templates
from payledger.domain.errors import ConfigError
from tests.integration.doctor.conftest import SECRETS, Sandboxes, close, configured, opened
from tests.integration.doctor.test_validate import customer_with_unknown_field


async def test_valid_templates_let_start_up_go_on(ready: Container):
    await require_valid_templates(ready)


async def test_a_broken_template_stops_start_up_naming_template_field_and_reason(
    sandboxes: Sandboxes, tmp_path: Path
):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "d365_customer.yaml").write_text(customer_with_unknown_field())
    container = await opened(
        configured(sandboxes, tmp_path, mapping={"templates_dir": folder}), SECRETS
    )
    try:
        with pytest.raises(ConfigError) as stopped:
            await require_valid_templates(container)
    finally:
        await close(container)

    assert str(stopped.value) == (
        "1 mapping problem(s) stop start-up: "
        "d365_customer.CustomerNickname: CustomersV3 has no property CustomerNickname"
    )


def unreachable_d365() -> dict[str, object]:
    nobody = f"https://127.0.0.1:{free_port()}"
    return {"base_url": nobody, "authority_host": nobody, "timeout_seconds": 1}


async def test_an_unreachable_d365_does_not_stop_start_up(sandboxes: Sandboxes, tmp_path: Path):
    container = await opened(configured(sandboxes, tmp_path, d365=unreachable_d365()), SECRETS)
    try:
        await require_valid_templates(container)
    finally:
        await close(container)


async def test_without_d365_a_template_invalid_offline_still_stops_start_up(
    sandboxes: Sandboxes, tmp_path: Path
):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "b.yaml").write_text(
        "template: b\ntarget: {system: d365, entity: X}\nfields: {Y: {path: payment.amout}}\n"
    )
    settings = configured(
        sandboxes, tmp_path, d365=unreachable_d365(), mapping={"templates_dir": folder}
    )
    container = await opened(settings, SECRETS)
    try:
        with pytest.raises(ConfigError) as stopped:
            await require_valid_templates(container)
    finally:
        await close(container)

    assert "1 mapping problem(s) stop start-up: b.Y: unknown source path payment.amout" in str(
        stopped.value
    )
