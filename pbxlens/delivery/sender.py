"""Sending the outbox: email through SMTP (`delivery.smtp`), webhooks by HTTP POST (httpx).

A pass claims the messages that are due (state `pending`, `next_attempt_at` reached; or left
`sending` by a process that died more than `STALE_S` ago), sends each once, and records the
attempt in the log. A failure that can pass (server down, timeout, 5xx, 429) is retried later
with exponential backoff (tenacity's `wait_exponential`: settings `delivery_backoff_s`, doubling,
capped at `delivery_backoff_max_s`) until `delivery_attempts`; a permanent one (a refused
recipient, a 4xx webhook answer) fails at once. Failed messages stay visible in the log.

The conversation with the server happens outside any transaction; a crash between sending and
recording re-sends at most the messages in flight (SMTP has no idempotency key).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
import sqlalchemy as sa
import tenacity

from pbxlens.background import start_loop
from pbxlens.config import Settings, get_settings
from pbxlens.delivery import payloads, smtp
from pbxlens.delivery.outbox import file_of, now
from pbxlens.store import Stores
from pbxlens.store import schema as T

log = logging.getLogger("pbxlens.delivery")
STALE_S = 300  # a claim older than this belongs to a process that died
BATCH = 500
INTERVAL_S = 5.0
_WAKE = threading.Event()  # set by `wake()`: the loop runs a pass now instead of at its interval


class PermanentError(Exception):
    """Sending this message again cannot succeed."""


@dataclass
class SendSummary:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def backoff_s(attempt: int, settings: Settings | None = None) -> float:
    """Seconds before attempt `attempt + 1`, after `attempt` failures (1 = the first).

    Example:
        >>> s = Settings(delivery_backoff_s=30, delivery_backoff_max_s=3600)
        >>> [backoff_s(n, s) for n in (1, 2, 3, 10)]
        [30.0, 60.0, 120.0, 3600.0]
    """
    s = settings or get_settings()
    wait = tenacity.wait_exponential(multiplier=s.delivery_backoff_s, max=s.delivery_backoff_max_s)
    state = tenacity.RetryCallState(retry_object=None, fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    return float(wait(state))


def wake() -> None:
    """Ask the server's sender to run a pass now (after queuing messages)."""
    _WAKE.set()


# ----------------------------------------------------------------------------- claiming


def claim(stores: Stores, at: datetime) -> list[dict]:
    """Mark the due messages `sending` (one winner per message across processes)."""
    o = T.delivery_outbox
    stale = at - timedelta(seconds=STALE_S)
    due = sa.or_(sa.and_(o.c.state == "pending", o.c.next_attempt_at <= at),
                 sa.and_(o.c.state == "sending", o.c.claimed_at < stale))
    with stores.ops_read() as conn:  # most passes find nothing: then no write turn
        if conn.execute(sa.select(o.c.id).where(due).limit(1)).first() is None:
            return []
    with stores.ops_write() as conn:
        ids = conn.execute(sa.select(o.c.id).where(due).order_by(o.c.id).limit(BATCH)).scalars().all()
        mine = [i for i in ids
                if conn.execute(o.update().where(o.c.id == i, due)
                                .values(state="sending", claimed_at=at)).rowcount == 1]
        if not mine:
            return []
        rows = conn.execute(sa.select(o).where(o.c.id.in_(mine)).order_by(o.c.id)).mappings().all()
    return [dict(r) for r in rows]


# ----------------------------------------------------------------------------- one pass


def send_pending(stores: Stores, settings: Settings | None = None,
                 at: datetime | None = None) -> SendSummary:
    """One pass over the due messages; returns what happened."""
    s = settings or get_settings()
    summary = SendSummary()
    rows = claim(stores, at or now())
    if not rows:
        return summary
    mail = _Mailer(s)
    try:
        with httpx.Client(timeout=s.delivery_timeout_s, follow_redirects=False) as http:
            for row in rows:
                try:
                    size = (mail.send(stores, row) if row["channel"] == "email"
                            else _post(http, row))
                    error, permanent = None, False
                except PermanentError as exc:
                    size, error, permanent = 0, str(exc), True
                except Exception as exc:  # the target's failure, recorded and retried
                    size, error, permanent = 0, f"{type(exc).__name__}: {exc}", False
                _record(stores, row, size, error, permanent, s, summary)
    finally:
        mail.close()
    return summary


def _record(stores: Stores, row: dict, size: int, error: str | None, permanent: bool,
            s: Settings, summary: SendSummary) -> None:
    at = now()
    attempt = row["attempts"] + 1
    if error is None:
        outcome, values = "sent", {"state": "sent", "sent_at": at, "last_error": None}
        summary.sent += 1
    elif permanent or attempt >= s.delivery_attempts:
        outcome, values = "failed", {"state": "failed", "last_error": error[:2000]}
        summary.failed += 1
        summary.errors.append(error)
        log.warning("delivery %s to %s failed: %s", row["id"], row["target"], error)
    else:
        outcome = "retry"
        values = {"state": "pending", "last_error": error[:2000],
                  "next_attempt_at": at + timedelta(seconds=backoff_s(attempt, s))}
        summary.retried += 1
    o = T.delivery_outbox
    with stores.ops_write() as conn:
        conn.execute(o.update().where(o.c.id == row["id"])
                     .values(attempts=attempt, claimed_at=None, **values))
        conn.execute(T.delivery_log.insert().values(
            outbox_id=row["id"], origin=row["origin"], owner=row["owner"], tenant=row["tenant"],
            channel=row["channel"], target=row["target"], subject=row["subject"],
            attempt=attempt, at=at, size_bytes=size, outcome=outcome,
            error=error[:2000] if error else None))


class _Mailer:
    """One SMTP session per pass, opened at the first email; a server that refuses the
    connection fails each email of the pass with that error (each one logged and retried)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stack = contextlib.ExitStack()
        self._smtp = None

    def send(self, stores: Stores, row: dict) -> int:
        s = self.settings
        if not s.smtp_enabled:
            raise PermanentError("email is not enabled (setting smtp_enabled)")
        msg = smtp.new_message(s.smtp_from, [row["target"]], row["subject"], _mail_body(row))
        if row["file_id"] is not None:
            with stores.ops_read() as conn:
                f = file_of(conn, row["file_id"])
            if f is None:
                raise PermanentError(f"the attachment (file {row['file_id']}) no longer exists")
            main, _, sub = f.content_type.partition("/")
            msg.add_attachment(f.data, maintype=main, subtype=sub or "octet-stream",
                               filename=f.filename)
        data = msg.as_bytes()
        try:
            if self._smtp is None:
                self._smtp = self._stack.enter_context(smtp.connection(s))
            self._smtp.send_message(msg, from_addr=s.smtp_from, to_addrs=[row["target"]])
        except smtp.TRANSPORT_ERRORS as exc:
            if smtp.is_permanent(exc):
                raise PermanentError(f"{type(exc).__name__}: {exc}") from exc
            self.close()  # the session may be broken: a new one for the next message
            raise
        return len(data)

    def close(self) -> None:
        with contextlib.suppress(*smtp.TRANSPORT_ERRORS):  # QUIT on a broken session
            self._stack.close()
        self._smtp = None


def _mail_body(row: dict) -> str:
    links = (row.get("data") or {}).get("links") or []
    fields = (row.get("data") or {}).get("fields") or {}
    lines = [row["body"].rstrip()]
    if fields:
        lines += [""] + [f"{k}: {v}" for k, v in fields.items()]
    if links:
        lines += [""] + [f"{label}: {url}" for label, url in links]
    return "\n".join(lines) + "\n"


def _post(http: httpx.Client, row: dict) -> int:
    data = row.get("data") or {}
    body = payloads.build(row["style"] or "json", row["subject"], row["body"], origin=row["origin"],
                          fields=data.get("fields"), links=data.get("links"))
    r = http.post(row["target"], json=body, headers={"User-Agent": "pbxlens"})
    if r.status_code >= 400:
        text = f"HTTP {r.status_code}: {r.text[:200]}"
        if r.status_code < 500 and r.status_code not in (408, 429):
            raise PermanentError(text)
        raise RuntimeError(text)
    return len(r.request.content)


# ----------------------------------------------------------------------------- the loop


def start_sender(stores: Stores, stop: threading.Event, interval_s: float = INTERVAL_S
                 ) -> threading.Thread:
    """The server's sending thread: a pass every `interval_s`, or at once after `wake()`."""

    return start_loop("pbxlens-delivery", lambda: send_pending(stores), stop, _WAKE,
                      interval_s, log)
