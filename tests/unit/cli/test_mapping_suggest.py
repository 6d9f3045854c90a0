"""``payledger mapping suggest`` and ``payledger bench suggest`` in-process, without any vendor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from payledger.bench.suggest_samples import sample_documents
from payledger.cli.main import app
from payledger.mapping import dumps
from payledger.sandbox.d365 import D365SandboxSettings
from payledger.sandbox.d365.catalog import build_catalog
from payledger.sandbox.d365.csdl import render_csdl
from payledger.sandbox.d365.settings import default_extension_fields


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    path = tmp_path / "customers.jsonl"
    path.write_text("\n".join(dumps(d) for d in sample_documents("CustomersV3", 8)) + "\n")
    return path


@pytest.fixture
def metadata(tmp_path: Path) -> Path:
    path = tmp_path / "metadata.xml"
    path.write_text(render_csdl(build_catalog(default_extension_fields()), D365SandboxSettings()))
    return path


def invoke(config: Path, *args: str):
    return CliRunner().invoke(app, ["--config", str(config), *args], env={"COLUMNS": "250"})


def test_json_lists_candidates_for_the_fields_the_template_leaves_unmapped(
    config, samples, metadata
):
    result = invoke(
        config, "mapping", "suggest", "--entity", "CustomersV3", "--template", "d365_customer",
        "--samples", str(samples), "--metadata", str(metadata), "--format", "json",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    targets = {item["target"]: item["candidates"] for item in shown}
    assert "PrimaryContactEmail" not in targets  # the template maps it already
    assert set(shown[0]) == {"target", "candidates"}
    candidate = targets["ReceiptEmail"][0]
    assert set(candidate) == {"source", "score", "reason"}
    assert 0 <= candidate["score"] <= 1 and len(targets["ReceiptEmail"]) == 3
    email = targets["ReceiptEmail"][0]
    assert email["source"] == "customer.email"
    assert "values look like e-mail" in email["reason"]


def test_paytrace_targets_without_a_template_get_every_field(config, samples):
    result = invoke(
        config, "mapping", "suggest", "--entity", "paytrace:customer_profile",
        "--samples", str(samples), "--format", "json", "--top", "1",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    shown = {item["target"]: item["candidates"] for item in json.loads(result.stdout)}
    assert shown["billing_address.zip"][0]["source"] == "customer.address.postal_code"
    assert shown["email"][0]["source"] == "customer.email"
    assert all(len(candidates) == 1 for candidates in shown.values())


def test_the_table_marks_keys_and_extension_fields(config, samples, metadata):
    result = invoke(
        config, "mapping", "suggest", "--entity", "CustomersV3",
        "--samples", str(samples), "--metadata", str(metadata),
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "PayTraceCustomerId" in result.stdout and "extension" in result.stdout
    assert "customer.gateway_customer_id" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--entity", "paytrace:nope"], "unknown entity 'paytrace:nope'"),
        (["--entity", "NoSuchEntities", "--metadata", "{metadata}"], "unknown entity"),
        (["--entity", "CustomersV3"], "[d365] is not enabled: pass --metadata"),
        (["--entity", "paytrace:customer_profile", "--template", "nope"], "no template 'nope'"),
    ],
)
def test_bad_choices_exit_2_naming_what_is_wrong(config, samples, metadata, args, message):
    args = [a.replace("{metadata}", str(metadata)) for a in args]

    result = invoke(config, "mapping", "suggest", "--samples", str(samples), *args)

    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())


def test_a_missing_or_broken_samples_file_exits_2_naming_the_line(config, tmp_path):
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"customer": {"name": "Ada"}}\n{"customer": \n')
    listed = tmp_path / "list.jsonl"
    listed.write_text("[1, 2]\n")
    entity = ["--entity", "paytrace:customer_profile"]

    missing = invoke(config, "mapping", "suggest", *entity, "--samples", str(tmp_path / "x"))
    bad_line = invoke(config, "mapping", "suggest", *entity, "--samples", str(broken))
    not_object = invoke(config, "mapping", "suggest", *entity, "--samples", str(listed))

    assert missing.exit_code == bad_line.exit_code == not_object.exit_code == 2
    assert "cannot read --samples" in missing.stderr
    assert "broken.jsonl line 2 is not valid JSON" in " ".join(bad_line.stderr.split())
    assert "list.jsonl line 1 must be a JSON object" in " ".join(not_object.stderr.split())


def test_bench_suggest_reports_accuracy_computed_from_its_ranking(config):
    result = invoke(
        config, "bench", "suggest", "--documents", "4", "--entity", "SalesOrderLines",
        "--entity", "CustomersV3", "--format", "json",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    entities = {e["entity"]: e for e in report["entities"]}
    assert set(entities) == {"SalesOrderLines", "CustomersV3"}
    fields = sum(e["fields"] for e in entities.values())
    assert report["fields"] == fields == 7 + 14
    firsts = sum(round(e["top1"] * e["fields"]) for e in entities.values())
    assert report["top1"] == pytest.approx(firsts / fields, abs=1e-3)
    assert report["top1"] <= report["top3"] <= 1
    assert fields - len(report["misses"]) == firsts  # every field not ranked first is listed
    assert 0 < report["ms_per_field"]["mean"] <= report["ms_per_field"]["p99"]


def test_bench_suggest_refuses_an_entity_without_labels(config):
    result = invoke(config, "bench", "suggest", "--entity", "LedgerJournalLines")

    assert result.exit_code == 2
    assert "no labels for LedgerJournalLines" in " ".join(result.output.split())
