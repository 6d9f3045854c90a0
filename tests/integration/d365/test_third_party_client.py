"""An independent OData v4 client (python-odata, PyPI) reads the sandbox's $metadata and data.

pyodata (SAP) is OData V2 only; python-odata reflects a v4 CSDL into entity classes.
"""

from __future__ import annotations

import asyncio
import ssl

import httpx
import pytest
import requests

odata = pytest.importorskip("odata")


def _token(base_url: str, cert_path: str) -> str:
    answer = httpx.post(
        f"{base_url}/payledger-sandbox/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "payledger-client",
            "client_secret": "payledger-secret",
            "scope": f"{base_url}/.default",
        },
        verify=ssl.create_default_context(cafile=cert_path),
    )
    answer.raise_for_status()
    return answer.json()["access_token"]


def _read_customers(base_url: str, cert_path: str) -> list[tuple[str, str]]:
    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment wins over verify
    session.verify = cert_path
    session.headers["Authorization"] = f"Bearer {_token(base_url, cert_path)}"
    service = odata.ODataService(
        f"{base_url}/data/", session=session, reflect_entities=True, quiet_progress=True
    )
    customer = service.entities["CustomersV3"]
    query = service.query(customer).filter(customer.dataAreaId == "usmf")
    query = query.order_by(customer.CustomerAccount.asc()).limit(3)
    rows = [(row.CustomerAccount, row.OrganizationName) for row in query]
    session.close()
    return rows


async def test_python_odata_reflects_metadata_and_queries_customers(live_sandbox):
    rows = await asyncio.to_thread(
        _read_customers, live_sandbox.base_url, str(live_sandbox.cert_path)
    )

    assert rows == [
        ("US-001", "Contoso Retail San Diego"),
        ("US-002", "Contoso Retail Los Angeles"),
        ("US-003", "Forest Wholesales"),
    ]
