"""Entra ID and AD FS as far as F&O clients see them: tokens, discovery, and token checks.

Client credentials with a secret or a certificate (client assertion, RS256 or PS256) are
accepted at ``/{tenant}/oauth2/v2.0/token`` (``scope=<resource>/.default``), the legacy
``/{tenant}/oauth2/token`` (``resource=``) and AD FS's ``/adfs/oauth2/token``. Access tokens
are RS256 JWTs; the OData side checks signature, audience (the environment URL, lower case, no
trailing slash), expiry against the sandbox clock, tenant and registration (fact sheet 1).
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from payledger.sandbox.d365.settings import SandboxClient
from payledger.sandbox.d365.state import SandboxState

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class TokenError(Exception):
    """An OAuth error answer (``error``, AADSTS code, description, HTTP status)."""

    error: str
    code: int
    description: str
    status: int = 400

    def body(self, correlation: str) -> dict[str, Any]:
        trace = str(uuid.uuid4())
        return {
            "error": self.error,
            "error_description": f"AADSTS{self.code}: {self.description}\r\nTrace ID: {trace}\r\n"
            f"Correlation ID: {correlation}",
            "error_codes": [self.code],
            "trace_id": trace,
            "correlation_id": correlation,
        }


def _signing_key(pem: str | None) -> rsa.RSAPrivateKey:
    """The key that signs access tokens (RS256, so RSA); a fresh one unless configured."""
    if not pem:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("signing_key_pem must be an RSA private key: tokens are RS256")
    return key


def _assertion_certificate(
    client: SandboxClient, assertion_type: str | None
) -> tuple[x509.Certificate, rsa.RSAPublicKey]:
    """The client's registered certificate and its key; assertions are RS256 or PS256 (RSA)."""
    if assertion_type == ASSERTION_TYPE and client.certificate_pem:
        certificate = x509.load_pem_x509_certificate(client.certificate_pem.encode())
        public_key = certificate.public_key()
        if isinstance(public_key, rsa.RSAPublicKey):
            return certificate, public_key
    raise TokenError("invalid_client", 700027, "Client assertion failed signature validation.", 401)


def object_id(client_id: str) -> str:
    """The service principal's object id in the sandbox tenant (stable per client id)."""
    return str(uuid.uuid5(uuid.NAMESPACE_OID, client_id))


class TokenService:
    """Signs tokens with the sandbox key and checks them for the OData endpoint."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.key = _signing_key(state.settings.signing_key_pem)
        public_der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.kid = b64url(hashlib.sha256(public_der).digest())[:27]

    def jwks(self) -> dict[str, Any]:
        numbers = self.key.public_key().public_numbers()

        def encode(value: int) -> str:
            return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))

        key = {"kty": "RSA", "use": "sig", "kid": self.kid, "n": encode(numbers.n), "e": "AQAB"}
        return {"keys": [key]}

    def authenticate(self, form: dict[str, str], token_url: str) -> tuple[SandboxClient, str]:
        """The client that the form authenticates, and its ``appidacr`` (1 secret, 2 cert)."""
        assertion = form.get("client_assertion")
        client_id = form.get("client_id", "")
        if assertion and not client_id:
            client_id = jwt.decode(assertion, options={"verify_signature": False}).get("iss", "")
        client = self.state.settings.clients().get(client_id)
        if client is None:
            raise TokenError(
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{self.state.settings.tenant}'.",
            )
        if assertion:
            self._check_assertion(client, assertion, form.get("client_assertion_type"), token_url)
            return client, "2"
        if not client.client_secret or form.get("client_secret") != client.client_secret:
            raise TokenError(
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is "
                f"the client secret value, not the client secret ID, for a secret added to app "
                f"'{client_id}'.",
                401,
            )
        return client, "1"

    def _check_assertion(
        self, client: SandboxClient, assertion: str, assertion_type: str | None, token_url: str
    ) -> None:
        certificate, public_key = _assertion_certificate(client, assertion_type)
        try:
            claims = jwt.decode(
                assertion,
                public_key,
                algorithms=["RS256", "PS256"],
                audience=[token_url],
                options={"require": ["exp", "iss", "sub", "aud"]},
            )
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError as exc:
            raise TokenError(
                "invalid_client", 700027, f"Client assertion failed validation: {exc}.", 401
            ) from exc
        der = certificate.public_bytes(serialization.Encoding.DER)
        thumbprints = {b64url(hashlib.sha1(der).digest()), b64url(hashlib.sha256(der).digest())}
        presented = {str(header.get(k, "")).rstrip("=") for k in ("x5t", "x5t#S256")} - {""}
        if (
            claims["iss"] != client.client_id
            or claims["sub"] != client.client_id
            or not (presented & thumbprints)
        ):
            raise TokenError(
                "invalid_client",
                700027,
                "Client assertion contains an invalid signature or certificate thumbprint.",
                401,
            )

    def issue(
        self, client: SandboxClient, audience: str, appidacr: str, adfs: bool
    ) -> dict[str, Any]:
        """A token response for ``client`` with ``aud=audience``."""
        settings = self.state.settings
        now = int(self.state.clock.now().timestamp())
        lifetime = settings.token_lifetime_s
        claims: dict[str, Any] = {
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "appid": client.client_id,
            "appidacr": appidacr,
            "oid": object_id(client.client_id),
            "sub": object_id(client.client_id),
            "uti": b64url(uuid.uuid4().bytes),
            "ver": "1.0",
        }
        if adfs:
            claims["iss"] = "http://adfs.sandbox/adfs/services/trust"
        else:
            claims["iss"] = f"https://sts.windows.net/{settings.tenant_id}/"
            claims["tid"] = settings.tenant_id
            claims["idp"] = claims["iss"]
        token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})
        self.state.stats.tokens_issued += 1
        body = {"token_type": "Bearer", "expires_in": lifetime, "access_token": token}
        if not adfs:
            body["ext_expires_in"] = lifetime
        return body

    def validate(self, authorization: str | None, audience: str) -> SandboxClient | None:
        """The registered client a bearer token stands for, or None (then answer 401)."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        token = authorization[7:].strip()
        try:
            claims = jwt.decode(
                token,
                self.key.public_key(),
                algorithms=["RS256"],
                options={
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": False,
                },
            )
        except jwt.PyJWTError:
            return None
        now = self.state.clock.now().timestamp()
        if claims.get("exp", 0) <= now or claims.get("aud") != audience or not claims.get("oid"):
            return None
        if "tid" in claims and claims["tid"] != self.state.settings.tenant_id:
            return None
        client = self.state.settings.clients().get(claims.get("appid", ""))
        if client is None or not client.registered_in_fo:
            return None
        return client
