"""The report document as CSV (for accountants) and as a self-contained HTML page."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

CSV_COLUMNS = (
    "class",
    "exception",
    "reference",
    "txn_id",
    "kind",
    "paytrace_status",
    "batch",
    "settled",
    "card_type",
    "customer",
    "currency",
    "paytrace_amount",
    "d365_amount",
    "d365_references",
    "d365_lines",
    "d365_date",
    "found_by",
    "heal",
    "note",
)


def to_json(report: Mapping[str, Any]) -> str:
    return json.dumps(report, indent=2, sort_keys=True)


def to_csv(report: Mapping[str, Any]) -> str:
    """One row per listed item (exceptions first), amounts as exact decimal text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for item in report["items"]:
        writer.writerow([_cell(item.get(column, "")) for column in CSV_COLUMNS])
    return out.getvalue()


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    text = str(value)
    # A leading =, +, - or @ would run as a formula in a spreadsheet; amounts stay numbers.
    if text[:1] in ("=", "+", "@") or (text[:1] == "-" and not _is_number(text)):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:0 0 1.5rem}
th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f3f3f3} td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.exception td{background:#fff1f0} .ok{color:#2a7d2a} .bad{color:#b3261e}
"""


def _money(amounts: Mapping[str, str]) -> str:
    return "<br>".join(f"{escape(v)} {escape(c)}" for c, v in amounts.items()) or "-"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{cell}</td>' if n in numeric else f"<td>{cell}</td>"
            for n, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _total_row(label: str, total: Mapping[str, Any]) -> list[str]:
    return [
        escape(label),
        str(total["count"]),
        str(total["exceptions"]),
        _money(total["paytrace"]),
        _money(total["d365"]),
    ]


def to_html(report: Mapping[str, Any]) -> str:
    """A readable page: totals per class, per card type and per batch, then the exceptions."""
    period = report["period"]
    title = f"Reconciliation {report['run']}: {period['from']} to {period['to']}"
    exceptions = report["exceptions"]
    verdict = (
        '<p class="ok">No exceptions.</p>'
        if not exceptions
        else f'<p class="bad">{exceptions} exception(s) need attention.</p>'
    )
    totals = report["totals"]
    headers = ("", "items", "exceptions", "PayTrace", "D365")
    by_class = _table(
        ("class", *headers[1:]),
        [_total_row(k, v) for k, v in totals["by_class"].items() if v["count"]],
        {1, 2, 3, 4},
    )
    by_card = _table(
        ("card type", *headers[1:]),
        [_total_row(k, v) for k, v in totals["by_card_type"].items()],
        {1, 2, 3, 4},
    )
    by_batch = _table(
        ("batch", "settled", "items", "exceptions", "PayTrace net", "D365", "expected fees",
         "deposit"),
        [
            [escape(b["batch"]), escape(b["settled"]), str(b["count"]), str(b["exceptions"]),
             _money(b["paytrace"]), _money(b["d365"]), _money(b.get("expected_fees", {})),
             escape(b["deposit"])]
            for b in totals["by_batch"]
        ],
        {2, 3, 4, 5, 6},
    )  # fmt: skip
    heals = report.get("heals") or {}
    heal_text = (
        "<p>Auto-heal: " + ", ".join(f"{escape(k)} {v}" for k, v in sorted(heals.items())) + "</p>"
        if heals
        else ""
    )
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f"<p>Company {escape(report['company'])}, generated {escape(report['generated_at'])}.</p>"
        f"{verdict}{heal_text}{_detail_link(report)}"
        f"<h2>Totals per class</h2>{by_class}"
        f"<h2>Per card type</h2>{by_card}"
        f"<h2>Per batch</h2>{by_batch}"
        f"<h2>Items to look at</h2>{_items(report['items'])}"
        "</body></html>"
    )


def _detail_link(report: Mapping[str, Any]) -> str:
    """Daily-summary mode: the per-transaction detail, served next to this page."""
    if report.get("granularity") != "daily_summary":
        return ""
    link = '<a href="detail.csv">per-transaction detail (CSV)</a>'
    return f"<p>One line per batch and method: {link}</p>"


def _items(items: Sequence[Mapping[str, Any]]) -> str:
    if not items:
        return "<p>None: every settled transaction matched its D365 line.</p>"
    headers = ("class", "error", "PayTrace txn", "batch", "card", "customer", "PayTrace",
               "D365", "D365 references", "D365 lines", "found by", "heal", "note")  # fmt: skip
    rows = []
    for item in items:
        cells = [
            item["class"], "yes" if item["exception"] else "no", item["txn_id"], item["batch"],
            item["card_type"], item["customer"],
            f"{item['paytrace_amount']} {item['currency']}".strip(),
            item["d365_amount"], " ".join(item["d365_references"]), " ".join(item["d365_lines"]),
            item["found_by"], item["heal"], item["note"],
        ]  # fmt: skip
        css = ' class="exception"' if item["exception"] else ""
        rows.append(f"<tr{css}>" + "".join(f"<td>{escape(str(c))}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
