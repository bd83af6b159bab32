"""Trace: inbound and outbound call records (nexus_modules.md B.11).

The mask for a call (`mask`) resolves each side's number to a company and contact
(`companies.lookup`), shows the financial panel of the customer's company (`ND` when unknown),
the company's open tickets (operations store) and the customer's recent calls from the CDR
(`calls.recent`, DuckDB, at most 50, newest first): two reads, one per store, combined here.
Saving numbers the record CHM-IN-NNNN / CHM-OUT-NNNN and applies the three ticks of each side:
add the number to the blacklist, link it to the company, link it to the contact.
An outbound record has only the called side: the caller is always the own company.
Numbers, titles and descriptions are masked for users without the privacy right here, in the
functions that feed the pages and the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from pbxlens.models import phone
from pbxlens.store import Stores
from pbxlens.store.ops import insert_ignoring
from pbxlens.store.privacy import mask_number, mask_text
from pbxlens.store.users import User
from pbxlens.tickets import TicketError, calls, companies, now, numbering, search
from pbxlens.tickets import schema as S

ACTIONS = ("blacklist", "link_company", "link_contact")
OPEN = ("nuovo", "in_lavorazione", "sospeso")


@dataclass
class Side:
    raw: str | None
    match: companies.Match
    blacklisted: bool = False
    shown: str | None = None  # the number as the user may see it


@dataclass
class Mask:
    direction: str
    caller: Side | None
    called: Side | None
    unique_id: str | None
    financial: dict = field(default_factory=dict)
    recent_calls: list[dict] = field(default_factory=list)
    open_tickets: list[dict] = field(default_factory=list)

    @property
    def customer(self) -> Side | None:
        """The external side: the caller of an inbound call, the called of an outbound one."""
        return self.caller if self.direction == "in" else self.called


def is_blacklisted(conn: sa.Connection, raw: str | None, tenant: str = "default") -> bool:
    n = phone.national(raw)
    b = S.trace_blacklist.c
    return (
        bool(n)
        and conn.execute(sa.select(b.national).where(b.tenant == tenant, b.national == n)).first() is not None
    )


def blacklist_number(
    conn: sa.Connection, raw: str, *, tenant: str = "default", user_id: int | None = None
) -> str:
    n = phone.national(raw)
    if not n:
        raise TicketError(f"not a phone number: {raw!r}")
    insert_ignoring(conn, S.trace_blacklist, {"tenant": tenant, "national": n, "raw": raw.strip(),
                                              "added_by": user_id, "added_at": now()})
    return n


def shown(user: User | None, raw: str | None) -> str | None:
    """A number as `user` may see it: whole with the privacy right, else masked."""
    return raw if user is not None and user.privacy else mask_number(raw)


def financial_panel(company: dict | None) -> dict:
    keys = companies.FINANCIAL
    if company is None:
        return dict.fromkeys(keys, "ND")
    return {k: ("ND" if company.get(k) is None else company[k]) for k in keys}


def open_tickets(conn: sa.Connection, user: User | None, company_id: int | None) -> list[dict]:
    """The open tickets of a company (as account or final customer), newest first, titles
    masked for a user without the privacy right (the panel of the trace and new-ticket masks)."""
    if company_id is None or user is None:
        return []
    t = S.tickets.c
    q = (
        sa.select(t.id, t.number, t.title, t.status, t.priority, t.created_at)
        .where(
            t.tenant == user.tenant,
            t.status.in_(OPEN),
            sa.or_(t.final_customer_id == company_id, t.account_id == company_id),
        )
        .order_by(t.created_at.desc(), t.id.desc())
    )
    rows = [dict(r) for r in conn.execute(q).mappings()]
    if not user.privacy:
        for r in rows:
            r["title"] = mask_text(r["title"])
    return rows


def mask(
    stores: Stores,
    user: User,
    *,
    direction: str = "in",
    caller: str | None = None,
    called: str | None = None,
    unique_id: str | None = None,
) -> Mask:
    """What the trace mask shows for a call, as `user` may see it: the operations store in one
    short read, then the CDR's recent calls of the customer's number in DuckDB."""
    if direction not in ("in", "out"):
        raise TicketError(f"direction is in or out, not {direction!r}")
    tenant = user.tenant
    with stores.ops_read() as conn:

        def side(raw):
            return Side(raw, companies.lookup(conn, raw, tenant), is_blacklisted(conn, raw, tenant),
                        shown(user, raw))

        m = Mask(
            direction=direction,
            caller=side(caller) if direction == "in" else None,
            called=side(called),
            unique_id=(unique_id or "").strip() or None,
        )
        cust = m.customer
        m.financial = financial_panel(cust.match.company)
        m.open_tickets = open_tickets(conn, user, (cust.match.company or {}).get("id"))
    with stores.cursor() as cur:
        m.recent_calls = calls.recent(cur, cust.raw, tenant=tenant, privacy=user.privacy)
    return m


def _apply(
    conn: sa.Connection,
    raw: str | None,
    company_id: int | None,
    contact_id: int | None,
    actions: set[str],
    tenant: str,
    user: User | None,
) -> None:
    bad = actions - set(ACTIONS)
    if bad:
        raise TicketError(f"unknown action(s) {sorted(bad)}")
    if not actions:
        return
    if not phone.national(raw):
        raise TicketError("no number to act on")
    if "blacklist" in actions:
        blacklist_number(conn, raw, tenant=tenant, user_id=user.id if user else None)
    if "link_company" in actions:
        if company_id is None:
            raise TicketError("choose the company to link the number to")
        companies.add_phone(conn, company_id, raw)
    if "link_contact" in actions:
        k = companies.get_contact(conn, contact_id)
        if k is None:
            raise TicketError("choose the contact to link the number to")
        companies.add_phone(conn, k["company_id"], raw, contact_id=k["id"])


def create(
    conn: sa.Connection,
    *,
    direction: str,
    type: str,
    priority: str,
    user: User | None = None,
    tenant: str | None = None,
    caller: str | None = None,
    called: str | None = None,
    unique_id: str | None = None,
    caller_company_id: int | None = None,
    caller_contact_id: int | None = None,
    called_company_id: int | None = None,
    called_contact_id: int | None = None,
    note: str | None = None,
    description: str | None = None,
    start_at: datetime | None = None,
    end_at: datetime | None = None,
    ticket_id: int | None = None,
    caller_actions: set[str] = frozenset(),
    called_actions: set[str] = frozenset(),
) -> tuple[int, str]:
    """Save a trace record; returns (id, number)."""
    tenant = tenant or (user.tenant if user else "default")
    if direction not in ("in", "out"):
        raise TicketError(f"direction is in or out, not {direction!r}")
    if direction == "out":  # the caller is the own company (B.11 "Outbound mask")
        caller_company_id = caller_contact_id = None
        caller_actions = frozenset()
    if not conn.execute(sa.select(S.types.c.code).where(S.types.c.code == type)).first():
        raise TicketError(f"unknown type {type!r}")
    if not conn.execute(sa.select(S.priorities.c.code).where(S.priorities.c.code == priority)).first():
        raise TicketError(f"unknown priority {priority!r}")
    start_at = start_at or now()
    if end_at is not None and end_at < start_at:
        raise TicketError("the end comes before the start")
    for cid, kid, what in (
        (caller_company_id, caller_contact_id, "caller"),
        (called_company_id, called_contact_id, "called"),
    ):
        comp = companies.get_company(conn, cid)
        if cid is not None and (comp is None or comp["tenant"] != tenant):
            raise TicketError(f"{what} company: no such company")
        k = companies.get_contact(conn, kid)
        if kid is not None and (k is None or (cid is not None and k["company_id"] != cid)):
            raise TicketError(f"{what} contact: not a contact of that company")
    _apply(conn, caller, caller_company_id, caller_contact_id, set(caller_actions), tenant, user)
    _apply(conn, called, called_company_id, called_contact_id, set(called_actions), tenant, user)
    number = numbering.take(conn, "CHM-IN" if direction == "in" else "CHM-OUT")
    rid = conn.execute(
        S.trace_records.insert()
        .values(
            tenant=tenant,
            number=number,
            direction=direction,
            unique_id=(unique_id or "").strip() or None,
            caller=caller,
            called=called,
            caller_national=phone.national(caller),
            called_national=phone.national(called, outbound=direction == "out"),
            caller_company_id=caller_company_id,
            caller_contact_id=caller_contact_id,
            called_company_id=called_company_id,
            called_contact_id=called_contact_id,
            note=note,
            description=description,
            type=type,
            priority=priority,
            start_at=start_at,
            end_at=end_at,
            ticket_id=ticket_id,
            owner_user_id=user.id if user else None,
            created_at=now(),
        )
        .returning(S.trace_records.c.id)
    ).scalar_one()
    return rid, number


def records(
    conn: sa.Connection,
    user: User,
    *,
    direction: str | None = None,
    text: str | None = None,
    limit: int = 500,
) -> list[dict]:
    """The list of the Trace page: newest first, company names resolved; numbers, description
    and note masked for a user without the privacy right, who also searches only by what they
    see (`search`)."""
    r = S.trace_records.c
    a, b = S.companies.alias("a"), S.companies.alias("b")
    q = (
        sa.select(
            r.id,
            r.number,
            r.direction,
            a.c.name.label("caller_company"),
            b.c.name.label("called_company"),
            r.description,
            r.caller,
            r.called,
            r.type,
            r.priority,
            r.start_at,
            r.end_at,
            r.unique_id,
            r.note,
            r.owner_user_id,
        )
        .select_from(
            S.trace_records.outerjoin(a, a.c.id == r.caller_company_id).outerjoin(
                b, b.c.id == r.called_company_id
            )
        )
        .where(r.tenant == user.tenant)
        .order_by(r.start_at.desc(), r.id.desc())
    )
    if direction:
        q = q.where(r.direction == direction)
    text = search.clean(text)
    masked_match = bool(text) and search.needs_masked_match(text, user.privacy)
    if text and not masked_match:
        conds = [search.like_any(text, (r.number, r.description, r.note))]
        n = phone.national(text)
        if n and len(n) >= 3:
            conds += [r.caller_national == n, r.called_national == n]
        q = q.where(sa.or_(*conds))
    elif masked_match:
        cols = (r.number, r.description, r.note, r.caller, r.called, r.caller_national,
                r.called_national)
        q = q.where(search.like_any(text, cols, wildcard_digits=True))
    q = q.limit(search.MAX_MATCHES if masked_match else limit)  # a masked match: the newest
    rows = [dict(x) for x in conn.execute(q).mappings()]
    if masked_match:  # the visible text decides, then the limit
        rows = [x for x in rows if search.visible_contains(
            text, [x["number"], x["description"], x["note"]],
            [x["caller"], x["called"], phone.national(x["caller"]), phone.national(x["called"])])]
        rows = rows[:limit]
    if not user.privacy:
        for x in rows:
            x["caller"], x["called"] = mask_number(x["caller"]), mask_number(x["called"])
            x["description"], x["note"] = mask_text(x["description"]), mask_text(x["note"])
    return rows
