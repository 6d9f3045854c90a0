"""``payledger backfill`` and ``payledger shadow report`` refuse bad input clearly."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from payledger.cli.main import app
from payledger.domain.errors import DomainError
from payledger.flows.backfill import Backfill


def invoke(config: Path, *args: str):
    return CliRunner().invoke(app, ["--config", str(config), *args], env={"COLUMNS": "200"})


def test_a_backfill_covers_each_day_of_its_period_once():
    period = Backfill(date(2026, 2, 27), date(2026, 3, 2))
    assert period.days == [date(2026, 2, 27), date(2026, 2, 28), date(2026, 3, 1), date(2026, 3, 2)]
    with pytest.raises(DomainError, match="--from 2026-03-02 is after --to 2026-03-01"):
        Backfill(date(2026, 3, 2), date(2026, 3, 1))


@pytest.mark.parametrize(
    ("first", "last", "says"),
    [
        ("2026-03-01", "yesterday", "'yesterday' is not a date"),
        ("2026-3-1x", "2026-03-02", "'2026-3-1x' is not a date"),
        ("2026-03-01", (date.today() + timedelta(days=3)).isoformat(), "is in the future"),
    ],
)
def test_backfill_names_a_bad_date(config, first, last, says):
    result = invoke(config, "backfill", "--from", first, "--to", last)
    assert result.exit_code == 2
    assert says in result.output


def test_backfill_without_a_paytrace_account_says_so(config):
    result = invoke(config, "backfill", "--from", "2026-03-01", "--to", "2026-03-01")
    assert result.exit_code == 2
    assert "backfill needs paytrace.username" in result.output


def test_backfill_from_after_to_is_refused(config):
    result = invoke(config, "backfill", "--from", "2026-03-02", "--to", "2026-03-01")
    assert result.exit_code == 2
    assert "is after --to" in result.output


def test_an_empty_shadow_report_says_why(config, tmp_path):
    result = invoke(config, "shadow", "report", "--csv", str(tmp_path / "s.csv"))
    assert result.exit_code == 0, result.output
    assert "no shadow writes" in result.output
    assert (tmp_path / "s.csv").read_text().startswith("business_day,kind,operation,reference")


def test_shadow_report_names_a_bad_date(config):
    result = invoke(config, "shadow", "report", "--from", "March")
    assert result.exit_code == 2
    assert "'March' is not a date" in result.output
