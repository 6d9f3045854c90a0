"""The CLI starts cheaply: its entry module imports no heavy part, and the help it lists
without importing the commands is the help each command gives itself."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from payledger.cli.lazy import COMMANDS, load
from payledger.cli.main import app

HEAVY = ("fastapi", "sqlalchemy", "msal", "payledger.sandbox", "payledger.bootstrap", "uvicorn")


def test_importing_the_cli_entry_module_imports_no_heavy_part():
    probe = "import json, sys, payledger.cli.main; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(subprocess.check_output([sys.executable, "-c", probe], text=True))
    assert [m for m in loaded if m.split(".")[0] in HEAVY or m.startswith(HEAVY)] == []


def test_the_listing_shows_every_command_without_loading_it():
    listing = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert listing.exit_code == 0, listing.output
    for name, entry in COMMANDS.items():
        assert f" {name} " in listing.output
        assert entry.summary.replace("\\[", "[") in listing.output


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_listed_summary_is_the_commands_own_first_help_line(name):
    real = load(name, COMMANDS[name])
    own = (real.help or "").strip().splitlines()[0]
    assert COMMANDS[name].summary.replace("\\[", "[") == own


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_loads_and_answers_help_by_its_name(name):
    answer = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "200"})
    assert answer.exit_code == 0, answer.output
    assert f"payledger {name}" in answer.output
