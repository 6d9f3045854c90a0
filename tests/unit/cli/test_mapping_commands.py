"""``payledger mapping`` and ``payledger bench mapping`` in-process, without any vendor."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from payledger.cli.main import app
from payledger.mapping import loads

GOLDEN = Path(__file__).parents[1] / "mapping/golden"
SALE = GOLDEN / "d365_payment_journal_line.sale.json"


def invoke(config: Path, *args: str):
    return CliRunner().invoke(app, ["--config", str(config), *args], env={"COLUMNS": "250"})


def test_preview_as_json_keeps_decimals_exact(config):
    result = invoke(config, "mapping", "preview", "d365_payment_journal_line", str(SALE), "--json")

    assert result.exit_code == 0, result.output
    shown = loads(result.stdout)
    expected = loads(SALE.read_text())["output"]
    assert shown["ok"] is True and shown["payload"] == expected
    assert shown["payload"]["CreditAmount"] == Decimal("125.50")
    assert '"CreditAmount": 125.50' in result.stdout
    lineage = {line["field"]: line for line in shown["lineage"]}
    assert lineage["TransactionDate"]["sources"] == ["payment.occurred_at"]
    assert lineage["TransactionDate"]["steps"] == ["d365_date(tz=America/Los_Angeles)"]


def test_preview_takes_a_template_file(config, tmp_path):
    template = tmp_path / "mine.yaml"
    template.write_text(
        "template: mine\ntarget: {system: d365, entity: CustomersV3}\n"
        "fields:\n  OrganizationName: {path: customer.name, transform: upper}\n"
    )

    result = invoke(config, "mapping", "preview", str(template), str(SALE), "--json")

    assert result.exit_code == 0, result.output
    assert loads(result.stdout)["payload"] == {"OrganizationName": "ACME STORES LTD"}


def test_preview_reports_wrong_types_and_warns_about_unread_fields(config, tmp_path):
    document = json.loads(SALE.read_text())["input"]
    document["payment"]["amount"] = "12,50"
    document["payment"]["amout"] = 12
    document["paymnt"] = {}
    sample = tmp_path / "sample.json"
    sample.write_text(json.dumps(document))

    result = invoke(config, "mapping", "preview", "d365_payment_journal_line", str(sample))

    assert result.exit_code == 1
    assert 'sample field payment.amount: expected a JSON number, got text "12,50"' in result.stderr
    assert "field CreditAmount: '12,50' is not a number" in result.stderr
    assert "warning: sample field payment.amout is not read by templates" in result.stderr
    assert "warning: sample field paymnt is not read by templates" in result.stderr


def test_preview_refuses_an_unknown_template_and_a_sample_that_is_not_json(config, tmp_path):
    unknown = invoke(config, "mapping", "preview", "d365_nope", str(SALE))
    assert unknown.exit_code == 2
    assert "no template 'd365_nope'" in unknown.output

    broken = tmp_path / "broken.json"
    broken.write_text('{"payment": ')
    result = invoke(config, "mapping", "preview", "d365_customer", str(broken))
    assert result.exit_code == 1
    assert "is not valid JSON" in result.stderr


def test_check_offline_needs_no_d365(config):
    result = invoke(config, "mapping", "check", "--offline")

    assert result.exit_code == 0, result.output
    assert "15 templates valid" in result.stdout and "offline" in result.stdout


def test_check_lists_each_issue_and_exits_1(config, tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "mine.yaml").write_text(
        "template: mine\ntarget: {system: paytrace, entity: transaction_request}\n"
        "fields:\n  amount: {path: payment.amount}\n"
        "  discretionary_data.Channel: {path: order.reference}\n"
    )
    config.write_text(config.read_text() + f'[mapping]\ntemplates_dir = "{folder}"\n')

    result = invoke(config, "mapping", "check", "--offline")

    assert result.exit_code == 1
    row = next(line for line in result.stdout.splitlines() if "Channel" in line)
    assert "mine" in row and "discretionary data title 'Channel' is not configured" in row
    assert "1 issue(s)" in result.stderr


def test_bench_mapping_prints_the_figure(config):
    result = invoke(config, "bench", "mapping", "--n", "300", "--repeat", "1")

    assert result.exit_code == 0, result.output
    assert "mappings/s per core (CPU)" in result.stdout
    assert "d365_payment_journal_line" in result.stdout and "300" in result.stdout


def test_bench_mapping_refuses_an_unknown_template(config):
    result = invoke(config, "bench", "mapping", "--template", "nope")

    assert result.exit_code == 2
    assert "no such default template" in result.output
