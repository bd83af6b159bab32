"""The ticket life cycle (nexus_modules.md B.2, B.7): creation with its number, area from the
type, SLA start; status changes; take in charge; assignment; messages (internal notes and
public replies) with the bell flag and the notification outbox.

Statuses (DECISION TK-1): nuovo, in_lavorazione, sospeso, chiuso, annullato. Creation -> nuovo;
the first tracking -> in_lavorazione (`tracking.add`); any status may go to any other, except
that a closed or cancelled ticket only reopens to in_lavorazione. "Taken in charge" is the
`in_charge_user_id` field, not a status.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa

from pbxlens.store.ops import insert_ignoring
from pbxlens.store.users import User
from pbxlens.tickets import TicketError, companies, notify, now, numbering
from pbxlens.tickets import schema as S

STATUSES = ("nuovo", "in_lavorazione", "sospeso", "chiuso", "annullato")
FINAL = ("chiuso", "annullato")
# every spelling the seed and the UI use (L6415, L6436-6439, L6460, L6651, L6730)
_ALIASES = {
    "nuovo": "nuovo",
    "new": "nuovo",
    "in_lavorazione": "in_lavorazione",
    "in lavorazione": "in_lavorazione",
    "in progress": "in_lavorazione",
    "in process": "in_lavorazione",
    "working": "in_lavorazione",
    "sospeso": "sospeso",
    "suspended": "sospeso",
    "chiuso": "chiuso",
    "closed": "chiuso",
    "annullato": "annullato",
    "cancelled": "annullato",
    "canceled": "annullato",
}
CREATION_MODES = ("manual", "email", "web-form", "call", "monitoring", "import")
EDITABLE = (
    "title",
    "description",
    "account_id",
    "final_customer_id",
    "account_contact_id",
    "final_customer_contact_id",
    "priority",
    "type",
    "external",
    "notify",
    "estimated_start",
    "due_date",
    "estimate_hours",
    "in_charge_user_id",
    "assigned_user_id",
    "extra_notify_emails",
)


def status_of(text: str | None) -> str:
    """
    Example:
        >>> status_of("In lavorazione"), status_of("CANCELED")
        ('in_lavorazione', 'annullato')
    """
    s = _ALIASES.get((text or "").strip().lower().replace("-", " "))
    if s is None:
        raise TicketError(f"unknown status {text!r}; choose from {', '.join(STATUSES)}",
                          key="ticket_unknown_status", value=repr(text), choices=", ".join(STATUSES))
    return s


def _check_refs(conn: sa.Connection, tenant: str, v: dict) -> None:
    """Companies of the tenant, contacts of those companies, known priority, a type the final
    customer may use (B.4)."""
    for key in ("account_id", "final_customer_id"):
        c = companies.get_company(conn, v.get(key))
        if c is None or c["tenant"] != tenant:
            raise TicketError(f"{key.removesuffix('_id').replace('_', ' ')}: no such company")
    for key, comp in (
        ("account_contact_id", "account_id"),
        ("final_customer_contact_id", "final_customer_id"),
    ):
        if v.get(key) is not None:
            k = companies.get_contact(conn, v[key])
            if k is None or k["company_id"] != v[comp]:
                raise TicketError(
                    f"{key.removesuffix('_id').replace('_', ' ')}: not a contact of that company"
                )
    if not conn.execute(sa.select(S.priorities.c.code).where(S.priorities.c.code == v["priority"])).first():
        raise TicketError(f"unknown priority {v['priority']!r}")
    if v["type"] not in companies.allowed_types(conn, v["final_customer_id"]):
        raise TicketError(f"type {v['type']!r} is not available to that final customer")
    if not (v.get("title") or "").strip():
        raise TicketError("a ticket needs a title")
    if v.get("estimate_hours") is not None and Decimal(v["estimate_hours"]) < 0:
        raise TicketError("the estimate cannot be negative")


def _area(conn: sa.Connection, type_code: str) -> str | None:
    return conn.execute(sa.select(S.types.c.area).where(S.types.c.code == type_code)).scalar()


def create(
    conn: sa.Connection,
    *,
    title: str,
    account_id: int,
    final_customer_id: int,
    type: str,
    priority: str,
    user: User | None = None,
    tenant: str | None = None,
    status: str = "nuovo",
    description: str | None = None,
    account_contact_id: int | None = None,
    final_customer_contact_id: int | None = None,
    tags: Iterable[str] = (),
    external: bool = False,
    notify_on: bool = True,
    creation_mode: str = "manual",
    created_at: datetime | None = None,
    estimated_start: datetime | None = None,
    due_date: datetime | None = None,
    estimate_hours: Decimal | float | None = None,
    in_charge_user_id: int | None = None,
    assigned_user_id: int | None = None,
    extra_notify_emails: str | None = None,
    owner_email: str | None = None,
    related: Iterable[int] = (),
    unique_ids: Iterable[str] = (),
    number: str | None = None,
    shares: Iterable[tuple[int | None, str | None]] = (),
) -> int:
    """Insert a ticket (number taken in this transaction) and queue its creation notice."""
    tenant = tenant or (user.tenant if user else "default")
    status = status_of(status)
    if creation_mode not in CREATION_MODES:
        raise TicketError(f"unknown creation mode {creation_mode!r}")
    v = {
        "title": (title or "").strip(),
        "account_id": account_id,
        "final_customer_id": final_customer_id,
        "type": type,
        "priority": priority,
        "account_contact_id": account_contact_id,
        "final_customer_contact_id": final_customer_contact_id,
        "estimate_hours": estimate_hours,
    }
    _check_refs(conn, tenant, v)
    number = _ticket_number(conn, number)
    at = created_at or now()
    if owner_email is None and user is not None:
        owner_email = notify.user_email(conn, user.id)
    tid = conn.execute(
        S.tickets.insert()
        .values(
            tenant=tenant,
            number=number,
            description=description,
            status=status,
            area=_area(conn, type),
            external=bool(external),
            notify=bool(notify_on),
            creation_mode=creation_mode,
            created_at=at,
            updated_at=at,
            sla_start=at,  # DECISION TK-3
            estimated_start=estimated_start,
            due_date=due_date,
            owner_user_id=user.id if user else None,
            owner_email=owner_email,
            in_charge_user_id=in_charge_user_id,
            assigned_user_id=assigned_user_id,
            extra_notify_emails=extra_notify_emails or None,
            **v,
        )
        .returning(S.tickets.c.id)
    ).scalar_one()
    _attach(conn, tid, tags=tags, related=related, unique_ids=unique_ids, shares=shares)
    notify.queue(conn, tid, "insert")
    return tid


def _ticket_number(conn: sa.Connection, number: str | None) -> str:
    """The number given (an imported ticket keeps its own; the counter moves past it), else
    the next one, taken in this transaction."""
    if not number:
        return numbering.take(conn, "TICK")
    counter, value = numbering.parse(number)
    if counter != "TICK":
        raise TicketError(f"not a ticket number: {number!r}")
    numbering.bump_to(conn, "TICK", value)
    return numbering.format_number("TICK", value)


def _attach(conn: sa.Connection, tid: int, *, tags: Iterable[str], related: Iterable[int],
            unique_ids: Iterable[str], shares: Iterable[tuple[int | None, str | None]]) -> None:
    """A new ticket's tags, related tickets, linked calls and shares."""
    set_tags(conn, tid, tags)
    for r in related:
        link_ticket(conn, tid, r)
    for u in unique_ids:
        link_call(conn, tid, u)
    for user_id, area in shares:
        conn.execute(S.shares.insert().values(ticket_id=tid, user_id=user_id, area=area))


def get(conn: sa.Connection, ticket_id: int) -> dict | None:
    r = conn.execute(sa.select(S.tickets).where(S.tickets.c.id == ticket_id)).mappings().first()
    if r is None:
        return None
    d = dict(r)
    d["tags"] = list(
        conn.execute(
            sa.select(S.tags.c.tag).where(S.tags.c.ticket_id == ticket_id).order_by(S.tags.c.tag)
        ).scalars()
    )
    d["unique_ids"] = list(
        conn.execute(
            sa.select(S.calls.c.unique_id)
            .where(S.calls.c.ticket_id == ticket_id)
            .order_by(S.calls.c.unique_id)
        ).scalars()
    )
    d["related"] = list(
        conn.execute(sa.select(S.links.c.related_id).where(S.links.c.ticket_id == ticket_id)).scalars()
    )
    d["tracking_s"] = conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(S.tracking.c.duration_s), 0)).where(
            S.tracking.c.ticket_id == ticket_id
        )
    ).scalar_one()
    return d


def by_number(conn: sa.Connection, number: str) -> dict | None:
    tid = conn.execute(sa.select(S.tickets.c.id).where(S.tickets.c.number == number.strip().upper())).scalar()
    return get(conn, tid) if tid is not None else None


def require(conn: sa.Connection, ticket_id: int) -> dict:
    t = get(conn, ticket_id)
    if t is None:
        raise TicketError(f"no ticket {ticket_id}")
    return t


def update(conn: sa.Connection, ticket_id: int, **values) -> None:
    """Edit the fields of the mask; the status goes through `set_status`."""
    bad = set(values) - set(EDITABLE) - {"status", "tags"}
    if bad:
        raise TicketError(f"cannot change {sorted(bad)}")
    t = require(conn, ticket_id)
    status = values.pop("status", None)
    tags = values.pop("tags", None)
    if values:
        v = {**t, **values}
        if "notify" in values:
            values["notify"] = bool(values["notify"])
        _check_refs(conn, t["tenant"], v)
        if "type" in values:
            values["area"] = _area(conn, values["type"])
        conn.execute(S.tickets.update().where(S.tickets.c.id == ticket_id).values(updated_at=now(), **values))
    if tags is not None:
        set_tags(conn, ticket_id, tags)
    if status is not None:
        set_status(conn, ticket_id, status)


def set_status(conn: sa.Connection, ticket_id: int, status: str) -> str:
    t = require(conn, ticket_id)
    new = status_of(status)
    if t["status"] in FINAL and new not in (t["status"], "in_lavorazione"):
        raise TicketError(f"{t['number']} is {t['status']}: it can only be reopened (in_lavorazione)")
    if new != t["status"]:
        conn.execute(
            S.tickets.update().where(S.tickets.c.id == ticket_id).values(status=new, updated_at=now())
        )
    return new


def take_charge(conn: sa.Connection, ticket_id: int, user: User) -> None:
    """The orange button: in charge = user; the status does not change (B.7)."""
    require(conn, ticket_id)
    conn.execute(
        S.tickets.update()
        .where(S.tickets.c.id == ticket_id)
        .values(in_charge_user_id=user.id, updated_at=now())
    )


def assign(conn: sa.Connection, ticket_id: int, user_id: int | None) -> None:
    require(conn, ticket_id)
    conn.execute(
        S.tickets.update()
        .where(S.tickets.c.id == ticket_id)
        .values(assigned_user_id=user_id, updated_at=now())
    )


def set_tags(conn: sa.Connection, ticket_id: int, tags: Iterable[str]) -> None:
    conn.execute(S.tags.delete().where(S.tags.c.ticket_id == ticket_id))
    rows = [{"ticket_id": ticket_id, "tag": tag}
            for tag in dict.fromkeys(t.strip().lower() for t in tags if t and t.strip())]
    if rows:
        conn.execute(S.tags.insert(), rows)


def link_call(conn: sa.Connection, ticket_id: int, unique_id: str) -> None:
    uid = str(unique_id or "").strip()
    if not uid:
        return
    insert_ignoring(conn, S.calls, {"ticket_id": ticket_id, "unique_id": uid})


def link_ticket(conn: sa.Connection, ticket_id: int, related_id: int) -> None:
    if related_id == ticket_id:
        raise TicketError("a ticket cannot be related to itself")
    require(conn, related_id)
    insert_ignoring(conn, S.links, [  # the relation is symmetric
        {"ticket_id": ticket_id, "related_id": related_id},
        {"ticket_id": related_id, "related_id": ticket_id}])


def add_message(
    conn: sa.Connection,
    ticket_id: int,
    user: User | None,
    body: str,
    *,
    kind: str = "public",
    extra_emails: Iterable[str] = (),
    status: str | None = None,
    author_email: str | None = None,
) -> int:
    """A reply (public: notified per the matrix) or an internal note (no email). Both flag the
    ticket unread for its other viewers (the yellow letter, B.3)."""
    if kind not in ("internal", "public"):
        raise TicketError(f"unknown message kind {kind!r}")
    if not (body or "").strip():
        raise TicketError("an empty message")
    if status is not None:  # the reply box can set in_lavorazione / chiuso / annullato (L6730)
        set_status(conn, ticket_id, status)
    t = require(conn, ticket_id)
    at = now()
    mid = conn.execute(
        S.messages.insert()
        .values(
            ticket_id=ticket_id,
            written_at=at,
            author_user_id=user.id if user else None,
            author_email=author_email or (notify.user_email(conn, user.id) if user else None),
            kind=kind,
            body=body.strip(),
            status_at=t["status"],
        )
        .returning(S.messages.c.id)
    ).scalar_one()
    conn.execute(
        S.tickets.update().where(S.tickets.c.id == ticket_id).values(last_reply_at=at, updated_at=at)
    )
    viewers = {
        t["owner_user_id"],
        t["in_charge_user_id"],
        t["assigned_user_id"],
        *conn.execute(sa.select(S.shares.c.user_id).where(S.shares.c.ticket_id == ticket_id)).scalars(),
    }
    viewers -= {None, user.id if user else None}
    if viewers:  # a concurrent reply may flag the same viewer: ON CONFLICT DO NOTHING
        insert_ignoring(conn, S.unread, [{"ticket_id": ticket_id, "user_id": v} for v in sorted(viewers)])
    if kind == "public":
        notify.queue(conn, ticket_id, "reply", message_id=mid, extra=extra_emails)
    return mid


def mark_read(conn: sa.Connection, ticket_id: int, user_id: int) -> None:
    conn.execute(S.unread.delete().where(S.unread.c.ticket_id == ticket_id, S.unread.c.user_id == user_id))


def messages(conn: sa.Connection, ticket_id: int) -> list[dict]:
    m = S.messages.c
    return [
        dict(r)
        for r in conn.execute(
            sa.select(S.messages).where(m.ticket_id == ticket_id).order_by(m.written_at, m.id)
        ).mappings()
    ]
