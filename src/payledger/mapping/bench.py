"""``bench_mapping``: how many payment lines per second one core maps with a template."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from payledger.domain import (
    Address,
    Customer,
    Money,
    Payment,
    PaymentKind,
    PaymentStatus,
)
from payledger.mapping.defaults import default_template, example_settings
from payledger.mapping.document import source_document
from payledger.mapping.engine import compile_template
from payledger.mapping.schema import SchemaCatalog

_KINDS = (PaymentKind.SALE, PaymentKind.CAPTURE, PaymentKind.REFUND, PaymentKind.ACH_SALE)


@dataclass(frozen=True)
class MappingBenchResult:
    """The best of several timed runs."""

    template: str
    mappings: int
    seconds: float
    """CPU time of the fastest run (this process only, so other load does not count)."""
    wall_seconds: float
    """Elapsed time of that run."""
    include_document: bool

    @property
    def per_second(self) -> float:
        """Mappings per CPU second on one core."""
        return self.mappings / self.seconds if self.seconds else float("inf")

    def __str__(self) -> str:
        what = "payment → document → payload" if self.include_document else "document → payload"
        wall = self.mappings / self.wall_seconds if self.wall_seconds else float("inf")
        return (
            f"{self.template}: {self.mappings} mappings in {self.seconds:.3f} CPU s = "
            f"{self.per_second:,.0f}/s on one core ({what}; {wall:,.0f}/s wall clock)"
        )


def sample_payments(count: int) -> list[Payment]:
    """Varied card and ACH payments with customers, as the poller would produce them."""
    start = datetime(2025, 3, 5, 17, 0, tzinfo=UTC)
    payments = []
    for index in range(count):
        customer = Customer(
            name=f"Customer {index % 97}",
            account=f"US-{index % 997:03d}",
            billing_address=Address(("1 Main St",), "Seattle", "WA", "98052", "US"),
        )
        payments.append(
            Payment(
                gateway_txn_id=str(125_391_271 + index),
                kind=_KINDS[index % len(_KINDS)],
                status=PaymentStatus.APPROVED,
                amount=Money(Decimal(1000 + index % 50_000).scaleb(-2), "USD"),
                occurred_at=start + timedelta(seconds=index),
                response_code="101",
                message="Approved.",
                customer=customer,
                invoice_ref=f"CIV-{index:06d}" if index % 3 == 0 else "",
            )
        )
    return payments


def _document(payment: Payment, line_number: int) -> dict[str, Any]:
    operation = "refund" if payment.kind.moves_money_out else "payment"
    context = {
        "journal_batch_number": "00631",
        "line_number": line_number,
        "operation": operation,
        "payment_reference": f"PT-{payment.gateway_txn_id}-{operation[:3].upper()}",
    }
    return source_document(payment, context=context)


def bench_mapping(
    n: int = 20_000,
    *,
    template: str = "d365_payment_journal_line",
    settings: Mapping[str, Any] | None = None,
    catalog: SchemaCatalog | None = None,
    include_document: bool = False,
    repeat: int = 3,
) -> MappingBenchResult:
    """Time mapping ``n`` payments with a default template (CPU time, best of ``repeat``).

    Args:
        n: payments per run.
        template: the default template to run.
        settings: settings to compile with (default: the example settings).
        catalog: when given, fields are also checked at run time against the target schema.
        include_document: also time building each source document from the domain Payment.
        repeat: runs; the fastest counts.
    """
    compiled = compile_template(default_template(template), settings or example_settings(), catalog)
    payments = sample_payments(min(n, 5_000))
    documents = [_document(p, i + 1) for i, p in enumerate(payments)]
    best, best_wall = float("inf"), float("inf")
    for _ in range(max(1, repeat)):
        began, began_wall = time.process_time(), time.perf_counter()
        for index in range(n):
            position = index % len(payments)
            if include_document:
                compiled.map(_document(payments[position], position + 1))
            else:
                compiled.map(documents[position])
        cpu, wall = time.process_time() - began, time.perf_counter() - began_wall
        if cpu < best:
            best, best_wall = cpu, wall
    return MappingBenchResult(template, n, best, best_wall, include_document)
