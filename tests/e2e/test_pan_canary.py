"""PAN canaries pushed through a live service at every ingest endpoint leave no trace:
``payledger scan-pan`` finds 0 hits in its database and log file afterwards, and it does find
a card number planted in those same two places (so the 0 means something)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.e2e.live_service import DATABASE, LOG, LiveService, live_service, payledger

CANARIES = ["4111111111111111", "5454 5454 5454 5454", "371449635392376", "6011-0009-9302-6909"]
TRACK_DATA = ";4111111111111111=25121010000012345678?"


def hostile_requests(service: LiveService, pan: str) -> list[tuple[str, dict]]:
    """(path, httpx request options) carrying ``pan`` somewhere, one per place."""
    tagged = json.dumps({"type": "transaction.created", "data": {"transaction_id": 1, "n": pan}})
    as_id = json.dumps({"type": "transaction.created", "data": {"transaction_id": pan}})
    hint = b'{"type":"transaction.created","data":{"transaction_id":1}}'
    signed = service.signed
    return [
        ("/webhooks/paytrace", {"content": tagged, "headers": service.signed(tagged.encode())}),
        ("/webhooks/paytrace", {"content": as_id, "headers": service.signed(as_id.encode())}),
        ("/webhooks/paytrace", {"content": tagged, "headers": {"content-type": "text/plain"}}),
        ("/webhooks/paytrace", {"content": f'{{"card": "{pan}"', "headers": {}}),
        ("/webhooks/paytrace", {"content": hint, "headers": signed(hint, **{"webhook-id": pan})}),
        ("/webhooks/paytrace", {"content": hint, "headers": signed(hint, **{"x-note": pan})}),
        ("/webhooks/paytrace", {"content": hint, "params": {"ref": pan}, "headers": signed(hint)}),
        ("/webhooks/paytrace", {"content": f"track={TRACK_DATA}", "headers": {}}),
        ("/webhooks/paytrace", {"json": {"cvv": "123", "type": "transaction.created"}}),
        ("/webhooks/paytrace", {"content": ("x" * 2_000_000 + pan).encode()}),
        (f"/webhooks/paytrace/{pan}", {"json": {}}),
        ("/webhooks/d365/business-events", {"json": [{"BusinessEventId": "x", "Card": pan}]}),
        ("/api/v1/payments", {"json": {"amount": "5.00", "card": {"number": pan}}}),
        ("/api/v1/orders", {"json": {"note": pan}, "headers": {"authorization": f"Bearer {pan}"}}),
    ]  # fmt: skip


@pytest.mark.slow
def test_card_numbers_sent_to_a_live_service_are_refused_and_never_stored_or_logged(
    tmp_path: Path,
):
    with live_service(tmp_path) as service, httpx.Client(base_url=service.url) as http:
        accepted = [service.hint(http, service.sale(amount)) for amount in ("5.00", "6.00")]
        assert [r.json()["status"] for r in accepted] == ["accepted", "accepted"]
        for pan in CANARIES:
            for path, options in hostile_requests(service, pan):
                response = http.post(path, **options)
                where = f"POST {path} {sorted(options)}"
                assert 400 <= response.status_code < 500, (where, response.status_code)
                assert pan not in response.text, where
        assert service.hint(http, service.sale("7.00")).json()["status"] == "accepted"

    db = sqlite3.connect(tmp_path / DATABASE)
    assert db.execute("SELECT count(*) FROM inbox").fetchone() == (3,)
    log_text = (tmp_path / LOG).read_text()
    refusals = [line for line in log_text.splitlines() if "inbound.refused" in line]
    assert sum("card_data_rejected" in line for line in refusals) >= len(CANARIES) * 5

    clean = payledger(tmp_path, "scan-pan")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "0 card-data hits" in clean.stdout
    assert str(LOG) in clean.stdout

    # positive control: the same scan finds a number planted in that database and that log
    db.execute("UPDATE inbox SET last_error = 'charged 4111 1111 1111 1111' WHERE id = 2")
    db.commit()
    with (tmp_path / LOG).open("a") as log:
        log.write('{"event": "oops", "card": "5454545454545454"}\n')
    dirty = payledger(tmp_path, "scan-pan")
    assert dirty.returncode == 1
    assert "inbox.last_error (row 2)" in dirty.stdout
    assert f"payledger.log:{len(log_text.splitlines()) + 1}" in dirty.stdout
    assert "2 card-data hit(s)" in dirty.stdout
