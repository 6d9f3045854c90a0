"""The sandbox under a real uvicorn server on loopback: token and sale over TCP (curl works)."""

from __future__ import annotations

import asyncio
import socket
from decimal import Decimal

import httpx
import uvicorn

from payledger.adapters.paytrace import PayTraceClient
from payledger.sandbox.paytrace import create_app


async def test_token_and_sale_over_tcp():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(), log_level="warning", lifespan="off", ws="none")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base) as http:
            login = {"grant_type": "password", "username": "demo123", "password": "demo123"}
            token = (await http.post("/oauth/token", data=login)).json()["access_token"]
            sale = await http.post(
                "/v1/transactions/sale/keyed",
                headers={"Authorization": f"Bearer {token}"},
                json={
                    "integrator_id": "9575315uXt4u",
                    "amount": "1.00",
                    "credit_card": {
                        "number": "4111111111111111",
                        "expiration_month": "12",
                        "expiration_year": "2030",
                    },
                },
            )
        async with PayTraceClient(base, "demo123", "demo123", "9575315uXt4u") as client:
            batch = await client.settle()
    finally:
        server.should_exit = True
        await serving
        sock.close()

    assert sale.status_code == 200 and sale.json()["response_code"] == 101
    assert batch.transaction_count == 1 and batch.net_amount == Decimal("1.00")
