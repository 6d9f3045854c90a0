"""The demo's web shop sends orders payledger's API accepts: totals add up, one payment."""

from __future__ import annotations

import random

from payledger.demo.shop_orders import DECLINE_AMOUNT, ShopFront, protect_card
from payledger.web.order_schemas import OrderCreate


def test_every_order_the_demo_shop_builds_is_valid_and_declines_total_the_decline_amount():
    front = ShopFront(http=None, seed=5)  # type: ignore[arg-type]  # building needs no HTTP
    rng = random.Random(5)
    for index in range(60):
        body = front.order(payment=protect_card(rng), declined=index % 7 == 0)
        order = OrderCreate.model_validate(body).domain()
        if index % 7 == 0:
            assert str(order.total.amount) == DECLINE_AMOUNT
        else:
            assert order.total.amount > 1
    assert len(front.orders) == 60
