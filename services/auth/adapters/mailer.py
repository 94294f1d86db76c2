"""Outgoing mail over SMTP (tsuru's ``smtp:*`` settings)."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

log = logging.getLogger(__name__)


class SmtpMailer:
    """Sends synchronously but never fails the request: tsuru answers 200 to a
    reset request even when delivery fails, and only logs the error."""

    def __init__(self, server: str, sender: str, password: str = "", timeout: float = 10) -> None:
        host, _, port = server.rpartition(":") if ":" in server else (server, "", "25")
        self.host, self.port = host, int(port or 25)
        self.sender, self.password, self.timeout = sender, password, timeout

    def send(self, to: str, subject: str, body: str) -> None:
        if not self.host or not self.sender:
            log.error("mail to %s not sent: TSUBAME_SMTP_SERVER/TSUBAME_SMTP_USER unset", to)
            return
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, to, subject
        msg.set_content(body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.password:
                    smtp.login(self.sender, self.password)
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException):
            log.exception("could not send mail to %s", to)


class RecordingMailer(list):
    """A fake for tests: remembers ``(to, subject, body)``."""

    def send(self, to: str, subject: str, body: str) -> None:
        self.append((to, subject, body))
