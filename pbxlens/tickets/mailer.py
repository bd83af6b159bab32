"""The SMTP sender of the notification outbox, behind the `smtp_enabled` setting.

Pending outbox rows are grouped into one message per notice (ticket, event, reply): `to`
recipients in To, app users in Bcc when the matrix says so (B.6). The SMTP conversation happens
outside the store's write lock; each notice is then marked sent (or its attempt and error
recorded) in its own short transaction, so a crash re-sends at most the notice in flight.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

import sqlalchemy as sa

from pbxlens.config import Settings, get_settings
from pbxlens.delivery import smtp as smtp_client
from pbxlens.store import Stores
from pbxlens.tickets import schema as S
from pbxlens.tickets.db import now, write

MAX_ATTEMPTS = 5


@dataclass
class SendResult:
    enabled: bool
    sent: int = 0  # messages
    failed: int = 0
    recipients: int = 0


def _pending(store: Stores) -> dict[tuple, list[dict]]:
    o = S.outbox.c
    with store.ops_read() as conn:
        rows = (
            conn.execute(
                sa.select(S.outbox).where(o.sent_at.is_(None), o.attempts < MAX_ATTEMPTS).order_by(o.id)
            )
            .mappings()
            .all()
        )
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["ticket_id"], r["event"], r["message_id"]), []).append(dict(r))
    return groups


def build(rows: list[dict], sender: str) -> EmailMessage:
    to = [r["recipient"] for r in rows if r["header"] == "to"]
    return smtp_client.new_message(sender, to, rows[0]["subject"], rows[0]["body"])


def send_pending(store: Stores, settings: Settings | None = None) -> SendResult:
    s = settings or get_settings()
    if not s.smtp_enabled:
        return SendResult(enabled=False)
    res = SendResult(enabled=True)
    groups = _pending(store)
    if not groups:
        return res
    with smtp_client.connection(s) as smtp:
        for rows in groups.values():
            ids = [r["id"] for r in rows]
            try:
                smtp.send_message(
                    build(rows, s.smtp_from), from_addr=s.smtp_from, to_addrs=[r["recipient"] for r in rows]
                )
                error = None
            except smtplib.SMTPException as exc:
                error = str(exc)[:500]

            def mark(conn, ids=ids, error=error):
                o = S.outbox.c
                vals = {"attempts": o.attempts + 1, "last_error": error}
                if error is None:
                    vals["sent_at"] = now()
                conn.execute(S.outbox.update().where(o.id.in_(ids)).values(**vals))

            write(store, mark)
            if error is None:
                res.sent += 1
                res.recipients += len(rows)
            else:
                res.failed += 1
    return res


def start_sender(store: Stores, stop, interval_s: float = 60) -> bool:
    """The server's sending loop (a daemon thread of `dashboards.jobs.start`) when
    `smtp_enabled`; a failed pass (server down) is logged and retried next interval."""
    import logging
    import threading

    if not get_settings().smtp_enabled:
        return False
    log = logging.getLogger("pbxlens.mail")

    def loop() -> None:
        while not stop.wait(interval_s):
            try:
                send_pending(store)
            except Exception as exc:
                log.warning("ticket notifications not sent: %s", exc)

    threading.Thread(target=loop, name="pbxlens-mail", daemon=True).start()
    return True
