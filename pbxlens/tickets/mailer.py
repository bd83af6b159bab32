"""The SMTP sender of the notification outbox (operations store), behind the `smtp_enabled`
setting.

Pending outbox rows are grouped into one message per notice (ticket, event, reply): `to`
recipients in To, app users in Bcc when the matrix says so (B.6). Each notice is first claimed
in a short transaction (`claimed_at` stamped and the attempt counted, on the condition that it
is unsent and unclaimed, or claimed longer ago than the lease), then sent with no transaction
open, then marked sent (or its error recorded) and released: two senders at once (the server's
loop and `pbxlens tickets send-outbox`, or two web nodes) never send one notice twice, and a
sender that dies mid-way leaves a claim that another takes over once the lease has passed.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

import sqlalchemy as sa

from pbxlens.background import spawn
from pbxlens.config import Settings, get_settings
from pbxlens.delivery import smtp as smtp_client
from pbxlens.store import Stores
from pbxlens.tickets import now
from pbxlens.tickets import schema as S

MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=10)  # far above one SMTP conversation (30 s timeouts)


@dataclass
class SendResult:
    enabled: bool
    sent: int = 0  # messages
    failed: int = 0
    recipients: int = 0


def _claimable(at: datetime):
    o = S.outbox.c
    return sa.and_(o.sent_at.is_(None), o.attempts < MAX_ATTEMPTS,
                   sa.or_(o.claimed_at.is_(None), o.claimed_at < at - LEASE))


def _pending(store: Stores) -> dict[tuple, list[dict]]:
    o = S.outbox.c
    with store.ops_read() as conn:
        rows = conn.execute(sa.select(S.outbox).where(_claimable(now())).order_by(o.id)).mappings().all()
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["ticket_id"], r["event"], r["message_id"]), []).append(dict(r))
    return groups


class _Taken(Exception):
    """Another sender claimed the notice first."""


def _claim(store: Stores, rows: list[dict]) -> bool:
    """Claim every row of the notice, all or nothing: each must still be claimable and have the
    attempts it had when read."""
    o = S.outbox.c
    at = now()
    try:
        with store.ops_write() as conn:
            for r in rows:
                n = conn.execute(
                    S.outbox.update()
                    .where(o.id == r["id"], o.attempts == r["attempts"], _claimable(at))
                    .values(attempts=o.attempts + 1, claimed_at=at)
                ).rowcount
                if n != 1:
                    raise _Taken  # rolls the whole claim back
    except _Taken:
        return False
    return True


def _mark(store: Stores, ids: list[int], error: str | None) -> None:
    o = S.outbox.c
    vals = {"last_error": error} if error else {"sent_at": now(), "last_error": None}
    with store.ops_write() as conn:
        conn.execute(S.outbox.update().where(o.id.in_(ids)).values(claimed_at=None, **vals))


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
            if not _claim(store, rows):
                continue
            try:
                smtp.send_message(
                    build(rows, s.smtp_from), from_addr=s.smtp_from, to_addrs=[r["recipient"] for r in rows]
                )
                error = None
            except smtplib.SMTPException as exc:
                error = str(exc)[:500]
            _mark(store, [r["id"] for r in rows], error)
            if error is None:
                res.sent += 1
                res.recipients += len(rows)
            else:
                res.failed += 1
    return res


def start_sender(store: Stores, stop, interval_s: float = 60) -> bool:
    """The server's sending loop (a daemon thread, started with the server's jobs) when
    `smtp_enabled`; a failed pass (SMTP or the store down) is logged and retried next interval."""
    import logging

    if not get_settings().smtp_enabled:
        return False
    log = logging.getLogger("pbxlens.mail")

    def loop() -> None:
        while not stop.wait(interval_s):
            try:
                send_pending(store)
            except Exception as exc:
                log.warning("ticket notifications not sent: %s", exc)

    spawn("pbxlens-mail", loop, stop)
    return True
