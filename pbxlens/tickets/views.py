"""What the ticket screens show, as one user may see it: each function reads the operations store
in one short connection, then (when the screen shows calls) the CDR in DuckDB with the ids found
bound as parameters, and masks external numbers for users without the privacy right. The pages
render these results as they come; the masking is never left to them."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from pbxlens.store import Stores
from pbxlens.store import schema as W
from pbxlens.store.privacy import mask_number, mask_text
from pbxlens.store.users import User
from pbxlens.tickets import attachments, calls, companies, listing, ticket, trace, tracking


@dataclass
class CallerCard:
    """The head of the new-ticket mask opened from a call (B.10)."""

    shown: str | None  # the caller number as the user may see it
    match: companies.Match | None
    open_tickets: list[dict] = field(default_factory=list)

    @property
    def company_id(self) -> int | None:
        return self.match.company["id"] if self.match and self.match.company else None

    @property
    def contact_id(self) -> int | None:
        return self.match.contact["id"] if self.match and self.match.contact else None


def caller_card(conn: sa.Connection, user: User, caller: str | None) -> CallerCard:
    if not caller:
        return CallerCard(None, None)
    m = companies.lookup(conn, caller, user.tenant)
    cid = m.company["id"] if m.company else None
    return CallerCard(trace.shown(user, caller), m, trace.open_tickets(conn, user, cid))


def _text(user: User):
    return (lambda s: s) if user.privacy else mask_text


def ticket_details(stores: Stores, user: User, ticket_id: int) -> dict | None:
    """A ticket with its companies, tracking, messages, attachments, related tickets and linked
    calls (from the CDR), as `user` may see it; None when `user` may not see it."""
    txt = _text(user)
    with stores.ops_read() as c:
        if not listing.can_see(c, user, ticket_id):
            return None
        tk = ticket.get(c, ticket_id)
        tk["account"] = companies.get_company(c, tk["account_id"])["name"]
        tk["final_customer"] = companies.get_company(c, tk["final_customer_id"])["name"]
        tk["tracking"] = tracking.entries(c, ticket_id)
        tk["messages"] = ticket.messages(c, ticket_id)
        tk["attachments"] = attachments.list_for(c, ticket_id)
        tk["related_numbers"] = [ticket.get(c, r)["number"] for r in tk["related"]]
        tk["in_charge"] = c.execute(
            sa.select(W.users.c.username).where(W.users.c.id == tk["in_charge_user_id"])
        ).scalar() if tk["in_charge_user_id"] is not None else None
    with stores.cursor() as cur:  # the call rows stay in DuckDB: looked up by the linked ids
        tk["calls"] = calls.by_unique_ids(cur, tk["unique_ids"], tenant=tk["tenant"],
                                          privacy=user.privacy)
    tk["title"], tk["description"] = txt(tk["title"]), txt(tk["description"])
    tk["tags"] = [txt(x) for x in tk["tags"]]
    for r in tk["tracking"]:
        r["description"] = txt(r["description"])
    for m in tk["messages"]:
        m["body"] = txt(m["body"])
    return tk


def edited_tags(conn: sa.Connection, user: User, ticket_id: int, tags: list[str]) -> list[str]:
    """Tags typed in the edit mask, where a user without the privacy right sees an existing tag
    masked: a masked tag left as it was keeps its stored form."""
    if user.privacy:
        return tags
    stored = {mask_text(x): x for x in ticket.require(conn, ticket_id)["tags"]}
    return [stored.get(x.strip().lower(), x) for x in tags]


def company_rows(conn: sa.Connection, user: User) -> list[dict]:
    """The companies page: one row per company and per contact, numbers masked without the
    privacy right."""
    num = (lambda s: s) if user.privacy else mask_number
    out = []
    for co in companies.list_companies(conn, user.tenant):
        out.append({"company": co["name"], "contact": "", "email": co["email"] or "",
                    "phones": ", ".join(num(p) for p in companies.phones_of(conn, co["id"])),
                    "outlook": co["outlook"] or "", "exposure": str(co["exposure"] or "")})
        for k in companies.list_contacts(conn, co["id"]):
            out.append({"company": co["name"], "contact": k["name"], "email": k["email"] or "",
                        "phones": ", ".join(num(p) for p in companies.phones_of(conn, co["id"], k["id"])),
                        "outlook": "", "exposure": ""})
    return out
