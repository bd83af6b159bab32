"""The one SMTP client of pbxlens (settings `smtp_*`): the ticket notifications and the delivery
outbox both send through `connection()`.

Errors are sorted once here: a refused recipient or a rejected message is permanent (retrying
cannot help), anything else (server down, timeout, 4xx) is worth another attempt.
"""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import make_msgid

from pbxlens.config import Settings, get_settings

TIMEOUT_S = 30


@contextmanager
def connection(settings: Settings | None = None) -> Iterator[smtplib.SMTP]:
    """An open, authenticated SMTP session (STARTTLS and login when the settings ask)."""
    s = settings or get_settings()
    with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=TIMEOUT_S) as smtp:
        if s.smtp_starttls:
            smtp.starttls()
        if s.smtp_user:
            smtp.login(s.smtp_user, s.smtp_password)
        yield smtp


def new_message(sender: str, to: list[str], subject: str, body: str) -> EmailMessage:
    """A plain-text message with a Message-ID in the sender's domain (no Bcc header: blind
    copies travel in the envelope only)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to) if to else "undisclosed-recipients:;"
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1] or "pbxlens")
    msg.set_content(body)
    return msg


def is_permanent(exc: BaseException) -> bool:
    """A 5xx answer about the recipients or the message: the same message will fail again.

    Example:
        >>> is_permanent(smtplib.SMTPRecipientsRefused({"x@y": (550, b"no such user")}))
        True
        >>> is_permanent(ConnectionRefusedError())
        False
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPDataError):
        return exc.smtp_code >= 500
    return False


TRANSPORT_ERRORS = (smtplib.SMTPException, OSError, socket.timeout)
