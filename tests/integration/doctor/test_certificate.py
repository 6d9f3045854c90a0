"""`[d365] auth = "entra_certificate"`: tokens from the vault's certificate; the doctor on it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from payledger.adapters.d365 import ODataQuery
from payledger.domain.clock import ManualClock
from payledger.domain.errors import AuthError
from payledger.sandbox.d365.tls import self_signed_certificate
from tests.integration.doctor.conftest import (
    CLIENT_CERT_PEM,
    CLIENT_KEY_PEM,
    Sandboxes,
    close,
    configured,
    diagnosed,
    opened,
)

CERTIFICATE = x509.load_pem_x509_certificate(CLIENT_CERT_PEM.encode())
THUMBPRINT = CERTIFICATE.fingerprint(hashes.SHA1()).hex().upper()
EXPIRY = CERTIFICATE.not_valid_after_utc
CERT_SECRETS = {
    "paytrace-password": "demo123",
    "d365-certificate": CLIENT_CERT_PEM,
    "d365-private-key": CLIENT_KEY_PEM,
}
"""No client secret in the vault: a token can only come from the certificate."""


def with_certificate(sandboxes: Sandboxes, tmp_path: Path):
    return configured(sandboxes, tmp_path, d365={"auth": "entra_certificate"})


def assert_no_key_in(text: str) -> None:
    assert "PRIVATE KEY" not in text and CLIENT_KEY_PEM.splitlines()[1] not in text


async def test_the_configured_certificate_gets_a_token_that_reads_d365(
    sandboxes: Sandboxes, tmp_path: Path
):
    container = await opened(with_certificate(sandboxes, tmp_path), CERT_SECRETS)
    try:
        client = await container.d365_client()
        rows = await client.collect(ODataQuery("CustomersV3").select("CustomerAccount"))
    finally:
        await close(container)

    assert {row["CustomerAccount"] for row in rows} >= {"US-001"}


async def test_doctor_reports_subject_thumbprint_and_expiry_then_the_token(
    sandboxes: Sandboxes, tmp_path: Path
):
    findings = await diagnosed(with_certificate(sandboxes, tmp_path), CERT_SECRETS)

    certificate = findings["D365 certificate"]
    assert certificate.status == "ok" and certificate.hint == ""
    assert "CN=payledger client" in certificate.detail and THUMBPRINT in certificate.detail
    assert f"expires {EXPIRY:%Y-%m-%d}" in certificate.detail and "days left" in certificate.detail
    assert findings["secret d365-certificate"].status == "ok"
    assert findings["secret d365-private-key"].status == "ok"
    assert "secret d365-client-secret" not in findings
    assert findings["D365 token"].detail == "entra_certificate token for payledger-client"
    assert findings["D365 $metadata"].status == "ok"


async def test_a_certificate_under_30_days_from_expiry_passes_with_a_renewal_hint(
    sandboxes: Sandboxes, tmp_path: Path
):
    clock = ManualClock(EXPIRY - timedelta(days=12, hours=1))

    findings = await diagnosed(with_certificate(sandboxes, tmp_path), CERT_SECRETS, clock=clock)

    certificate = findings["D365 certificate"]
    assert certificate.status == "ok"
    assert "(12 days left): renew soon" in certificate.detail
    assert "renew it" in certificate.hint and "payledger secrets set d365-certificate" in (
        certificate.hint
    )
    assert findings["D365 token"].status == "ok"


async def test_an_expired_certificate_fails_before_any_token_is_asked_for(
    sandboxes: Sandboxes, tmp_path: Path
):
    clock = ManualClock(EXPIRY + timedelta(days=1))
    settings = with_certificate(sandboxes, tmp_path)

    findings = await diagnosed(settings, CERT_SECRETS, clock=clock)
    container = await opened(settings, CERT_SECRETS, clock=clock)
    try:
        with pytest.raises(AuthError, match=f"expired on {EXPIRY:%Y-%m-%d}"):
            await container.d365_client()
    finally:
        await close(container)

    certificate = findings["D365 certificate"]
    assert certificate.status == "FAIL"
    assert f"{THUMBPRINT} (CN=payledger client) expired on {EXPIRY:%Y-%m-%d}" in certificate.detail
    assert "payledger secrets set d365-certificate" in certificate.hint
    assert "D365 token" not in findings and findings["D365 setup"].status == "skip"
    assert_no_key_in(certificate.detail + certificate.hint)


@pytest.mark.parametrize(
    ("changed", "reason"),
    [
        ({"d365-private-key": self_signed_certificate(("other",))[1]}, "key does not match"),
        ({"d365-certificate": "-----BEGIN CERTIFICATE-----\ngarbage"}, "not a PEM X.509"),
        ({"d365-private-key": "garbage"}, "private key is not a PEM private key"),
    ],
)
async def test_an_unusable_certificate_fails_with_the_reason(
    sandboxes: Sandboxes, tmp_path: Path, changed: dict[str, str], reason: str
):
    findings = await diagnosed(with_certificate(sandboxes, tmp_path), {**CERT_SECRETS, **changed})

    certificate = findings["D365 certificate"]
    assert certificate.status == "FAIL" and reason in certificate.detail
    assert "D365 token" not in findings
    assert_no_key_in(certificate.detail + certificate.hint)


async def test_a_certificate_missing_from_the_vault_fails_the_vault_check(
    sandboxes: Sandboxes, tmp_path: Path
):
    secrets = {k: v for k, v in CERT_SECRETS.items() if k != "d365-private-key"}

    findings = await diagnosed(with_certificate(sandboxes, tmp_path), secrets)

    assert findings["secret d365-private-key"].status == "FAIL"
    assert findings["D365 certificate"].status == "FAIL"
    assert findings["D365 certificate"].hint == "fix the vault first (see above)"
