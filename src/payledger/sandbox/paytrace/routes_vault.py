"""Customer profile and recurring payment endpoints (fact sheet §4.15, §4.16)."""

from __future__ import annotations

from payledger.sandbox.paytrace import exports, messages, recurring, vault
from payledger.sandbox.paytrace.dispatch import Call, OperationTable, Reply, collect
from payledger.sandbox.paytrace.records import CustomerProfile, TxnType
from payledger.sandbox.paytrace.routes_cards import protect_card
from payledger.sandbox.paytrace.routes_reports import completed, transaction_list

routes = OperationTable()


def profile_reply(profile: CustomerProfile, code: int, verb: str, *, masked: bool = True) -> Reply:
    body = {
        "success": True,
        "response_code": code,
        "status_message": messages.profile_changed(profile.customer_id, profile.name, verb),
        "customer_id": profile.customer_id,
    }
    if masked and profile.card is not None:
        body["masked_card_number"] = profile.card.masked
    return Reply(body)


@routes.post("/v1/customer/create", permission="customer")
def create_customer(call: Call) -> Reply:
    _, method, _ = collect(
        lambda: vault.new_customer_id(call.body),
        lambda: vault.payment_method(call.state, call.body, call.now),
        lambda: call.body.discretionary(call.settings),
    )
    profile = vault.create(call.state, call.now, call.body, method)
    return profile_reply(profile, 160, "created")


@routes.post("/v1/customer/create_from_transaction", permission="customer")
def create_customer_from_transaction(call: Call) -> Reply:
    _, txn = collect(
        lambda: vault.new_customer_id(call.body),
        lambda: call.state.transaction(call.body.id_number()),
    )
    if not call.body.has("billing_address"):
        call.body.data["billing_address"] = txn.details.get("billing_address", {})
    profile = vault.create(call.state, call.now, call.body, txn.card)
    return profile_reply(profile, 160, "created")


@routes.post("/v1/customer/update", permission="customer")
def update_customer(call: Call) -> Reply:
    return profile_reply(vault.update(call.state, call.now, call.body), 161, "updated")


@routes.post("/v1/customer/update/pt_protect", permission="customer")
def update_customer_protect(call: Call) -> Reply:
    """The profile's card replaced by a Protect-captured one (v1 path UNCERTAIN, §4.15)."""
    profile, card = collect(
        lambda: call.state.customer(call.body.text("customer_id")),
        lambda: protect_card(call),
    )
    profile.card = card
    return profile_reply(profile, 161, "updated")


@routes.post("/v1/customer/delete", permission="customer")
def delete_customer(call: Call) -> Reply:
    profile = vault.delete(call.state, call.body.text("customer_id"))
    return profile_reply(profile, 162, "deleted", masked=False)


@routes.post("/v1/customer/export", permission="export", writes=False)
def export_customers(call: Call) -> Reply:
    """Filters ``customer_id``, ``email``, ``including_text``; response shape UNCERTAIN."""
    body = call.body
    found = [
        profile
        for profile in call.state.customers.values()
        if (not body.has("customer_id") or profile.customer_id == body.text("customer_id"))
        and (not body.has("email") or profile.email.lower() == body.text("email").lower())
        and (
            not body.has("including_text") or vault.find_text(profile, body.text("including_text"))
        )
    ]
    return completed(customers=[exports.customer_record(p) for p in found])


@routes.post("/v1/recurrence/create", permission="recurrence")
def create_recurrence(call: Call) -> Reply:
    recurrence = recurring.create(call.state, call.body)
    call.scheduler.catch_up(call.now)
    return completed(recurrence=exports.recurrence_record(recurrence))


@routes.post("/v1/recurrence/update", permission="recurrence")
def update_recurrence(call: Call) -> Reply:
    return completed(recurrence=exports.recurrence_record(recurring.update(call.state, call.body)))


@routes.post("/v1/recurrence/delete", permission="recurrence")
def delete_recurrence(call: Call) -> Reply:
    stopped = recurring.delete(call.state, call.body)
    return completed(recurrences=[exports.recurrence_record(r) for r in stopped])


def _export_scheduled(call: Call) -> Reply:
    body = call.body
    wanted_id = body.section("recurrence").text("id") or body.text("recurrence_id")
    found = [
        r
        for r in call.state.recurrences.values()
        if (not body.has("customer_id") or r.customer_id == body.text("customer_id"))
        and (not wanted_id or str(r.recurrence_id) == wanted_id)
    ]
    return completed(recurrences=[exports.recurrence_record(r) for r in found])


routes.post("/v1/recurrence/export", permission="export", writes=False)(_export_scheduled)
routes.post("/v1/recurrence/export_scheduled", permission="export", writes=False)(_export_scheduled)


@routes.post("/v1/recurrence/export_approved", permission="export", writes=False)
def export_recurring_transactions(call: Call) -> Reply:
    """Transactions the schedules created (optionally of one ``customer_id``)."""
    body = call.body
    txns = [
        t
        for t in call.state.transactions.values()
        if t.created.through == recurring.THROUGH
        and t.type is not TxnType.REFUND
        and (not body.has("customer_id") or t.customer_id == body.text("customer_id"))
    ]
    return transaction_list(sorted(txns, key=lambda t: t.transaction_id), body)
