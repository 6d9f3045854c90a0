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


class SmtpServer:
    """One SMTP server: connects (TLS, STARTTLS or plain), logs in if told to, and sends a
    message; the password comes from the vault and is never shown. Alerts and the customer
    notices of dunning both send through it."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: SmtpSecurity = "starttls",
        username: str = "",
        password: str = "",
        timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.name = f"smtp ({host}:{port})"
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self._password = password
        self.timeout = timeout
        self.ssl_context = ssl_context or ssl.create_default_context()

    async def send(self, message: EmailMessage, *, sender: str, recipients: Sequence[str]) -> None:
        """Send ``message`` to ``recipients``.

        Raises:
            AlertDeliveryError: the server could not be reached, or refused the login or the
                message (a ``TransientError``: sending later may succeed).
        """
        try:
            await asyncio.to_thread(self._send, message, sender, list(recipients))
        except (smtplib.SMTPException, OSError) as exc:
            reason = (
                "the server refused the login"
                if isinstance(exc, smtplib.SMTPAuthenticationError)
                else type(exc).__name__
            )
            raise AlertDeliveryError(
                f"{self.name}: {reason}", system="alerts", operation="smtp"
            ) from None

    def _send(self, message: EmailMessage, sender: str, recipients: list[str]) -> None:
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
            server.send_message(message, from_addr=sender, to_addrs=recipients)


class SmtpSink:
    """Sends each alert to ``recipients`` through an :class:`SmtpServer`."""

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
        self.server = SmtpServer(
            host,
            port,
            security=security,
            username=username,
            password=password,
            timeout=timeout,
            ssl_context=ssl_context,
        )
        self.name = self.server.name
        self.sender = sender
        self.recipients = list(recipients)

    async def send(self, alert: Alert) -> None:
        message = email_for(alert, sender=self.sender, recipients=self.recipients)
        await self.server.send(message, sender=self.sender, recipients=self.recipients)
