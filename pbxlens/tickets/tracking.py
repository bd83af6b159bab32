"""Tracking entries (nexus_modules.md B.2 "Tracking"): date, duration, type, billable flag and an
optional description (blank = the ticket's). Saving a tracking on a `nuovo` ticket moves it to
`in_lavorazione` (L6681); the list's "tracking" is the sum of the durations."""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa

from pbxlens.store.users import User
from pbxlens.tickets import TicketError, now, ticket
from pbxlens.tickets import schema as S

_HM = re.compile(r"^\s*(\d{1,4}):([0-5]\d)(?::([0-5]\d))?\s*$")


def parse_duration(text: str | int) -> int:
    """Seconds from `hh:mm` (the mask's format), `hh:mm:ss` or a number of minutes.

    Example:
        >>> parse_duration("00:30"), parse_duration("1:05:30"), parse_duration("45")
        (1800, 3930, 2700)
    """
    if isinstance(text, int):
        return text * 60
    m = _HM.match(str(text))
    if m:
        return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3) or 0)
    if str(text).strip().isdigit():
        return int(str(text).strip()) * 60
    raise TicketError(f"not a duration (hh:mm): {text!r}")


def format_hm(seconds: int | None) -> str:
    """
    Example:
        >>> format_hm(1800), format_hm(0), format_hm(360000)
        ('00:30', '00:00', '100:00')
    """
    s = int(seconds or 0)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}"


def add(
    conn: sa.Connection,
    ticket_id: int,
    *,
    duration: str | int,
    type: str,
    user: User | None = None,
    at: datetime | None = None,
    billable: bool = True,
    description: str | None = None,
) -> int:
    t = ticket.require(conn, ticket_id)
    seconds = parse_duration(duration)
    if seconds <= 0:
        raise TicketError("a tracking needs a duration above zero")
    if not conn.execute(sa.select(S.types.c.code).where(S.types.c.code == type)).first():
        raise TicketError(f"unknown type {type!r}")
    if t["status"] in ticket.FINAL:
        raise TicketError(f"{t['number']} is {t['status']}: reopen it before tracking time")
    tid = conn.execute(
        S.tracking.insert()
        .values(
            ticket_id=ticket_id,
            tracked_at=at or now(),
            duration_s=seconds,
            type=type,
            billable=bool(billable),
            description=(description or "").strip() or None,
            user_id=user.id if user else None,
        )
        .returning(S.tracking.c.id)
    ).scalar_one()
    if t["status"] == "nuovo":
        ticket.set_status(conn, ticket_id, "in_lavorazione")
    return tid


def entries(conn: sa.Connection, ticket_id: int) -> list[dict]:
    k = S.tracking.c
    t = ticket.require(conn, ticket_id)
    rows = [
        dict(r)
        for r in conn.execute(
            sa.select(S.tracking).where(k.ticket_id == ticket_id).order_by(k.tracked_at, k.id)
        ).mappings()
    ]
    for r in rows:
        r["description"] = r["description"] or t["description"]
    return rows
