"""Customer profiles and recurring payments through the connector; the sandbox clock runs them."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from payledger.adapters.paytrace import (
    PayTraceAddress,
    PayTraceCustomerDetails,
    PayTraceRecurrenceSpec,
    PayTraceRejected,
    customer_from_profile,
    token_from_profile,
)

D = Decimal
PROFILE = PayTraceCustomerDetails(
    billing_address=PayTraceAddress(name="Ada Lovelace", street_address="1 Loop Rd", zip="99201"),
    email="ada@example.com",
    discretionary_data={"ERP Account": "C-0042"},
)


async def test_create_export_update_delete(client, card):
    created = await client.create_customer("cust-ada", card=card(), profile=PROFILE)
    [exported] = await client.export_customers(customer_id="cust-ada")
    renamed = await client.update_customer(
        "cust-ada", new_id="cust-ada-2", card=card("5499740000000057", 6, 2031)
    )
    deleted = await client.delete_customer("cust-ada-2")

    assert (created.response_code, created.masked_card_number) == (160, "xxxxxxxxxxxx5439")
    assert exported.credit_card.masked_number == "************5439"
    assert exported.discretionary_data == {"ERP Account": "C-0042"}
    assert customer_from_profile(exported).name == "Ada Lovelace"
    assert token_from_profile(exported).masked_card == "************5439"
    assert (renamed.customer_id, renamed.masked_card_number) == ("cust-ada-2", "xxxxxxxxxxxx0057")
    assert deleted.response_code == 162
    assert await client.export_customers(customer_id="cust-ada-2") == []


async def test_export_filters_by_email_and_text(client, card):
    await client.create_customer("c1", card=card(), profile=PROFILE)
    await client.create_customer("c2", card=card())
    assert [c.customer_id for c in await client.export_customers(email="ADA@example.com")] == ["c1"]
    assert [c.customer_id for c in await client.export_customers(including_text="C-0042")] == ["c1"]
    assert len(await client.export_customers()) == 2


async def test_duplicate_id_gives_171_and_unknown_profile_gives_30(client, card):
    await client.create_customer("twice", card=card())
    with pytest.raises(PayTraceRejected) as duplicate:
        await client.create_customer("twice", card=card())
    with pytest.raises(PayTraceRejected) as unknown:
        await client.delete_customer("never")
    assert duplicate.value.codes == [171]
    assert unknown.value.codes == [30]


async def test_customer_from_a_transaction(client, card, details):
    sale = await client.sale_keyed(
        D("1.00"), card(), details=details(billing_address=PayTraceAddress(name="Steve Smith"))
    )
    created = await client.create_customer_from_transaction("from-sale", sale.transaction_id)
    assert created.customer_id == "from-sale"
    assert "from-sale/Steve Smith" in created.status_message


async def test_monthly_recurrence_runs_at_half_past_midnight_pacific(client, card, sandbox):
    await client.create_customer("sub", card=card(), profile=PROFILE)
    schedule = await client.create_recurrence(
        "sub",
        PayTraceRecurrenceSpec(
            amount=D("9.99"),
            start_date=date(2026, 3, 25),
            frequency="3",
            total_count=2,
            description="Monthly plan",
        ),
    )

    sandbox.clock.advance_to(sandbox.clock.now().replace(hour=7, minute=29) + timedelta(days=1))
    assert await client.export_recurring_transactions(customer_id="sub") == []
    sandbox.clock.advance(60)
    first = await client.export_recurring_transactions(customer_id="sub")
    sandbox.clock.advance(timedelta(days=70).total_seconds())
    every = await client.export_recurring_transactions(customer_id="sub")
    [after] = await client.export_recurrences(customer_id="sub")

    assert schedule.status == "ACTIVE" and schedule.next_date == "03/25/2026"
    assert [t.created.at for t in first] == ["3/25/2026 12:30:00 AM"]
    assert [t.created.at for t in every] == ["3/25/2026 12:30:00 AM", "4/25/2026 12:30:00 AM"]
    assert every[0].created.through == "Recurring" and every[0].amount == D("9.99")
    assert (after.status, after.current_count) == ("INACTIVE", 2)


async def test_update_and_delete_recurrences(client, card):
    await client.create_customer("sub2", card=card())
    spec = PayTraceRecurrenceSpec(amount=D("5.00"), start_date=date(2026, 5, 1), frequency="5")
    first = await client.create_recurrence("sub2", spec)
    second = await client.create_recurrence("sub2", spec)

    changed = await client.update_recurrence(first.id, PayTraceRecurrenceSpec(amount=D("6.00")))
    [stopped] = await client.delete_recurrence(first.id)
    by_customer = await client.delete_recurrence(customer_id="sub2")

    assert changed.amount == D("6.00")
    assert stopped.status == "INACTIVE"
    assert {r.id for r in by_customer} == {first.id, second.id}


async def test_recurrence_errors(client, card):
    await client.create_customer("sub3", card=card())
    with pytest.raises(PayTraceRejected) as bad_frequency:
        await client.create_recurrence(
            "sub3",
            PayTraceRecurrenceSpec(amount=D("1.00"), start_date=date(2026, 5, 1), frequency="Z"),
        )
    with pytest.raises(PayTraceRejected) as unknown:
        await client.update_recurrence(1, PayTraceRecurrenceSpec(amount=D("1.00")))
    assert bad_frequency.value.codes == [9110]
    assert unknown.value.codes == [9105]
