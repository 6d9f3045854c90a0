"""deploy/compose.yaml and the Dockerfile name only what payledger has: every command and
option they run parses, every variable sets a configuration key, every secret file is read
into the key it stands for, and the health check asks a real route. No container engine."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from payledger.config import load_settings
from payledger.web.routes.health import router as health_router
from tests.deploy.surface import ROOT, command_problems, setting_variables, variable_problems

COMPOSE = yaml.safe_load((ROOT / "deploy/compose.yaml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
PAYLEDGER = {name: s for name, s in SERVICES.items() if s.get("image") == "payledger:local"}
SAMPLE_SECRETS = {
    "database_url": "postgresql://payledger:s3cret@postgres:5432/payledger",
    "master_key": "a2V5LWZvci10ZXN0cy0wMDAwMDAwMDAwMDAwMDAwMDA=",
}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_the_compose_file_runs_migrate_serve_and_two_workers():
    commands = sorted(" ".join(s["command"][:2]) for s in PAYLEDGER.values())
    assert commands == ["migrate", "serve --no-worker", "worker", "worker --concurrency"]
    for name, service in PAYLEDGER.items():
        if name != "migrate":
            after = service["depends_on"]["migrate"]["condition"]
            assert after == "service_completed_successfully", name
    assert SERVICES["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


@pytest.mark.parametrize("service", sorted(PAYLEDGER))
def test_each_service_runs_a_real_payledger_command(service):
    assert command_problems(PAYLEDGER[service]["command"]) == []


def test_the_command_walk_notices_what_does_not_exist():
    assert command_problems(["serve", "--no-worker"]) == []
    assert command_problems(["secrets", "list"]) == []
    assert command_problems(["server"]) != []
    assert command_problems(["serve", "--workers", "2"]) != []
    assert command_problems(["worker", "--concurrency", "many"]) != []
    assert command_problems(["secrets", "lisst"]) != []


@pytest.mark.parametrize("service", sorted(PAYLEDGER))
def test_each_variable_sets_a_configuration_key(service):
    names = list(PAYLEDGER[service]["environment"])
    assert all(name.startswith("PAYLEDGER_") for name in names)
    assert variable_problems(names) == []


def test_the_variable_walk_notices_what_does_not_exist():
    assert setting_variables()["PAYLEDGER_DATABASE__URL"] == "database.url"
    assert "PAYLEDGER_D365__FIELDS__CUSTOMER_SYNC" in setting_variables()
    assert variable_problems(["PAYLEDGER_DATABASE__URL_FILE", "PAYLEDGER_VAULT__KEY_FILE"]) == []
    assert variable_problems(["PAYLEDGER_DATABASE__ULR", "PAYLEDGER_DB__URL_FILE"]) != []


@pytest.mark.parametrize("service", sorted(PAYLEDGER))
def test_the_configuration_loads_from_each_services_environment_and_secrets(
    service, tmp_path, monkeypatch
):
    """Secret files are mounted where the variables say, and the configuration reads each
    into the key it stands for (the values below stand in for the operator's files)."""
    spec = PAYLEDGER[service]
    mounted = {f"/run/secrets/{name}": name for name in spec["secrets"]}
    assert set(spec["secrets"]) <= set(COMPOSE["secrets"])
    monkeypatch.chdir(tmp_path)
    for name, value in spec["environment"].items():
        if str(value).startswith("/run/secrets/"):
            assert value in mounted, f"{name} points at {value}, which is not mounted"
            copy = tmp_path / mounted[value]
            copy.write_text(SAMPLE_SECRETS[mounted[value]] + "\n")
            value = str(copy)
        monkeypatch.setenv(name, str(value))
    settings = load_settings()
    assert settings.database.url == SAMPLE_SECRETS["database_url"]
    assert settings.vault.key_file.read_text().strip() == SAMPLE_SECRETS["master_key"]
    assert settings.logging.file is None


def test_the_image_runs_payledger_as_an_unprivileged_user():
    instructions = dockerfile_instructions()
    stages = [args for keyword, args in instructions if keyword == "FROM"]
    assert len(stages) == 2 and " AS builder" in stages[0]
    final = instructions[[k for k, _ in instructions].index("FROM", 1) :]
    final_text = " ".join(args for _, args in final)
    assert not re.search(r"\b(gcc|build-essential|apt-get install)\b", final_text)
    user = [args for keyword, args in final if keyword == "USER"]
    assert user and user[-1].split(":")[0] not in {"root", "0"}
    assert dict(final)["ENTRYPOINT"] == '["payledger"]'


def test_the_images_default_command_and_variables_exist():
    instructions = dict(dockerfile_instructions())
    assert command_problems(yaml.safe_load(instructions["CMD"])) == []
    variables = [
        pair.split("=", 1)[0]
        for keyword, args in dockerfile_instructions()
        if keyword == "ENV"
        for pair in shlex.split(args)
        if pair.startswith("PAYLEDGER_")
    ]
    assert variables and variable_problems(variables) == []


def test_the_health_check_asks_a_real_route():
    check = dict(dockerfile_instructions())["HEALTHCHECK"]
    paths = re.findall(r"http://[^/'\"]+(/[\w./-]*)", check)
    assert paths == ["/healthz"]
    assert paths[0] in {route.path for route in health_router.routes}  # type: ignore[attr-defined]


def test_no_deployment_file_names_a_path_outside_the_repository_layout():
    """The build context holds what the image copies (and .dockerignore lets it through)."""
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for keyword, args in dockerfile_instructions():
        if keyword == "COPY" and "--from" not in args:
            for source in shlex.split(args)[:-1]:
                assert (ROOT / source).exists(), source
                assert f"!{source.rstrip('/')}" in {line.rstrip("/") for line in ignored}
    assert (
        Path(ROOT / "deploy" / COMPOSE["services"]["migrate"]["build"]["context"]).resolve() == ROOT
    )
