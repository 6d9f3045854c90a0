"""One gateway transaction against the one ledger line found for it: which class, and why."""

from __future__ import annotations

from decimal import Decimal

from payledger.domain.money import minor_units
from payledger.domain.posting import LedgerOperation
from payledger.domain.reconcile.model import Discrepancy, GatewayTxn, Item, LedgerEntry, MatchRules

D = Discrepancy


def amount_text(minor: int, currency: str) -> str:
    """Minor units as exact decimal text: ``12345, "USD"`` → ``"123.45"``."""
    return str(Decimal(minor).scaleb(-minor_units(currency)))


class Comparer:
    """Compares a transaction with its line; the first difference found decides the class.

    Order: currency, direction (paid vs refunded), amount (a difference equal to the expected
    fee is a fee difference), then the date (a batch later than normal is a timing difference,
    an error only beyond the lag).
    """

    def __init__(self, rules: MatchRules) -> None:
        self.rules = rules
        self.fees = rules.fees if rules.fees.is_configured else None

    def item(
        self, i: int, t: GatewayTxn, j: int, line: LedgerEntry, *, by_reference: bool = True
    ) -> Item:
        if line.currency != t.currency:
            note = f"PayTrace {t.currency}, D365 {line.currency}"
            return Item(D.CURRENCY_MISMATCH, i, j, True, note, by_reference=by_reference)
        paid = t.operation is LedgerOperation.PAYMENT
        posted = line.amount if paid else -line.amount
        if posted < 0:
            note = (
                "paid in PayTrace, posted as a refund in D365"
                if paid
                else "refunded in PayTrace, posted as a payment in D365"
            )
            return Item(D.STATUS_MISMATCH, i, j, True, note, by_reference=by_reference)
        if posted != t.amount:
            return self._amounts_differ(i, t, j, posted, by_reference)
        delay = t.settled_day - line.day
        if 0 <= delay <= self.rules.settlement_days:
            return Item(D.MATCHED, i, j, False, "", by_reference=by_reference)
        if delay > 0:
            note = f"settled {delay} days after its ledger date (a later batch)"
        else:
            note = f"dated in D365 {-delay} days after it settled"
        exception = abs(delay) > self.rules.lag_days
        return Item(D.TIMING_DIFFERENCE, i, j, exception, note, by_reference=by_reference)

    def _amounts_differ(
        self, i: int, t: GatewayTxn, j: int, posted: int, by_reference: bool
    ) -> Item:
        cur = t.currency
        if self.fees is not None and t.operation is LedgerOperation.PAYMENT:
            fee = self.fees.fee(t.card_type, t.amount, cur)
            if fee and t.amount - posted == fee:
                note = (
                    f"posted net of the {amount_text(fee, cur)} {t.card_type or 'card'} fee: "
                    f"PayTrace {amount_text(t.amount, cur)}, D365 {amount_text(posted, cur)}"
                )
                return Item(D.FEE_DIFFERENCE, i, j, True, note, by_reference=by_reference)
        note = f"PayTrace {amount_text(t.amount, cur)}, D365 {amount_text(posted, cur)} {cur}"
        return Item(D.AMOUNT_MISMATCH, i, j, True, note, by_reference=by_reference)
