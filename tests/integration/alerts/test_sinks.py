"""Each sink delivers a readable alert to a real receiver, and its failures name no secret."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime

import pytest

from payledger.alerts import Alert, AlertDeliveryError, Severity, SmtpSink, WebhookSink
from payledger.bench.postgres import free_port
from tests.integration.alerts.conftest import SMTP_PASSWORD, WEBHOOK_TOKEN

STORM = Alert(
    key="d365-outage",
    title="D365 unavailable: journal writes keep failing",
    text="The journal flush failed 6 times in a row; 42 posting(s) wait.",
    severity=Severity.CRITICAL,
    count=12,
    first_at=datetime(2026, 3, 24, 17, 0, tzinfo=UTC),
    last_at=datetime(2026, 3, 24, 17, 9, tzinfo=UTC),
    facts={"postings waiting": "42"},
)


async def test_a_slack_webhook_gets_the_headline_the_text_and_the_facts(receiver):
    await WebhookSink(receiver.url, style="slack").send(STORM)
    [body] = receiver.posts
    assert body["text"] == "[payledger] D365 unavailable: journal writes keep failing (x12)"
    header, section, facts = body["blocks"]
    assert header["text"]["text"] == body["text"]
    assert section["text"]["text"] == STORM.text
    fields = [field["text"] for field in facts["fields"]]
    assert "*occurrences*\n12" in fields
    assert "*severity*\ncritical" in fields
    assert "*first*\n2026-03-24T17:00:00+00:00" in fields
    assert "*postings waiting*\n42" in fields


async def test_a_teams_webhook_gets_an_adaptive_card(receiver):
    await WebhookSink(receiver.url, style="teams").send(STORM)
    [body] = receiver.posts
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    title, text, facts = attachment["content"]["body"]
    assert title["text"].endswith("(x12)") and title["color"] == "Attention"
    assert text["text"] == STORM.text
    assert {"title": "occurrences", "value": "12"} in facts["facts"]


async def test_a_refusing_webhook_is_reported_without_its_url(receiver):
    receiver.status = 500
    with pytest.raises(AlertDeliveryError) as failure:
        await WebhookSink(receiver.url).send(STORM)
    assert "HTTP 500" in str(failure.value)
    assert WEBHOOK_TOKEN not in str(failure.value) and "services" not in str(failure.value)


async def test_an_unreachable_webhook_is_reported_without_its_url():
    url = f"http://127.0.0.1:{free_port()}/services/{WEBHOOK_TOKEN}"
    with pytest.raises(AlertDeliveryError) as failure:
        await WebhookSink(url, timeout=2).send(STORM)
    assert "ConnectError" in str(failure.value)
    assert WEBHOOK_TOKEN not in repr(failure.value)
    assert failure.value.__cause__ is None  # httpx's error (which holds the URL) is dropped


def smtp_sink(mailbox, password: str = SMTP_PASSWORD) -> SmtpSink:
    return SmtpSink(
        mailbox.host,
        mailbox.port,
        sender="payledger@contoso.test",
        recipients=["finance-ops@contoso.test", "it@contoso.test"],
        security="starttls",
        username="alerts",
        password=password,
        ssl_context=ssl.create_default_context(cafile=str(mailbox.certificate)),
    )


async def test_an_email_goes_out_over_starttls_with_a_login(mailbox):
    await smtp_sink(mailbox).send(STORM)
    assert mailbox.logins == ["alerts"]
    [message] = mailbox.messages
    assert message["Subject"] == "[payledger] D365 unavailable: journal writes keep failing (x12)"
    assert message["From"] == "payledger@contoso.test"
    assert mailbox.envelopes == [
        ("payledger@contoso.test", ["finance-ops@contoso.test", "it@contoso.test"])
    ]
    body = message.get_content()
    assert STORM.text in body
    assert "occurrences       12" in body
    assert "postings waiting  42" in body
    assert "alert key: d365-outage" in body


async def test_a_refused_smtp_login_names_no_password(mailbox):
    with pytest.raises(AlertDeliveryError) as failure:
        await smtp_sink(mailbox, password="wrong-" + SMTP_PASSWORD).send(STORM)
    assert "refused the login" in str(failure.value)
    assert SMTP_PASSWORD not in repr(failure.value)
    assert mailbox.messages == []
