"""Schemathesis hook (``SCHEMATHESIS_HOOKS``): sign every generated webhook delivery with the
secret in ``PAYLEDGER_TEST_WEBHOOK_SECRET``, so generated bodies get past the signature check.

Every other well-formed hint names one of the real sandbox transactions listed in
``PAYLEDGER_TEST_TRANSACTION_IDS`` instead of a random id, so the stored hints include ones the
fetch job finds at PayTrace, not only ids it would park as unknown."""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any

import schemathesis
from schemathesis.core import NOT_SET

from payledger.web.signatures import sign


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if case.operation.path != "/webhooks/paytrace":
        return
    _name_a_real_transaction(case.body)
    body = _raw(case.body)
    message_id, stamp = f"msg_fuzz_{uuid.uuid4().hex}", int(time.time())
    secret = os.environ["PAYLEDGER_TEST_WEBHOOK_SECRET"]
    case.headers = {
        **(case.headers or {}),
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(secret, message_id, stamp, body),
    }
    kwargs["data"] = body


def _raw(body: Any) -> bytes:
    """The bytes that will be sent: generated bodies may already be bytes or text."""
    if body is NOT_SET:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8", errors="surrogatepass")
    return json.dumps(body).encode("utf-8", errors="surrogatepass")


def _name_a_real_transaction(body: Any) -> None:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or type(data.get("transaction_id")) is not int:
        return
    known = [int(i) for i in os.environ.get("PAYLEDGER_TEST_TRANSACTION_IDS", "").split(",") if i]
    if known and data["transaction_id"] % 2 == 0:
        data["transaction_id"] = known[data["transaction_id"] // 2 % len(known)]
