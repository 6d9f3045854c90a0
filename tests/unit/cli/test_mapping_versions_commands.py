"""``payledger mapping export|import|versions|diff|activate|rollback`` and ``replay
--template-version``, in-process on SQLite, without any vendor ([d365] off: versions are
validated against the PayTrace targets, D365 fields on trust)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from payledger.cli.main import app

NAME = "d365_payment_journal_line"


def invoke(config: Path, *args: str):
    return CliRunner().invoke(app, ["--config", str(config), *args], env={"COLUMNS": "250"})


def export(config: Path, folder: Path) -> dict[str, str]:
    result = invoke(config, "mapping", "export", "--dir", str(folder))
    assert result.exit_code == 0, result.output
    return {path.stem: path.read_text() for path in folder.glob("*.yaml")}


def rows(config: Path) -> dict[str, str]:
    """``mapping versions`` as version -> its row."""
    listed = invoke(config, "mapping", "versions", NAME)
    assert listed.exit_code == 0, listed.output
    cells = [line.split("│") for line in listed.output.splitlines() if line.startswith("│")]
    return {row[2].strip(): "|".join(cell.strip() for cell in row) for row in cells}


def edit(folder: Path, old: str, new: str) -> None:
    path = folder / f"{NAME}.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_export_then_import_unchanged_saves_nothing(config, tmp_path):
    files = export(config, tmp_path / "git")

    assert NAME in files and "d365_customer" in files
    assert files[NAME].startswith(f"# payledger: {NAME}@default the seed")
    again = invoke(config, "mapping", "import", str(tmp_path / "git"), "--actor", "alice")

    assert again.exit_code == 0, again.output
    assert f"{NAME}.yaml: unchanged ({NAME}@default)" in again.output
    assert "saved as" not in again.output


def test_an_edited_file_is_imported_activated_listed_and_exported_with_its_version(
    config, tmp_path
):
    folder = tmp_path / "git"
    export(config, folder)
    edit(folder, '"PayTrace {kind} {txn}"', '"Card {kind} {txn}"')

    imported = invoke(
        config, "mapping", "import", str(folder), "--activate", "--comment", "card", "--actor", "al"
    )

    assert imported.exit_code == 0, imported.output
    assert f"{NAME}.yaml: saved as {NAME}@1" in imported.output
    assert f"{NAME}.yaml: {NAME}@1 is active" in imported.output
    assert "d365_customer.yaml: unchanged" in imported.output
    assert rows(config)["1"].startswith("|active|1|") and rows(config)["1"].endswith(
        "|al|default|card|"
    )
    assert not rows(config)["default"].startswith("|active")
    diff = invoke(config, "mapping", "diff", NAME, "default", "1")
    assert '+      format: "Card {kind} {txn}"' in diff.stdout
    exported = export(config, tmp_path / "again")[NAME]
    assert exported.startswith(f"# payledger: {NAME}@1 saved by al at ")
    assert '"Card {kind} {txn}"' in exported


def test_preview_maps_with_the_version_in_force(config, tmp_path):
    golden = Path(__file__).parents[1] / "mapping/golden/d365_payment_journal_line.ach_sale.json"
    sample = tmp_path / "sample.json"
    sample.write_text(json.dumps(json.loads(golden.read_text())["input"]))
    before = invoke(config, "mapping", "preview", NAME, str(sample), "--json")
    assert before.exit_code == 0, before.output
    assert "PayTrace payment CHK-981619" in before.stdout
    folder = tmp_path / "git"
    export(config, folder)
    edit(folder, '"PayTrace {kind} {txn}"', '"Card {kind} {txn}"')
    assert invoke(config, "mapping", "import", str(folder), "--activate").exit_code == 0

    after = invoke(config, "mapping", "preview", NAME, str(sample), "--json")

    assert after.exit_code == 0, after.output
    assert "Card payment CHK-981619" in after.stdout


def test_importing_a_file_exported_before_someone_else_saved_is_refused(config, tmp_path):
    export(config, tmp_path / "mine")
    export(config, tmp_path / "theirs")
    edit(tmp_path / "theirs", '"PayTrace {kind} {txn}"', '"Theirs {kind} {txn}"')
    assert (
        invoke(config, "mapping", "import", str(tmp_path / "theirs"), "--actor", "bob").exit_code
        == 0
    )
    edit(tmp_path / "mine", '"PayTrace {kind} {txn}"', '"Mine {kind} {txn}"')

    mine = invoke(config, "mapping", "import", str(tmp_path / "mine"), "--actor", "alice")

    assert mine.exit_code == 1
    assert "you started from version 0, but bob saved version 1 at" in mine.stderr
    assert "alice" not in str(rows(config))


def test_bad_yaml_is_refused_naming_the_file_and_line_before_anything_is_saved(config, tmp_path):
    folder = tmp_path / "git"
    export(config, folder)
    edit(folder, '"PayTrace {kind} {txn}"', '"Card {kind} {txn}"')
    (folder / "zz_broken.yaml").write_text("template: broken\nfields:\n  A: {path: x\n  B: 1\n")

    result = invoke(config, "mapping", "import", str(folder))

    assert result.exit_code == 2
    assert "zz_broken.yaml, line 4:" in result.stderr
    assert "saved as" not in result.output


def test_an_invalid_version_is_refused_at_activation_and_a_rollback_restores_the_seed(
    config, tmp_path
):
    folder = tmp_path / "git"
    export(config, folder)
    edit(folder, "{path: payment.gateway_txn_id}", "{path: payment.no_such_field}")
    assert invoke(config, "mapping", "import", str(folder)).exit_code == 0
    edit(folder, "{path: payment.no_such_field}", "{path: payment.gateway_txn_id}")
    edit(folder, f"# payledger: {NAME}@default", f"# payledger: {NAME}@1")
    edit(folder, '"PayTrace {kind} {txn}"', '"Card {kind} {txn}"')
    assert invoke(config, "mapping", "import", str(folder)).exit_code == 0

    refused = invoke(config, "mapping", "activate", NAME, "1")
    activated = invoke(config, "mapping", "activate", NAME, "2", "--actor", "carol")
    rolled_back = invoke(config, "mapping", "rollback", NAME)

    assert refused.exit_code == 2
    assert "field PaymentId: unknown source path payment.no_such_field" in refused.stderr
    assert activated.exit_code == 0, activated.output
    assert rolled_back.exit_code == 0, rolled_back.output
    assert f"{NAME} rolled back to version default" in rolled_back.output
    listed = rows(config)
    assert listed["default"].startswith("|active|") and not listed["2"].startswith("|active|")


def test_replay_takes_the_template_version_to_map_with(config):
    original = invoke(config, "replay", "--postings", "--template-version", "original")
    unknown = invoke(config, "replay", "--postings", "--template-version", "newest")

    assert original.exit_code == 0, original.output
    assert "replayed 0 dead job(s) and 0 dead posting(s)" in original.output
    assert unknown.exit_code == 2
    assert "'newest' is not one of 'current', 'original'" in unknown.output
