"""The ``/_sandbox`` control API."""

from __future__ import annotations

from payledger.sandbox.paytrace import decrypt_field


async def test_seed_then_state_then_reset(raw):
    seeded = (await raw.post("/_sandbox/seed")).json()
    state = (await raw.get("/_sandbox/state")).json()
    await raw.post("/_sandbox/reset", json={"seed": 3})
    empty = (await raw.get("/_sandbox/state")).json()

    assert seeded["customers"] == ["cust-0001", "cust-0002", "cust-0003", "cust-0004"]
    assert len(state["batches"]) == 1 and len(state["customers"]) == 4
    assert seeded["open_sale"] in state["open_batch"]
    assert empty["transactions"] == [] and empty["customers"] == []


async def test_seeding_is_deterministic(raw):
    await raw.post("/_sandbox/seed")
    first = (await raw.get("/_sandbox/state")).json()
    await raw.post("/_sandbox/reset")
    await raw.post("/_sandbox/seed")
    again = (await raw.get("/_sandbox/state")).json()
    assert first == again


async def test_clock_advance_runs_due_recurring(raw, bearer):
    await raw.post("/_sandbox/seed")
    await raw.post(
        "/v1/recurrence/create",
        headers=bearer,
        json={
            "integrator_id": "x",
            "customer_id": "cust-0002",
            "recurrence": {"amount": "4.00", "start_date": "03/25/2026", "frequency": "6"},
        },
    )
    before = (await raw.get("/_sandbox/clock")).json()
    after = (await raw.post("/_sandbox/clock/advance", json={"seconds": 2 * 86400})).json()
    state = (await raw.get("/_sandbox/state")).json()

    recurring = [t for t in state["transactions"] if t["created"]["through"] == "Recurring"]
    assert before["pacific"] == "3/24/2026 10:15:02 AM"
    assert after["pacific"] == "3/26/2026 10:15:02 AM"
    assert [t["created"]["at"] for t in recurring] == [
        "3/25/2026 12:30:00 AM",
        "3/26/2026 12:30:00 AM",
    ]


async def test_run_recurring_now(raw, bearer):
    await raw.post("/_sandbox/seed")
    await raw.post(
        "/v1/recurrence/create",
        headers=bearer,
        json={
            "integrator_id": "x",
            "customer_id": "cust-0003",
            "recurrence": {"amount": "4.00", "start_date": "04/01/2026", "frequency": "3"},
        },
    )
    ran = (await raw.post("/_sandbox/recurring/run", json={"through": "2026-05-01"})).json()
    assert len(ran["transaction_ids"]) == 2


async def test_settle_without_a_token(raw):
    seeded = (await raw.post("/_sandbox/seed")).json()
    batch = (await raw.post("/_sandbox/settle")).json()["batch"]
    assert batch["transaction_count"] == 2  # the open sale and the demo refund
    assert seeded["open_authorization"] not in batch.get("transaction_ids", [])


async def test_faults_are_read_changed_and_validated(raw):
    changed = await raw.put("/_sandbox/faults", json={"latency_ms": 5, "error_rate": 0.25})
    unknown = await raw.put("/_sandbox/faults", json={"nonsense": 1})
    reset = (await raw.post("/_sandbox/faults/reset")).json()

    assert changed.json()["settings"]["latency_ms"] == 5
    assert unknown.status_code == 422 and "nonsense" in unknown.text
    assert reset["settings"]["error_rate"] == 0.0


async def test_expire_tokens(raw, bearer):
    assert (await raw.post("/_sandbox/tokens/expire")).json() == {"expired": 1}
    reply = await raw.post("/v1/transactions/settle", json={"integrator_id": "x"}, headers=bearer)
    assert reply.json()["error"] == "invalid_token"


async def test_protect_encrypt_helper(raw):
    body = (
        await raw.post(
            "/_sandbox/protect/encrypt", json={"number": "4111111111111111", "csc": "999"}
        )
    ).json()
    assert decrypt_field(body["encrypted_number"]) == "4111111111111111"
    assert decrypt_field(body["encrypted_csc"]) == "999"
    assert body["hpf_token"] and body["enc_key"]


async def test_openapi_documents_the_control_api(raw):
    paths = (await raw.get("/_sandbox/openapi.json")).json()["paths"]
    assert "/_sandbox/clock/advance" in paths and "/v1/{path}" not in paths


async def test_vendor_endpoints_are_post_only_except_ping(raw, bearer):
    assert (await raw.get("/v1/transactions/settle", headers=bearer)).status_code == 405
    assert (await raw.post("/v1/no/such/thing", headers=bearer)).status_code == 404
    assert (await raw.post("/v1/ping")).json()["success"] is True
