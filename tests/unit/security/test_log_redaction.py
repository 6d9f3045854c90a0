"""Logs never carry card numbers or secret values, whoever writes them."""

from __future__ import annotations

import json
import logging

import structlog

from payledger.logs import configure_logging


def test_card_numbers_and_secrets_are_redacted_in_the_log_file(tmp_path):
    log_file = tmp_path / "payledger.log"
    configure_logging(level="INFO", fmt="json", file=log_file)
    try:
        log = structlog.get_logger("test")
        with structlog.contextvars.bound_contextvars(correlation_id="req-42"):
            log.info("payment.received", note="card 4111 1111 1111 1111", password="hunter2")
        logging.getLogger("httpx").warning("POST body: {'number': '5454545454545454'}")
        try:
            raise ValueError("declined 378282246310005")
        except ValueError:
            log.exception("payment.failed")
    finally:
        for handler in logging.getLogger().handlers:
            handler.flush()
    text = log_file.read_text()
    assert "4111 1111 1111 1111" not in text
    assert "5454545454545454" not in text
    assert "378282246310005" not in text
    assert "hunter2" not in text
    first = json.loads(text.splitlines()[0])
    assert first["event"] == "payment.received"
    assert first["correlation_id"] == "req-42"
    assert first["note"] == "card [card ****1111]"
    assert first["password"] == "[redacted]"
    assert "[card ****0005]" in text
