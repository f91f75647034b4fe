"""Sending mail (login codes) through the SMTP server the settings name, with the standard
library's ``smtplib``: one message, a timeout, STARTTLS and login when configured."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from kilo.errors import KiloError
from kilo.settings import Settings

__all__ = ["send_mail"]

log = logging.getLogger(__name__)


def send_mail(settings: Settings, to: str, subject: str, body: str) -> None:
    """Send one plain-text message; :class:`KiloError` when no SMTP server is set or it
    refuses."""
    if not settings.smtp_host:
        raise KiloError("no SMTP server is configured (KILO_SMTP_HOST)")
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=20) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        log.debug("sending mail failed", exc_info=True)
        raise KiloError(f"the SMTP server did not take the message ({exc})") from exc
