"""A written notice as the MIME message an SMTP server takes: plain text with an HTML
alternative, and the Message-ID chosen when the notice was stored."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

from payledger.flows.ports.notices import Email


def email_message(email: Email, *, sender: str, reply_to: str = "") -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = email.subject
    message["From"] = sender
    message["To"] = email.to
    if reply_to:
        message["Reply-To"] = reply_to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = email.message_id
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message
