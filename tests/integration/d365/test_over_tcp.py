"""The sandbox under a real uvicorn server: token, $metadata and an entity set over TCP+TLS."""

from __future__ import annotations

import ssl

from payledger.adapters.d365 import D365Client, EntraIdCredential, ODataQuery, field


async def test_msal_token_metadata_and_entity_set_over_tcp(live_sandbox):
    tls = ssl.create_default_context(cafile=str(live_sandbox.cert_path))
    credential = EntraIdCredential(
        tenant="payledger-sandbox",
        client_id="payledger-client",
        client_secret="payledger-secret",
        resource=live_sandbox.base_url,
        authority_host=live_sandbox.base_url,
        verify=tls,
    )
    async with D365Client(live_sandbox.base_url, credential, verify=tls, timeout=10) as d365:
        metadata = await d365.metadata()
        rows = await d365.collect(
            ODataQuery("CustomersV3")
            .select("CustomerAccount", "OrganizationName")
            .where(field("dataAreaId").eq("usmf"))
        )
    await credential.aclose()

    assert "CustomersV3" in metadata.entity_sets
    assert {"US-001", "US-006"} <= {row["CustomerAccount"] for row in rows}
    assert live_sandbox.sandbox.state.stats.tokens_issued >= 1
