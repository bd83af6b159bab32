"""Who is notified of a ticket's creation and of each public reply (nexus_modules.md B.6), and
the outbox that records it; `mailer.send_pending` sends the outbox when SMTP is enabled.

Recipients of (channel, event) = the roles ticked in the subscription matrix, resolved to
addresses: owner (the creator, or an email ticket's sender), in_charge, assigned, company (the
final customer's email), contact (the ticket's contacts), cc (the ticket's extra notification
addresses), shared_users, shared_areas (users of the shared areas); the addresses typed in a
reply are always added. Then:
- a ticket with `notify` off sends nothing (L6656); an internal note sends nothing (L6730);
- the OUT blacklist removes an address or a whole domain from every notification; the IN
  blacklist from the notifications of tickets born from an incoming email (DECISION);
- email channel: "do not notify the sender" drops the sender; "notify the sender on opening"
  adds them to the creation notice unless the opening blacklist holds them; "only addresses not
  present" drops those already in the original mail's To/Cc;
- users of the app go in BCC when the column's BCC flag is on; duplicates collapse (lower case).
Channel: `email` for tickets from email, `support` for tickets opened from a call (the support
desk's CTI mask), `ticket` otherwise (DECISION).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from pbxlens.store.ops import upsert
from pbxlens.tickets import TicketError
from pbxlens.tickets import schema as S

ROLES = ("owner", "in_charge", "assigned", "company", "contact", "cc", "shared_users", "shared_areas")
CHANNELS = ("ticket", "support", "email")
EVENTS = ("insert", "reply")
BLACKLISTS = ("opening_sender", "out", "in")


@dataclass(frozen=True)
class Recipient:
    address: str
    header: str  # to | bcc
    role: str


def user_email(conn: sa.Connection, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return conn.execute(sa.select(S.users.c.email).where(S.users.c.user_id == user_id)).scalar()


def set_user(
    conn: sa.Connection, user_id: int, *, email: str | None = None, areas: Iterable[str] | None = None
) -> None:
    """The module's data about a user: notification address and areas."""
    upsert(conn, S.users, {"user_id": user_id, "email": email}, ["user_id"], ["email"])
    if areas is not None:
        conn.execute(S.user_areas.delete().where(S.user_areas.c.user_id == user_id))
        rows = [{"user_id": user_id, "area": a} for a in dict.fromkeys(areas)]
        if rows:
            conn.execute(S.user_areas.insert(), rows)


def user_areas(conn: sa.Connection, user_id: int) -> list[str]:
    return list(
        conn.execute(sa.select(S.user_areas.c.area).where(S.user_areas.c.user_id == user_id)).scalars()
    )


def channel_of(ticket: dict) -> str:
    mode = ticket.get("creation_mode")
    return "email" if mode == "email" else "support" if mode == "call" else "ticket"


def _norm(addr: str | None) -> str | None:
    a = (addr or "").strip().strip("<>").lower()
    return a if "@" in a and " " not in a else None


def split_addresses(text: str | Iterable[str] | None) -> list[str]:
    if text is None:
        return []
    parts = text.replace(";", ",").split(",") if isinstance(text, str) else list(text)
    return [a for a in (_norm(p) for p in parts) if a]


def listed(address: str, entries: Iterable[str]) -> bool:
    """An entry is an address, or a domain written `acme.it` or `@acme.it` (any address of it).

    Example:
        >>> listed("boss@acme.it", ["@acme.it"]), listed("a@notacme.it", ["acme.it"])
        (True, False)
    """
    address = address.lower()
    domain = address.rsplit("@", 1)[-1]
    for e in entries:
        e = e.strip().lower()
        if not e:
            continue
        if "@" in e and not e.startswith("@"):
            if address == e:
                return True
        elif domain == e.lstrip("@"):
            return True
    return False


def blacklist(conn: sa.Connection, kind: str) -> list[str]:
    b = S.notify_blacklist.c
    return list(conn.execute(sa.select(b.entry).where(b.kind == kind)).scalars())


def set_blacklist(conn: sa.Connection, kind: str, entries: Iterable[str]) -> None:
    if kind not in BLACKLISTS:
        raise TicketError(f"unknown blacklist {kind!r}; choose from {', '.join(BLACKLISTS)}")
    conn.execute(S.notify_blacklist.delete().where(S.notify_blacklist.c.kind == kind))
    for e in dict.fromkeys(x.strip().lower() for x in entries if x and x.strip()):
        conn.execute(S.notify_blacklist.insert().values(kind=kind, entry=e))


def subscriptions(conn: sa.Connection, channel: str, event: str) -> set[str]:
    s = S.subscriptions.c
    return set(conn.execute(sa.select(s.recipient).where(s.channel == channel, s.event == event)).scalars())


def set_subscriptions(conn: sa.Connection, channel: str, event: str, roles: Iterable[str]) -> None:
    roles = set(roles)
    if channel not in CHANNELS or event not in EVENTS or roles - set(ROLES):
        raise TicketError(f"bad subscription {channel}/{event}/{sorted(roles - set(ROLES))}")
    s = S.subscriptions.c
    conn.execute(S.subscriptions.delete().where(s.channel == channel, s.event == event))
    for r in sorted(roles):
        conn.execute(S.subscriptions.insert().values(channel=channel, event=event, recipient=r))


def options(conn: sa.Connection, channel: str, event: str) -> dict:
    o = S.notify_options.c
    r = (
        conn.execute(sa.select(S.notify_options).where(o.channel == channel, o.event == event))
        .mappings()
        .first()
    )
    return (
        dict(r)
        if r
        else {"only_absent": False, "bcc_users": False, "skip_sender": False, "notify_sender_on_open": False}
    )


def set_options(conn: sa.Connection, channel: str, event: str, **flags: bool) -> None:
    o = S.notify_options.c
    conn.execute(S.notify_options.update().where(o.channel == channel, o.event == event).values(**flags))


def _role_addresses(conn: sa.Connection, t: dict, role: str) -> list[tuple[str | None, bool]]:
    """(address, is a user of the app) for one matrix row."""
    if role == "owner":
        return [(t["owner_email"], t["owner_user_id"] is not None)]
    if role in ("in_charge", "assigned"):
        return [(user_email(conn, t[f"{role}_user_id"]), True)]
    if role == "company":
        return [
            (
                conn.execute(
                    sa.select(S.companies.c.email).where(S.companies.c.id == t["final_customer_id"])
                ).scalar(),
                False,
            )
        ]
    if role == "contact":
        ids = [i for i in (t["final_customer_contact_id"], t["account_contact_id"]) if i is not None]
        return (
            [
                (e, False)
                for e in conn.execute(sa.select(S.contacts.c.email).where(S.contacts.c.id.in_(ids))).scalars()
            ]
            if ids
            else []
        )
    if role == "cc":
        return [(a, False) for a in split_addresses(t["extra_notify_emails"])]
    sh = S.shares.c
    if role == "shared_users":
        q = (
            sa.select(S.users.c.email)
            .join(S.shares, sh.user_id == S.users.c.user_id)
            .where(sh.ticket_id == t["id"])
        )
    else:
        q = (
            sa.select(S.users.c.email)
            .join(S.user_areas, S.user_areas.c.user_id == S.users.c.user_id)
            .join(S.shares, sh.area == S.user_areas.c.area)
            .where(sh.ticket_id == t["id"])
        )
    return [(e, True) for e in conn.execute(q).scalars()]


def recipients(
    conn: sa.Connection, ticket_id: int, event: str, *, extra: Iterable[str] = (), present: Iterable[str] = ()
) -> list[Recipient]:
    """The addresses notified of `event` on the ticket, in matrix order."""
    t = conn.execute(sa.select(S.tickets).where(S.tickets.c.id == ticket_id)).mappings().first()
    if t is None or not t["notify"]:
        return []
    t = dict(t)
    channel = channel_of(t)
    roles = subscriptions(conn, channel, event)
    opts = options(conn, channel, event)
    found: list[tuple[str, bool, str]] = []
    for role in ROLES:
        if role in roles:
            found += [(a, user, role) for a, user in _role_addresses(conn, t, role)]
    found += [(a, False, "extra") for a in split_addresses(list(extra))]
    sender = _norm(t["owner_email"])
    if channel == "email" and sender and (opts["skip_sender"] or event == "insert"):
        # the sender of an email ticket hears of its opening only through the sender options
        found = [f for f in found if _norm(f[0]) != sender]
        if (
            not opts["skip_sender"]
            and opts["notify_sender_on_open"]
            and not listed(sender, blacklist(conn, "opening_sender"))
        ):
            found.append((sender, False, "sender"))
    blocked = blacklist(conn, "out") + (blacklist(conn, "in") if channel == "email" else [])
    absent = set(split_addresses(list(present))) if opts["only_absent"] else set()
    out: dict[str, Recipient] = {}
    for addr, is_user, role in found:
        a = _norm(addr)
        if not a or a in out or a in absent or listed(a, blocked):
            continue
        out[a] = Recipient(a, "bcc" if opts["bcc_users"] and is_user else "to", role)
    return list(out.values())


def queue(
    conn: sa.Connection,
    ticket_id: int,
    event: str,
    *,
    message_id: int | None = None,
    extra: Iterable[str] = (),
    present: Iterable[str] = (),
) -> list[Recipient]:
    """Record the notice of `event` in the outbox, one row per recipient."""
    rs = recipients(conn, ticket_id, event, extra=extra, present=present)
    if not rs:
        return []
    t = conn.execute(sa.select(S.tickets).where(S.tickets.c.id == ticket_id)).mappings().one()
    if message_id is not None:
        body = conn.execute(sa.select(S.messages.c.body).where(S.messages.c.id == message_id)).scalar_one()
    else:
        body = t["description"] or t["title"]
    # the [TICK-nnnn] marker threads email replies back to the ticket (DECISION TK-4)
    subject = f"[{t['number']}] {t['title']}"
    for r in rs:
        conn.execute(
            S.outbox.insert().values(
                ticket_id=ticket_id,
                message_id=message_id,
                channel=channel_of(dict(t)),
                event=event,
                recipient=r.address,
                header=r.header,
                subject=subject,
                body=body,
            )
        )
    return rs


def outbox(conn: sa.Connection, *, pending_only: bool = False) -> list[dict]:
    o = S.outbox.c
    q = sa.select(S.outbox).order_by(o.id)
    if pending_only:
        q = q.where(o.sent_at.is_(None))
    return [dict(r) for r in conn.execute(q).mappings()]
