"""Alerts by e-mail through an SMTP server (stdlib ``smtplib`` in a worker thread)."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Literal

from payledger.alerts.model import Alert, AlertDeliveryError

SmtpSecurity = Literal["starttls", "tls", "none"]


def email_for(alert: Alert, *, sender: str, recipients: Sequence[str]) -> EmailMessage:
    """The alert as a plain-text e-mail: the headline as subject, then the text and facts."""
    message = EmailMessage()
    message["Subject"] = alert.headline
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="payledger")
    width = max((len(name) for name, _ in alert.details()), default=0)
    facts = "\n".join(f"{name.ljust(width)}  {value}" for name, value in alert.details())
    message.set_content(f"{alert.text}\n\n{facts}\n\nalert key: {alert.key}\n")
    return message


class SmtpSink:
    """Sends each alert to ``recipients``; the password comes from the vault and is never shown."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        recipients: Sequence[str],
        security: SmtpSecurity = "starttls",
        username: str = "",
        password: str = "",
        timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.name = f"smtp ({host}:{port})"
        self.host = host
        self.port = port
        self.sender = sender
        self.recipients = list(recipients)
        self.security = security
        self.username = username
        self._password = password
        self.timeout = timeout
        self.ssl_context = ssl_context or ssl.create_default_context()

    async def send(self, alert: Alert) -> None:
        message = email_for(alert, sender=self.sender, recipients=self.recipients)
        try:
            await asyncio.to_thread(self._send, message)
        except (smtplib.SMTPException, OSError) as exc:
            reason = (
                "the server refused the login"
                if isinstance(exc, smtplib.SMTPAuthenticationError)
                else type(exc).__name__
            )
            raise AlertDeliveryError(
                f"{self.name}: {reason}", system="alerts", operation="smtp"
            ) from None

    def _send(self, message: EmailMessage) -> None:
        if self.security == "tls":
            server: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self.ssl_context
            )
        else:
            server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with server:
            if self.security == "starttls":
                server.starttls(context=self.ssl_context)
            if self.username:
                server.login(self.username, self._password)
            server.send_message(message, from_addr=self.sender, to_addrs=self.recipients)
