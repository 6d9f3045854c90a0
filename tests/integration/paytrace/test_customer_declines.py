"""The sandbox's decline control: a vault customer's next N charges are declined with the
given processor text whatever the amount, then approved, so a retried charge can recover."""

from __future__ import annotations

from payledger.sandbox.paytrace.settings import EXPIRED_CARD


async def by_customer(wire, customer_id: str, amount: str = "25.00") -> dict:
    reply = await wire.post(
        "/v1/transactions/sale/by_customer", {"amount": amount, "customer_id": customer_id}
    )
    body: dict = reply.json()
    return body


async def test_a_customer_is_declined_n_times_then_approved(wire, raw):
    await wire.ok("/v1/customer/create", wire.KEYED, customer_id="dun-1")
    set_ = await raw.put(
        "/_sandbox/declines/customers/dun-1",
        json={"text": "    NSF - Insufficient funds", "times": 2},
    )
    assert set_.status_code == 200
    assert set_.json() == {
        "customers": {"dun-1": {"text": "    NSF - Insufficient funds", "remaining": 2}}
    }

    answers = [await by_customer(wire, "dun-1") for _ in range(3)]

    assert [(a["success"], a["response_code"]) for a in answers] == [
        (False, 102),
        (False, 102),
        (True, 101),
    ]
    assert answers[0]["approval_message"] == "    NSF - Insufficient funds"
    assert answers[0]["status_message"] == "Your transaction was not approved."
    left = await raw.get("/_sandbox/declines")
    assert left.json()["customers"]["dun-1"]["remaining"] == 0


async def test_the_default_is_one_do_not_honor_and_others_are_untouched(wire, raw):
    await wire.ok("/v1/customer/create", wire.KEYED, customer_id="dun-2")
    await wire.ok("/v1/customer/create", wire.KEYED, customer_id="other")
    await raw.put("/_sandbox/declines/customers/dun-2", json={})

    declined = await by_customer(wire, "dun-2")
    other = await by_customer(wire, "other")

    assert declined["approval_message"] == "    DECLINE - Do not honor"
    assert other["success"] is True


async def test_an_expired_card_decline_for_hard_declines(wire, raw):
    await wire.ok("/v1/customer/create", wire.KEYED, customer_id="dun-3")
    await raw.put("/_sandbox/declines/customers/dun-3", json={"text": EXPIRED_CARD, "times": 1})

    declined = await by_customer(wire, "dun-3")

    assert (declined["response_code"], declined["approval_message"]) == (
        102,
        "  EXPIRED CARD - Expired card",
    )


async def test_reset_forgets_the_declines(wire, raw):
    await raw.put("/_sandbox/declines/customers/dun-4", json={"times": 3})
    await raw.post("/_sandbox/reset")
    assert (await raw.get("/_sandbox/declines")).json() == {"customers": {}}


async def test_a_negative_count_is_refused(raw):
    reply = await raw.put("/_sandbox/declines/customers/dun-5", json={"times": -1})
    assert reply.status_code == 422
