"""The delivery outbox in the operations store: messages queued in the caller's transaction (so a
schedule run, an alert firing or an export is recorded together with what it sends), one row
per recipient, sent later by `sender`; files attached to them; the log of every attempt.

A message with a `dedupe_key` is queued once: queuing it again (a restarted run, a second web
node) is a no-op, which is what makes a schedule's run "once, never twice".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parseaddr
from urllib.parse import urlparse

import sqlalchemy as sa

from pbxlens import PbxlensError
from pbxlens.delivery.payloads import STYLES
from pbxlens.store import ops
from pbxlens.store import schema as T

CHANNELS = ("email", "webhook")


class DeliveryError(PbxlensError):
    """A message that cannot be queued (bad address or URL, unknown channel, file too big)."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Message:
    """One message to one recipient. `fields` and `links` are shown by every channel (mail
    body lines, webhook payload fields and buttons)."""

    channel: str  # email | webhook
    target: str  # an address, or an http(s) URL
    subject: str
    body: str
    origin: str  # what sent it: "schedule:12", "alert:3", "export:7"
    tenant: str = "default"
    owner: int | None = None  # the user whose delivery log shows it (None: admins only)
    style: str = "json"  # webhooks: json | slack | teams
    fields: dict = field(default_factory=dict)
    links: tuple[tuple[str, str], ...] = ()
    dedupe_key: str | None = None


def now() -> datetime:
    return datetime.now(UTC)


def clean_address(address: str) -> str:
    """A bare email address, lower-cased domain; anything else is refused.

    Example:
        >>> clean_address(" Anna Rossi <Anna@Acme.IT> ")
        'Anna@acme.it'
    """
    _, addr = parseaddr(address or "")
    local, at, domain = addr.strip().rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in addr):
        raise DeliveryError(f"not an email address: {address!r}", key="err_not_email",
                            value=address)
    return f"{local}@{domain.lower()}"


def clean_url(url: str) -> str:
    u = urlparse((url or "").strip())
    if u.scheme not in ("http", "https") or not u.netloc:
        raise DeliveryError(f"a webhook URL starts with http:// or https://, got {url!r}",
                            key="err_not_url", value=url)
    return u.geturl()


def _row(m: Message, file_id: int | None, at: datetime) -> dict:
    if m.channel not in CHANNELS:
        raise DeliveryError(f"unknown channel {m.channel!r}; choose from {', '.join(CHANNELS)}")
    if m.channel == "webhook" and m.style not in STYLES:
        raise DeliveryError(f"unknown webhook style {m.style!r}; choose from {', '.join(STYLES)}")
    target = clean_address(m.target) if m.channel == "email" else clean_url(m.target)
    return {"origin": m.origin[:200], "dedupe_key": m.dedupe_key, "owner": m.owner,
            "tenant": m.tenant, "channel": m.channel, "target": target,
            "style": m.style if m.channel == "webhook" else None, "subject": m.subject[:500],
            "body": m.body, "data": {"fields": {str(k): str(v) for k, v in m.fields.items()},
                                     "links": [list(x) for x in m.links]},
            "file_id": file_id, "state": "pending", "attempts": 0, "next_attempt_at": at,
            "created_at": at}


def add_file(conn: sa.Connection, attachment: Attachment, *, max_bytes: int,
             expires_at: datetime | None = None) -> int:
    """Store a file once (several recipients, or a download link, refer to it)."""
    size = len(attachment.data)
    if size > max_bytes:
        raise DeliveryError(f"{attachment.filename} is {size:,} bytes, larger than the "
                            f"{max_bytes:,} allowed (setting delivery_max_bytes)")
    return conn.execute(T.delivery_files.insert().values(
        filename=attachment.filename, content_type=attachment.content_type, size_bytes=size,
        data=attachment.data, created_at=now(), expires_at=expires_at)
        .returning(T.delivery_files.c.id)).scalar_one()


def enqueue(conn: sa.Connection, messages: list[Message], *, file_id: int | None = None) -> int:
    """Queue `messages` in the caller's transaction; returns how many were new (a message whose
    `dedupe_key` is already queued is skipped)."""
    if not messages:
        return 0
    at = now()
    rows = [_row(m, file_id, at) for m in messages]
    keyed = [r for r in rows if r["dedupe_key"] is not None]
    plain = [r for r in rows if r["dedupe_key"] is None]
    n = 0
    if keyed:
        n += ops.insert_ignoring(conn, T.delivery_outbox, keyed, ["dedupe_key"])
    if plain:
        conn.execute(T.delivery_outbox.insert(), plain)
        n += len(plain)
    return n


def file_of(conn: sa.Connection, file_id: int) -> Attachment | None:
    f = T.delivery_files.c
    r = conn.execute(sa.select(f.filename, f.content_type, f.data).where(f.id == file_id)).first()
    return Attachment(r.filename, r.content_type, bytes(r.data)) if r else None


def messages(conn: sa.Connection, *, origin: str | None = None, state: str | None = None
             ) -> list[dict]:
    """Outbox rows (without file contents), oldest first: for tests, the CLI and pages."""
    o = T.delivery_outbox
    q = sa.select(o).order_by(o.c.id)
    if origin is not None:
        q = q.where(o.c.origin == origin)
    if state is not None:
        q = q.where(o.c.state == state)
    return [dict(r) for r in conn.execute(q).mappings()]


def log_for(conn: sa.Connection, *, tenant: str, owner: int | None = None,
            origin_prefix: str | None = None, limit: int = 200) -> list[dict]:
    """The delivery log, newest first: a tenant's (admins), or one owner's."""
    lg = T.delivery_log
    q = sa.select(lg).where(lg.c.tenant == tenant).order_by(lg.c.id.desc()).limit(limit)
    if owner is not None:
        q = q.where(lg.c.owner == owner)
    if origin_prefix is not None:
        q = q.where(lg.c.origin.startswith(origin_prefix, autoescape=True))
    return [dict(r) for r in conn.execute(q).mappings()]


def prune_files(conn: sa.Connection, at: datetime | None = None) -> int:
    """Delete expired files no unsent message still needs."""
    f, o = T.delivery_files, T.delivery_outbox
    needed = sa.select(o.c.file_id).where(o.c.file_id.is_not(None),
                                          o.c.state.in_(("pending", "sending")))
    return conn.execute(f.delete().where(f.c.expires_at.is_not(None),
                                         f.c.expires_at < (at or now()),
                                         f.c.id.not_in(needed))).rowcount
