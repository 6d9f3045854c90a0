"""The customer notices' e-mails: Jinja2 templates per language, and the message they make."""

from payledger.notices.mail import email_message
from payledger.notices.render import NoticeTemplates, format_money

__all__ = ["NoticeTemplates", "email_message", "format_money"]
