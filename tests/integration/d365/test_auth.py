"""Entra ID (msal, secret and certificate) and AD FS tokens against the sandbox."""

from __future__ import annotations

import httpx
import pytest

from payledger.adapters.d365 import (
    AdfsCredential,
    ClientCertificate,
    D365Client,
    EntraIdCredential,
    ODataQuery,
)
from payledger.domain.errors import AuthError
from payledger.sandbox.d365 import SandboxClient
from payledger.sandbox.d365.tls import self_signed_certificate

BASE = "https://d365.sandbox.test"
TENANT = "payledger-sandbox"
CLIENT_ID = "payledger-client"
CLIENT_SECRET = "payledger-secret"

CUSTOMERS = ODataQuery("CustomersV3").select("CustomerAccount").in_company_only()


async def test_msal_secret_token_opens_the_odata_endpoint(client, sandbox):
    rows = await client.collect(CUSTOMERS)

    assert {r["CustomerAccount"] for r in rows} >= {"US-001", "US-006"}
    assert sandbox.state.stats.tokens_issued == 1


async def test_token_is_cached_by_msal_across_requests(client, credential, sandbox):
    for _ in range(3):
        await client.first(CUSTOMERS)

    assert credential.requests == 1
    assert sandbox.state.stats.token_requests == 1


async def test_certificate_credential_uses_a_client_assertion(sandbox, transport, fast_retry):
    cert_pem, key_pem = self_signed_certificate(("payledger-cert-client",))
    sandbox.settings.extra_clients.append(SandboxClient("cert-client", certificate_pem=cert_pem))
    credential = EntraIdCredential(
        tenant=TENANT,
        client_id="cert-client",
        certificate=ClientCertificate(key_pem, cert_pem),
        resource=BASE,
        authority_host=BASE,
        transport=transport,
    )
    async with D365Client(BASE, credential, transport=transport, retry=fast_retry) as d365:
        assert await d365.first(CUSTOMERS) is not None
    await credential.aclose()


async def test_adfs_client_credentials_for_on_premises(transport, fast_retry):
    credential = AdfsCredential(
        adfs_url=f"{BASE}/adfs",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        resource=BASE,
        transport=transport,
    )
    async with D365Client(BASE, credential, transport=transport, retry=fast_retry) as d365:
        assert await d365.first(CUSTOMERS) is not None
        assert await d365.first(CUSTOMERS) is not None
    assert credential.requests == 1
    await credential.aclose()


async def test_wrong_secret_is_an_auth_error_with_the_aadsts_text(transport):
    credential = EntraIdCredential(
        tenant=TENANT,
        client_id=CLIENT_ID,
        client_secret="not-the-secret",
        resource=BASE,
        authority_host=BASE,
        transport=transport,
    )
    with pytest.raises(AuthError, match="invalid_client: AADSTS7000215"):
        await credential.token()
    await credential.aclose()


async def test_expired_token_is_replaced_once_and_the_call_succeeds(client, control, sandbox):
    await client.first(CUSTOMERS)
    await control.post("/_sandbox/clock", json={"advance_s": 7200})

    assert await client.first(CUSTOMERS) is not None
    assert sandbox.state.stats.unauthorized == 1
    assert sandbox.state.stats.tokens_issued == 2


async def test_app_missing_from_fo_registration_gets_401(sandbox, transport, fast_retry):
    sandbox.settings.extra_clients.append(
        SandboxClient("stranger", client_secret="s3cret", registered_in_fo=False)
    )
    credential = EntraIdCredential(
        tenant=TENANT,
        client_id="stranger",
        client_secret="s3cret",
        resource=BASE,
        authority_host=BASE,
        transport=transport,
    )
    async with D365Client(BASE, credential, transport=transport, retry=fast_retry) as d365:
        with pytest.raises(AuthError) as caught:
            await d365.first(CUSTOMERS)
    assert caught.value.status == 401
    await credential.aclose()


async def test_401_is_bare_and_audience_must_match_exactly(control):
    token_url = f"/{TENANT}/oauth2/v2.0/token"
    form = {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "scope": f"{BASE}//.default",
    }
    token = (await control.post(token_url, data=form)).json()["access_token"]

    answer = await control.get("/data/CustomersV3", headers={"Authorization": f"Bearer {token}"})

    assert answer.status_code == 401
    assert answer.content == b""
    assert answer.headers["WWW-Authenticate"] == "Bearer"


async def test_unknown_tenant_and_resource_are_refused(control):
    form = {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    wrong_tenant = await control.post(
        "/other-tenant/oauth2/v2.0/token", data={**form, "scope": f"{BASE}/.default"}
    )
    wrong_resource = await control.post(
        f"/{TENANT}/oauth2/v2.0/token", data={**form, "scope": "https://elsewhere/.default"}
    )

    assert wrong_tenant.json()["error_codes"] == [90002]
    assert wrong_resource.json()["error_codes"] == [500011]


async def test_discovery_documents_serve_msal(control):
    entra = (await control.get(f"/{TENANT}/v2.0/.well-known/openid-configuration")).json()
    adfs = (await control.get("/adfs/.well-known/openid-configuration")).json()
    keys = (await control.get(entra["jwks_uri"].removeprefix(BASE))).json()

    assert entra["token_endpoint"] == f"{BASE}/{TENANT}/oauth2/v2.0/token"
    assert adfs["token_endpoint"] == f"{BASE}/adfs/oauth2/token"
    assert keys["keys"][0]["kty"] == "RSA"
    assert isinstance(httpx.URL(entra["issuer"]).host, str)
