"""Alerts to a chat webhook: a Slack incoming webhook or a Microsoft Teams workflow."""

from __future__ import annotations

from typing import Any, Literal

import httpx

from payledger.alerts.model import Alert, AlertDeliveryError, Severity

WebhookStyle = Literal["slack", "teams"]

_TEAMS_COLOURS = {
    Severity.INFO: "Default",
    Severity.WARNING: "Warning",
    Severity.CRITICAL: "Attention",
}


def slack_body(alert: Alert) -> dict[str, Any]:
    """A Slack message: ``text`` for notifications, blocks for the header, text and facts."""
    fields = [
        {"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in alert.details()[:10]
    ]
    return {
        "text": alert.headline,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": alert.headline[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": alert.text[:3000]}},
            {"type": "section", "fields": fields},
        ],
    }


def teams_body(alert: Alert) -> dict[str, Any]:
    """A Teams message carrying an Adaptive Card (what Teams workflows' webhooks accept)."""
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": alert.headline,
                "weight": "Bolder",
                "size": "Medium",
                "color": _TEAMS_COLOURS[alert.severity],
                "wrap": True,
            },
            {"type": "TextBlock", "text": alert.text, "wrap": True},
            {
                "type": "FactSet",
                "facts": [{"title": name, "value": value} for name, value in alert.details()],
            },
        ],
    }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


class WebhookSink:
    """Posts each alert as JSON to a webhook URL (a secret: it is never logged or shown)."""

    def __init__(
        self,
        url: str,
        *,
        style: WebhookStyle = "slack",
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = f"webhook ({style})"
        self.style = style
        self._url = url
        self._timeout = timeout
        self._transport = transport

    async def send(self, alert: Alert) -> None:
        body = slack_body(alert) if self.style == "slack" else teams_body(alert)
        try:
            async with httpx.AsyncClient(
                timeout=self._timeout, transport=self._transport, follow_redirects=False
            ) as http:
                response = await http.post(self._url, json=body)
        except httpx.HTTPError as exc:
            # httpx's messages hold the URL, and the URL is the secret: name only the failure.
            raise AlertDeliveryError(
                f"{self.name}: {type(exc).__name__}", system="alerts", operation="webhook"
            ) from None
        if not response.is_success:
            raise AlertDeliveryError(
                f"{self.name}: answered HTTP {response.status_code}",
                system="alerts",
                operation="webhook",
                status=response.status_code,
            )
