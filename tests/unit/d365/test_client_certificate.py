"""A client certificate is checked before it is used: PEM, RSA, its key, its validity period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from payledger.adapters.d365.auth import ClientCertificate, check_certificate
from payledger.domain.errors import AuthError
from payledger.sandbox.d365.tls import self_signed_certificate

CERT_PEM, KEY_PEM = self_signed_certificate(("cert-client",), common_name="payledger cert client")
_, OTHER_KEY_PEM = self_signed_certificate(("another",))
NOT_AFTER = x509.load_pem_x509_certificate(CERT_PEM.encode()).not_valid_after_utc
NOW = datetime.now(UTC)


def test_a_valid_certificate_tells_subject_thumbprint_and_expiry():
    info = check_certificate(ClientCertificate(KEY_PEM, CERT_PEM), NOW)

    sha1 = x509.load_pem_x509_certificate(CERT_PEM.encode()).fingerprint(hashes.SHA1())
    assert info.subject == "CN=payledger cert client"
    assert info.thumbprint == sha1.hex().upper()
    assert info.not_after == NOT_AFTER
    assert info.days_left(NOT_AFTER - timedelta(days=10, hours=1)) == 10


def test_an_expired_certificate_is_refused_naming_the_day_it_expired():
    after_expiry = NOT_AFTER + timedelta(days=1)

    with pytest.raises(AuthError, match=f"expired on {NOT_AFTER:%Y-%m-%d}") as caught:
        check_certificate(ClientCertificate(KEY_PEM, CERT_PEM), after_expiry)
    assert "PRIVATE KEY" not in str(caught.value)


def test_a_certificate_not_yet_valid_is_refused():
    with pytest.raises(AuthError, match="is not valid before"):
        check_certificate(ClientCertificate(KEY_PEM, CERT_PEM), NOW - timedelta(days=1))


def test_a_key_of_another_certificate_is_refused_without_printing_either_key():
    with pytest.raises(AuthError, match="private key does not match certificate") as caught:
        check_certificate(ClientCertificate(OTHER_KEY_PEM, CERT_PEM), NOW)
    assert "PRIVATE KEY" not in str(caught.value)


@pytest.mark.parametrize(
    ("key_pem", "cert_pem", "what"),
    [
        (KEY_PEM, "not a certificate", "the certificate is not a PEM X.509 certificate"),
        (KEY_PEM, KEY_PEM, "the certificate is not a PEM X.509 certificate"),
        (KEY_PEM[:200], CERT_PEM, "the private key is not a PEM private key"),
        (CERT_PEM, CERT_PEM, "the private key is not a PEM private key"),
    ],
)
def test_garbage_pem_is_refused_saying_which_part(key_pem: str, cert_pem: str, what: str):
    with pytest.raises(AuthError) as caught:
        check_certificate(ClientCertificate(key_pem, cert_pem), NOW)

    assert str(caught.value).startswith(f"D365 client certificate: {what}")
    assert "PRIVATE KEY" not in str(caught.value) and KEY_PEM[40:80] not in str(caught.value)
