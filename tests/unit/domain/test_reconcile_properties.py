"""Properties of the matcher that hold for any input (Hypothesis)."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from payledger.domain.posting import LedgerOperation
from payledger.domain.reconcile import Discrepancy, TxnState, reconcile
from payledger.domain.reconcile.totals import totals
from tests.unit.domain.reconcile_builders import DAY, PERIOD, RULES, line, posted_for, txn

D = Discrepancy


@st.composite
def settled_txns(draw, max_size: int = 30):
    count = draw(st.integers(0, max_size))
    ids = draw(st.lists(st.integers(1, 10**6), min_size=count, max_size=count, unique=True))
    return [
        txn(
            str(i),
            draw(st.integers(1, 10**6)),
            refund=draw(st.booleans()),
            created=DAY - draw(st.integers(0, 1)),
            customer=draw(st.sampled_from(["US-001", "US-002", ""])),
            card=draw(st.sampled_from(["VISA", "AMEX"])),
        )
        for i in ids
    ]


@st.composite
def any_lines(draw, txns):
    """Lines for some transactions (some wrong), plus strangers."""
    lines = []
    for n, t in enumerate(txns):
        choice = draw(st.integers(0, 6))
        if choice == 0:
            continue
        entry = posted_for(t, line_id=f"J/{n}")
        if choice == 1:
            entry = entry._replace(amount=entry.amount + draw(st.integers(-500, 500)))
        elif choice == 2:
            entry = entry._replace(reference=f"hand {n}")
        elif choice == 3:
            lines.append(entry._replace(line_id=f"J/{n}b"))
        lines.append(entry)
    strangers = draw(st.integers(0, 3))
    for k in range(strangers):
        amount = draw(st.integers(-(10**6), 10**6).filter(bool))
        lines.append(line(f"PT-{10**7 + k}-PAY", amount, line_id=f"S/{k}"))
    return draw(st.permutations(lines))


@given(st.data())
@settings(max_examples=40, deadline=None)
def test_every_settled_transaction_ends_in_exactly_one_item_and_no_line_in_two(data):
    txns = data.draw(settled_txns())
    lines = data.draw(any_lines(txns))
    recon = reconcile(txns, lines, RULES, PERIOD)
    own = Counter(
        item.txn
        for item in recon.items
        if item.txn >= 0 and not (item.kind is D.DUPLICATE_IN_D365 and not item.by_reference)
    )
    assert own == Counter(range(len(txns)))
    used = [j for item in recon.items for j in item.lines]
    assert len(used) == len(set(used))


@given(settled_txns())
@settings(max_examples=50, deadline=None)
def test_a_ledger_that_mirrors_paytrace_is_all_matched(txns):
    lines = [posted_for(t, line_id=f"J/{n}") for n, t in enumerate(txns)]
    recon = reconcile(txns, lines, RULES, PERIOD)
    assert all(item.kind is D.MATCHED for item in recon.items)
    assert len(recon.items) == len(txns) and recon.exceptions == []


@given(st.data())
@settings(max_examples=50, deadline=None)
def test_the_order_of_lines_does_not_change_the_conclusions(data):
    txns = data.draw(settled_txns())
    lines = data.draw(any_lines(txns))
    shuffled = data.draw(st.permutations(lines))

    def conclusions(ledger):
        recon = reconcile(txns, ledger, RULES, PERIOD)
        return Counter(
            (item.kind, recon.txns[item.txn].txn_id if item.txn >= 0 else "")
            for item in recon.items
        )

    assert conclusions(lines) == conclusions(shuffled)


@given(st.data())
@settings(max_examples=50, deadline=None)
def test_dropping_one_line_makes_exactly_that_transaction_missing(data):
    txns = data.draw(settled_txns().filter(bool))
    lines = [posted_for(t, line_id=f"J/{n}") for n, t in enumerate(txns)]
    gone = data.draw(st.integers(0, len(txns) - 1))
    recon = reconcile(txns, lines[:gone] + lines[gone + 1 :], RULES, PERIOD)
    missing = [item.txn for item in recon.items if item.kind is D.MISSING_IN_D365]
    assert missing == [gone]
    assert sum(item.kind is D.MATCHED for item in recon.items) == len(txns) - 1


@given(st.data())
@settings(max_examples=50, deadline=None)
def test_totals_add_up_to_the_items_and_to_paytrace(data):
    txns = data.draw(settled_txns())
    lines = data.draw(any_lines(txns))
    recon = reconcile(txns, lines, RULES, PERIOD)
    sums = totals(recon)
    assert sum(t.count for t in sums.by_class.values()) == len(recon.items)
    signed = sum(t.amount if t.operation is LedgerOperation.PAYMENT else -t.amount for t in txns)
    assert sum(t.paytrace.get("USD", 0) for t in sums.by_batch.values()) == signed
    assert sum(t.count for t in sums.by_card_type.values()) == sum(
        sums.by_batch[b].count for b in sums.by_batch
    )


@given(st.data())
@settings(max_examples=40, deadline=None)
def test_voided_transactions_never_add_items_when_d365_agrees(data):
    txns = data.draw(settled_txns(max_size=10))
    voids = [txn(f"v{n}", state=TxnState.VOIDED) for n in range(data.draw(st.integers(0, 5)))]
    lines = [posted_for(t, line_id=f"J/{n}") for n, t in enumerate(txns)]
    for n, v in enumerate(voids):
        if data.draw(st.booleans()):  # posted then reversed, or never posted
            pay = posted_for(v, line_id=f"V/{n}")
            lines += [pay, pay._replace(reference=f"PT-{v.txn_id}-REV", amount=-pay.amount)]
    recon = reconcile(txns + voids, lines, RULES, PERIOD)
    assert [item.kind for item in recon.items] == [D.MATCHED] * len(txns)
