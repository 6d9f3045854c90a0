"""``/api/v1/subscriptions`` against both sandboxes, on SQLite and PostgreSQL: a subscription
is created once per key on a customer D365 knows with a card PayTrace keeps, read with its
next charge and history, changed by version, and seen only by the client that made it; bad
input is a 422 naming the field, and nothing is stored."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from payledger.bootstrap import Container
from payledger.bootstrap.subscriptions import BILL_SUBSCRIPTIONS, bill_subscriptions_job
from payledger.domain.subscriptions_periods import add_months
from payledger.engine.jobs import Job
from payledger.views.subscriptions import subscription_audit
from tests.integration.payments.conftest import encrypted_card, key, money

SUBSCRIPTIONS = "/api/v1/subscriptions"


def today(container: Container) -> date:
    zone = ZoneInfo(container.settings.subscriptions.timezone)
    return container.clock.now().astimezone(zone).date()


def gold(vault: str = "sub-api-1", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_account": "US-003",
        "vault_customer_id": vault,
        "plan": {"amount": "30.00", "currency": "USD", "description": "Gold plan"},
        "interval": {"unit": "month"},
    }
    body.update(changes)
    return body


@pytest.fixture
async def vault(paytrace) -> str:
    """A PayTrace vault customer with a card on file."""
    created = await paytrace.create_customer("sub-api-1", card=encrypted_card())
    assert created.success
    return "sub-api-1"


async def create(api: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    made = await api.post(SUBSCRIPTIONS, json=body, headers=key())
    assert made.status_code == 201, made.text
    return made.json()


async def patch(
    api: httpx.AsyncClient, sid: int, body: dict[str, Any], version: int | None = None
) -> httpx.Response:
    headers = key() | ({"If-Match": f'"{version}"'} if version is not None else {})
    return await api.patch(f"{SUBSCRIPTIONS}/{sid}", json=body, headers=headers)


async def test_a_subscription_is_created_once_per_key_and_read_with_its_next_charge(
    api, vault, container
):
    headers = key()
    body = gold(vault, anchor=(today(container) + timedelta(days=3)).isoformat())

    first = await api.post(SUBSCRIPTIONS, json=body, headers=headers)
    again = await api.post(SUBSCRIPTIONS, json=body, headers=headers)

    assert first.status_code == again.status_code == 201, first.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    made = first.json()
    assert (made["status"], made["plan"]["amount"], made["vault_customer_id"]) == (
        "active",
        "30.00",
        "sub-api-1",
    )
    read = await api.get(f"{SUBSCRIPTIONS}/{made['id']}")
    assert read.status_code == 200
    assert read.headers["ETag"] == '"1"'
    shown = read.json()
    assert shown["next_charge_at"] == made["next_charge_at"]
    assert shown["next_charge_at"].startswith(body["anchor"])  # local midnight, as UTC
    assert shown["periods"] == []
    listed = (await api.get(SUBSCRIPTIONS)).json()["subscriptions"]
    assert [s["id"] for s in listed] == [made["id"]]  # one, though asked twice
    [created] = await subscription_audit(container.database, made["id"])
    assert (created.actor, created.action) == ("api:shop", "subscription.created")


async def test_bad_input_is_a_422_naming_the_field_and_nothing_is_stored(api, vault, container):
    day = today(container)
    cases: list[tuple[dict[str, Any], str, str]] = [
        (gold(vault, customer_account="US-999"), "invalid_subscription", "body.customer_account"),
        (gold("", customer_account="US-002"), "invalid_subscription", "body.vault_customer_id"),
        (gold("nobody-at-paytrace"), "invalid_subscription", "body.vault_customer_id"),
        (gold(vault, plan={**gold()["plan"], "amount": "0"}), "invalid_subscription",
         "body.plan.amount"),
        (gold(vault, plan={**gold()["plan"], "amount": "-5.00"}), "invalid_subscription",
         "body.plan.amount"),
        (gold(vault, plan={**gold()["plan"], "amount": "10.005"}), "invalid_subscription",
         "body.plan.amount"),
        (gold(vault, plan={**gold()["plan"], "currency": "XYZ"}), "invalid_subscription",
         "body.plan.currency"),
        (gold(vault, plan={**gold()["plan"], "currency": "EUR"}), "invalid_subscription",
         "body.plan.currency"),  # a real currency, but not the PayTrace account's
        (gold(vault, interval={"rule": "0 0 30 2 *"}), "invalid_subscription", "body.interval"),
        (gold(vault, interval={"unit": "fortnight"}), "invalid_subscription",
         "body.interval.unit"),
        (gold(vault, anchor=day.isoformat(), end_date=(day - timedelta(days=1)).isoformat()),
         "invalid_subscription", "body.end_date"),
        (gold(vault, plan={**gold()["plan"], "amount": "1E-2"}), "invalid_body",
         "body.plan.amount"),
        (gold(vault, plan={**gold()["plan"], "amount": True}), "invalid_body", "body.plan.amount"),
        (gold(vault, anchor="01/04/2026"), "invalid_body", "body.anchor"),
        (gold(vault, anchor="9999-12-31"), "invalid_body", "body.anchor"),
        (gold(vault, max_periods="12"), "invalid_body", "body.max_periods"),
    ]  # fmt: skip
    for body, code, field in cases:
        refused = await api.post(SUBSCRIPTIONS, json=body, headers=key())
        answer = refused.json()
        assert (refused.status_code, answer["error"]) == (422, code), (body, answer)
        assert field in [p["field"] for p in answer["problems"]], (body, answer)
        assert answer["detail"]
    assert (await api.get(SUBSCRIPTIONS)).json() == {"subscriptions": [], "next_after": None}


async def test_an_amount_may_be_an_exact_json_number(api, vault):
    made = await create(api, gold(vault, plan={**gold()["plan"], "amount": 49.90}))
    assert made["plan"]["amount"] == "49.90"


async def test_a_subscription_is_seen_and_changed_by_its_own_client_and_an_admin_only(
    api, vault, as_client
):
    made = await create(api, gold(vault))
    path = f"{SUBSCRIPTIONS}/{made['id']}"
    billing = await as_client("payments:write", client="billing")
    reporting = await as_client("read", client="reporting")
    support = await as_client("admin", client="support")

    assert (await billing.get(path)).status_code == 404
    assert (await billing.get(SUBSCRIPTIONS)).json()["subscriptions"] == []
    assert (await patch(billing, made["id"], {"status": "paused"})).status_code == 404
    assert (await reporting.get(path)).status_code == 404
    assert (await patch(reporting, made["id"], {"status": "paused"})).status_code == 403
    assert (await support.get(path)).json()["id"] == made["id"]
    assert [s["id"] for s in (await support.get(SUBSCRIPTIONS)).json()["subscriptions"]] == [
        made["id"]
    ]
    assert (await api.get(path)).json()["status"] == "active"  # nothing changed


async def test_a_list_filters_by_status_and_customer_and_pages(api, vault, paytrace):
    await paytrace.create_customer("sub-api-6", card=encrypted_card())
    ids = [(await create(api, gold(vault)))["id"] for _ in range(3)]
    other = await create(api, gold("sub-api-6", customer_account="US-006"))
    paused = await patch(api, ids[1], {"status": "paused"})
    assert paused.status_code == 200, paused.text

    def listed(answer: httpx.Response) -> list[int]:
        assert answer.status_code == 200, answer.text
        return [s["id"] for s in answer.json()["subscriptions"]]

    assert listed(await api.get(SUBSCRIPTIONS, params={"status": "paused"})) == [ids[1]]
    assert listed(await api.get(SUBSCRIPTIONS, params={"customer": "US-006"})) == [other["id"]]
    first = await api.get(SUBSCRIPTIONS, params={"limit": 2})
    assert listed(first) == ids[:2] and first.json()["next_after"] == ids[1]
    rest = await api.get(SUBSCRIPTIONS, params={"limit": 2, "after": ids[1]})
    assert listed(rest) == [ids[2], other["id"]]
    bad = await api.get(SUBSCRIPTIONS, params={"status": "asleep"})
    assert (bad.status_code, bad.json()["error"]) == (422, "invalid_request")


async def test_pause_resume_cancel_and_replace_are_made_by_version(api, vault, paytrace, container):
    await paytrace.create_customer("sub-api-2", card=encrypted_card())
    made = await create(api, gold(vault, anchor=today(container).isoformat()))
    sid = made["id"]

    paused = await patch(api, sid, {"status": "paused"}, version=1)
    assert (paused.status_code, paused.json()["status"]) == (200, "paused"), paused.text
    assert paused.json()["next_charge_at"] is None
    stale = await patch(api, sid, {"status": "active"}, version=1)
    assert (stale.status_code, stale.json()["error"]) == (412, "version_mismatch")
    resumed = await patch(api, sid, {"status": "active", "version": 2})
    assert (resumed.status_code, resumed.json()["status"]) == (200, "active"), resumed.text
    replaced = await patch(api, sid, {"vault_customer_id": "sub-api-2"})
    assert replaced.json()["vault_customer_id"] == "sub-api-2"
    gone = await patch(api, sid, {"vault_customer_id": "nobody-at-paytrace"})
    assert gone.status_code == 422 and gone.json()["problems"][0]["field"] == (
        "body.vault_customer_id"
    )
    at_end = await patch(api, sid, {"cancel_at_period_end": True})
    assert at_end.status_code == 200, at_end.text
    assert (at_end.json()["status"], at_end.json()["cancel_at_period_end"]) == ("active", True)
    assert at_end.json()["end_date"] == add_months(today(container), 1).isoformat()
    cancelled = await patch(api, sid, {"status": "cancelled"})
    assert cancelled.json()["status"] == "cancelled"
    refused = await patch(api, sid, {"status": "active"})
    assert (refused.status_code, refused.json()["error"]) == (409, "change_refused")

    actions = [e.action for e in await subscription_audit(container.database, sid)]
    assert actions == [
        "subscription.created",
        "subscription.paused",
        "subscription.resumed",
        "subscription.payment_method_replaced",
        "subscription.cancelled",
        "subscription.cancelled",
    ]
    assert (await api.get(f"{SUBSCRIPTIONS}/{sid}")).json()["version"] == 6


async def test_a_change_needs_a_key_and_exactly_one_change(api, vault):
    made = await create(api, gold(vault))
    path = f"{SUBSCRIPTIONS}/{made['id']}"
    no_key = await api.patch(path, json={"status": "paused"})
    assert (no_key.status_code, no_key.json()["error"]) == (400, "idempotency_key_missing")
    for body in ({}, {"status": "paused", "vault_customer_id": "sub-api-1"}, {"status": "ended"}):
        refused = await api.patch(path, json=body, headers=key())
        assert (refused.status_code, refused.json()["error"]) == (422, "invalid_body"), body
    unknown = await patch(api, 987654, {"status": "paused"})
    assert unknown.status_code == 404
    out_of_range = await api.get(f"{SUBSCRIPTIONS}/99999999999999999999")
    assert out_of_range.status_code == 422


async def test_an_upgrade_mid_period_is_prorated_invoiced_and_charged_at_once(
    api, vault, container, paytrace
):
    day = today(container)
    body = gold(
        vault,
        anchor=(day - timedelta(days=3)).isoformat(),
        interval={"unit": "day", "every": 10},
    )
    made = await create(api, body)
    await bill_subscriptions_job(container)(
        Job(1, BILL_SUBSCRIPTIONS, {}, attempts=1, max_attempts=8)
    )
    billed = (await api.get(f"{SUBSCRIPTIONS}/{made['id']}")).json()
    [period] = billed["periods"]
    assert (period["status"], period["amount"]) == ("charged", "30.00"), period

    upgrade = {"plan": {"amount": "50.00", "currency": "USD", "description": "Platinum plan"}}
    changed = await patch(api, made["id"], upgrade, version=billed["version"])

    assert changed.status_code == 200, changed.text
    answer = changed.json()
    assert answer["proration"] == {  # 7 of the period's 10 days left
        "days_left": 7,
        "days_in_period": 10,
        "credit": "21.00",
        "charge": "35.00",
        "difference": "14.00",
        "upgrade_charge": "charged",
    }
    assert answer["plan"]["amount"] == "50.00"
    [_, proration] = answer["periods"]
    assert (proration["entry"], proration["kind"], proration["amount"]) == (
        1,
        "proration",
        "14.00",
    )
    since = day - timedelta(days=2)
    sales = await paytrace.export_transactions(since, day + timedelta(days=2))
    charged = {str(s.transaction_id): money(s.amount) for s in sales}
    assert charged[period["paytrace_transaction_id"]] == Decimal("30.00")
    assert charged[proration["paytrace_transaction_id"]] == Decimal("14.00")
