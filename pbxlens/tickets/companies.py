"""Companies, contacts and their phone numbers; lookup of a caller number (nexus_modules.md
B.11 "Linking rules"): the number is normalized (`pbxlens.models.phone.national`) and matched
exactly; a contact's number wins and implies its company; several matches -> the most recently
updated first, the others offered as candidates."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from pbxlens.models import phone
from pbxlens.tickets import TicketError, now
from pbxlens.tickets import schema as S

FINANCIAL = ("score", "outlook", "bad_debts", "exposure", "credit_line")


@dataclass
class Match:
    """What a number resolves to. `company` / `contact` are row dicts or None."""

    number: str | None  # the national form looked up
    company: dict | None = None
    contact: dict | None = None
    candidates: list[dict] = field(default_factory=list)  # other (company, contact) matches

    @property
    def found(self) -> bool:
        return self.company is not None


@contextmanager
def _exists_as_error(message: str) -> Iterator[None]:
    """A unique key violated by a concurrent insert (the check above ran before it committed)
    becomes the same refusal as the check's; the caller's transaction rolls back."""
    try:
        yield
    except sa.exc.IntegrityError:
        raise TicketError(message) from None


def _clean(s: str | None) -> str | None:
    s = (s or "").strip()
    return s or None


def create_company(
    conn: sa.Connection,
    name: str,
    *,
    tenant: str = "default",
    code: str | None = None,
    vat: str | None = None,
    email: str | None = None,
    phones: tuple[str, ...] = (),
    **financial: str | Decimal | None,
) -> int:
    name = (name or "").strip()
    if not name:
        raise TicketError("a company needs a name")
    bad = set(financial) - set(FINANCIAL)
    if bad:
        raise TicketError(f"unknown company fields {sorted(bad)}")
    if company_by_name(conn, name, tenant) is not None:
        raise TicketError(f"company {name!r} exists")
    with _exists_as_error(f"company {name!r} exists"):  # created meanwhile by another user
        cid = conn.execute(
            S.companies.insert()
            .values(
                tenant=tenant,
                name=name,
                code=_clean(code),
                vat=_clean(vat),
                email=_clean(email),
                updated_at=now(),
                **financial,
            )
            .returning(S.companies.c.id)
        ).scalar_one()
    for p in phones:
        add_phone(conn, cid, p)
    return cid


def update_company(conn: sa.Connection, company_id: int, **values) -> None:
    allowed = {"name", "code", "vat", "email", *FINANCIAL}
    bad = set(values) - allowed
    if bad:
        raise TicketError(f"cannot change {sorted(bad)}")
    conn.execute(
        S.companies.update().where(S.companies.c.id == company_id).values(updated_at=now(), **values)
    )


def add_contact(
    conn: sa.Connection, company_id: int, name: str, *, email: str | None = None, phones: tuple[str, ...] = ()
) -> int:
    name = (name or "").strip()
    if not name:
        raise TicketError("a contact needs a name")
    if get_company(conn, company_id) is None:
        raise TicketError(f"no company {company_id}")
    c = S.contacts.c
    if conn.execute(sa.select(c.id).where(c.company_id == company_id, c.name == name)).first():
        raise TicketError(f"contact {name!r} exists in that company")
    with _exists_as_error(f"contact {name!r} exists in that company"):
        kid = conn.execute(
            S.contacts.insert()
            .values(company_id=company_id, name=name, email=_clean(email), updated_at=now())
            .returning(c.id)
        ).scalar_one()
    for p in phones:
        add_phone(conn, company_id, p, contact_id=kid)
    return kid


def valid_phone(raw: str | None) -> str | None:
    """The national form of `raw` when it can be stored as a phone number (digits, at least 3,
    no letters), else None."""
    if raw is None or re.search(r"[A-Za-z]", raw):
        return None
    n = phone.national(raw)
    return n if n and len(n.lstrip("+")) >= 3 else None


def add_phone(conn: sa.Connection, company_id: int, raw: str, *, contact_id: int | None = None) -> str:
    """Store `raw` on the company (or its contact); returns the national form. Adding a number
    the owner already has is a no-op."""
    n = valid_phone(raw)
    if n is None:
        raise TicketError(f"not a phone number: {raw!r}")
    comp = get_company(conn, company_id)
    if comp is None:
        raise TicketError(f"no company {company_id}")
    p = S.phones.c
    owner = p.contact_id == contact_id if contact_id is not None else p.contact_id.is_(None)
    if not conn.execute(sa.select(p.id).where(p.company_id == company_id, owner, p.national == n)).first():
        conn.execute(
            S.phones.insert().values(
                tenant=comp["tenant"],
                company_id=company_id,
                contact_id=contact_id,
                raw=raw.strip(),
                national=n,
                e164=phone.e164(raw),
                added_at=now(),
            )
        )
    # "most recently updated" decides between homonyms: a number just linked is the freshest
    if contact_id is not None:
        conn.execute(S.contacts.update().where(S.contacts.c.id == contact_id).values(updated_at=now()))
    conn.execute(S.companies.update().where(S.companies.c.id == company_id).values(updated_at=now()))
    return n


def get_company(conn: sa.Connection, company_id: int | None) -> dict | None:
    if company_id is None:
        return None
    r = conn.execute(sa.select(S.companies).where(S.companies.c.id == company_id)).mappings().first()
    return dict(r) if r else None


def company_by_name(conn: sa.Connection, name: str, tenant: str = "default") -> dict | None:
    c = S.companies.c
    r = (
        conn.execute(
            sa.select(S.companies).where(
                c.tenant == tenant, sa.func.lower(c.name) == (name or "").strip().lower()
            )
        )
        .mappings()
        .first()
    )
    return dict(r) if r else None


def get_contact(conn: sa.Connection, contact_id: int | None) -> dict | None:
    if contact_id is None:
        return None
    r = conn.execute(sa.select(S.contacts).where(S.contacts.c.id == contact_id)).mappings().first()
    return dict(r) if r else None


def contact_by_name(conn: sa.Connection, company_id: int, name: str) -> dict | None:
    c = S.contacts.c
    r = (
        conn.execute(
            sa.select(S.contacts).where(
                c.company_id == company_id, sa.func.lower(c.name) == (name or "").strip().lower()
            )
        )
        .mappings()
        .first()
    )
    return dict(r) if r else None


def list_companies(conn: sa.Connection, tenant: str = "default") -> list[dict]:
    c = S.companies.c
    return [
        dict(r)
        for r in conn.execute(
            sa.select(S.companies).where(c.tenant == tenant).order_by(sa.func.lower(c.name))
        ).mappings()
    ]


def list_contacts(conn: sa.Connection, company_id: int) -> list[dict]:
    c = S.contacts.c
    return [
        dict(r)
        for r in conn.execute(
            sa.select(S.contacts).where(c.company_id == company_id).order_by(sa.func.lower(c.name))
        ).mappings()
    ]


def phones_of(conn: sa.Connection, company_id: int, contact_id: int | None = None) -> list[str]:
    p = S.phones.c
    q = sa.select(p.raw).where(p.company_id == company_id)
    q = q.where(p.contact_id == contact_id) if contact_id is not None else q.where(p.contact_id.is_(None))
    return [r[0] for r in conn.execute(q.order_by(p.id))]


def lookup(conn: sa.Connection, raw: str | None, tenant: str = "default") -> Match:
    """Resolve a caller/called number to a company and contact."""
    n = phone.national(raw)
    if not n:
        return Match(number=None)
    p, co, ct = S.phones.c, S.companies.c, S.contacts.c
    rows = conn.execute(
        sa.select(p.company_id, p.contact_id)
        .select_from(
            S.phones.join(S.companies, co.id == p.company_id).outerjoin(S.contacts, ct.id == p.contact_id)
        )
        .where(p.tenant == tenant, p.national == n)
        # a contact's number wins; then the most recently updated
        .order_by(p.contact_id.is_(None), sa.func.coalesce(ct.updated_at, co.updated_at).desc(), p.id.desc())
    ).all()
    if not rows:
        return Match(number=n)
    seen, matches = set(), []
    for company_id, contact_id in rows:
        if (company_id, contact_id) not in seen:
            seen.add((company_id, contact_id))
            matches.append(
                {"company": get_company(conn, company_id), "contact": get_contact(conn, contact_id)}
            )
    first = matches[0]
    return Match(number=n, company=first["company"], contact=first["contact"], candidates=matches[1:])


# ---------------------------------------------------------------- types by company (B.4)


def allowed_types(conn: sa.Connection, company_id: int | None) -> list[str]:
    """`types_by_company[company] or default_types`, in the configured order."""
    t = S.types.c
    if company_id is not None:
        own = (
            conn.execute(
                sa.select(t.code)
                .select_from(S.types.join(S.types_by_company, S.types_by_company.c.type == t.code))
                .where(S.types_by_company.c.company_id == company_id)
                .order_by(t.position, t.code)
            )
            .scalars()
            .all()
        )
        if own:
            return list(own)
    return list(conn.execute(sa.select(t.code).where(t.is_default).order_by(t.position, t.code)).scalars())


def set_company_types(conn: sa.Connection, company_id: int, types: list[str]) -> None:
    known = set(conn.execute(sa.select(S.types.c.code)).scalars())
    bad = sorted(set(types) - known)
    if bad:
        raise TicketError(f"unknown type(s): {', '.join(bad)}")
    conn.execute(S.types_by_company.delete().where(S.types_by_company.c.company_id == company_id))
    for ty in dict.fromkeys(types):
        conn.execute(S.types_by_company.insert().values(company_id=company_id, type=ty))


def set_default_types(conn: sa.Connection, types: list[str]) -> None:
    t = S.types.c
    conn.execute(S.types.update().values(is_default=t.code.in_(list(types))))
