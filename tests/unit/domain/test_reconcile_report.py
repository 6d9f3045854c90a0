"""The report document and its CSV and HTML renderings."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

from payledger.domain.reconcile import (
    ReportContext,
    build_report,
    reconcile,
    to_csv,
    to_html,
    to_json,
)
from tests.unit.domain.reconcile_builders import DAY, PERIOD, RULES, line, posted_for, txn

CONTEXT = ReportContext(
    run_id=7,
    company="usmf",
    first_day=date.fromordinal(DAY),
    last_day=date.fromordinal(DAY),
    generated_at="2026-03-02T03:00:00+00:00",
    heals={"202": "enqueued"},
    deposits={"413": "enqueued"},
)


def sample_report() -> dict:
    matched, missing, odd = txn("201", 2_500), txn("202", 7_000, card="AMEX"), txn("203")
    lines = [
        posted_for(matched),
        posted_for(odd, amount=9_000),
        line("<script>alert(1)</script>", 1_234, customer="=HYPERLINK(1)", line_id="J/9"),
    ]
    return build_report(reconcile([matched, missing, odd], lines, RULES, PERIOD), CONTEXT)


def test_the_report_totals_each_class_card_type_and_batch():
    report = sample_report()
    assert report["counts"]["matched"] == 1 and report["exceptions"] == 3
    assert report["totals"]["by_class"]["missing_in_d365"]["paytrace"] == {"USD": "70.00"}
    assert report["totals"]["by_card_type"]["AMEX"]["count"] == 1
    [batch] = report["totals"]["by_batch"]
    assert batch["paytrace"] == {"USD": "195.00"} and batch["deposit"] == "enqueued"
    assert batch["expected_fees"] == {"USD": "4.22"}  # VISA 1.02 + 3.20; no rule for AMEX
    assert report["heals"] == {"enqueued": 1}
    assert json.loads(to_json(report)) == report


def test_items_list_what_is_not_matched_with_ids_from_both_sides():
    items = {item["class"]: item for item in sample_report()["items"]}
    assert set(items) == {"missing_in_d365", "amount_mismatch", "missing_in_paytrace"}
    odd = items["amount_mismatch"]
    assert (odd["txn_id"], odd["reference"], odd["d365_references"]) == (
        "203",
        "PT-203-PAY",
        ["PT-203-PAY"],
    )
    assert (odd["paytrace_amount"], odd["d365_amount"]) == ("100.00", "90.00")
    assert items["missing_in_d365"]["heal"] == "enqueued"


def test_the_csv_has_one_row_per_item_and_cannot_run_formulas():
    rows = list(csv.DictReader(io.StringIO(to_csv(sample_report()))))
    assert len(rows) == 3
    stranger = next(r for r in rows if r["class"] == "missing_in_paytrace")
    assert stranger["customer"] == "'=HYPERLINK(1)"
    assert stranger["d365_amount"] == "12.34"
    refund_like = next(r for r in rows if r["class"] == "missing_in_d365")
    assert refund_like["paytrace_amount"] == "70.00"


def test_the_html_page_shows_the_totals_and_escapes_what_it_shows():
    html = to_html(sample_report())
    assert html.startswith("<!doctype html>")
    for heading in ("Totals per class", "Per card type", "Per batch", "Items to look at"):
        assert f"<h2>{heading}</h2>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "3 exception(s) need attention" in html and "PT-203-PAY" in html
