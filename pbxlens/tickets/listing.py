"""The ticket list (nexus_modules.md B.3): who sees which tickets, the search filters, the quick
filters with their counts, and the rows of the grid and its exports (number descending).

Visibility: admins and supervisors see every ticket of their tenant; an operator sees the
tickets without an area, those of their areas (a type's area is exclusive, B.5), those shared
with them or their areas, and those they own, have in charge or are assigned; finance none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from pbxlens.config import get_settings
from pbxlens.store import schema as W
from pbxlens.store.privacy import mask_text
from pbxlens.store.users import User
from pbxlens.tickets import schema as S
from pbxlens.tickets import search
from pbxlens.tickets.ticket import status_of

FACETS = ("priority", "status", "type", "area", "tags", "estimate", "tracking")
COLUMNS = (
    "number",
    "title",
    "account",
    "final_customer",
    "status",
    "in_charge",
    "assigned",
    "priority",
    "type",
    "area",
    "tags",
    "created_at",
    "last_reply_at",
    "estimate_hours",
    "tracking_s",
)


@dataclass
class Filters:
    status: list[str] = field(default_factory=list)
    priority: list[str] = field(default_factory=list)
    type: list[str] = field(default_factory=list)
    area: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    text: str | None = None  # number, title or description
    account_id: int | None = None
    final_customer_id: int | None = None
    in_charge_user_id: int | None = None
    assigned_user_id: int | None = None
    creation_mode: str | None = None
    created_from: date | None = None
    created_to: date | None = None
    last_reply_from: date | None = None
    last_reply_to: date | None = None
    external: bool | None = None
    unread_only: bool = False
    estimate: list[str] = field(default_factory=list)  # quick filter: "with" / "without"
    tracking: list[str] = field(default_factory=list)  # quick filter: "with" / "without"


def can_use(user: User | None) -> bool:
    from pbxlens.store.roles import can_use_tickets

    return can_use_tickets(user)


def can_see(conn: sa.Connection, user: User | None, ticket_id: int) -> bool:
    t = S.tickets.c
    return conn.execute(sa.select(t.id).where(t.id == ticket_id, visible(user))).first() is not None


def visible(user: User | None):
    """The WHERE clause of the tickets `user` may see."""
    t = S.tickets.c
    if not can_use(user):
        return sa.false()
    own = t.tenant == user.tenant
    if user.role in ("admin", "supervisor"):
        return own
    areas = sa.select(S.user_areas.c.area).where(S.user_areas.c.user_id == user.id)
    shared = sa.select(S.shares.c.ticket_id).where(
        sa.or_(S.shares.c.user_id == user.id, S.shares.c.area.in_(areas))
    )
    return sa.and_(
        own,
        sa.or_(
            t.area.is_(None),
            t.area.in_(areas),
            t.id.in_(shared),
            t.owner_user_id == user.id,
            t.in_charge_user_id == user.id,
            t.assigned_user_id == user.id,
        ),
    )


def _instant(d: date, end: bool = False) -> datetime:
    tz = ZoneInfo(get_settings().timezone)
    return datetime.combine(d + timedelta(days=1) if end else d, time(), tzinfo=tz)


def _tracking_sum():
    k = S.tracking.c
    return (
        sa.select(sa.func.coalesce(sa.func.sum(k.duration_s), 0))
        .where(k.ticket_id == S.tickets.c.id)
        .scalar_subquery()
    )


def conditions(f: Filters, user: User | None, skip: str | None = None,
               text_ids: list[int] | None = None) -> list:
    """The WHERE clauses of `f` for `user` (without the facet `skip`); `text_ids`: the tickets
    whose visible text matches `f.text` (`text_matches`), when SQL alone cannot tell."""
    t = S.tickets.c
    out = [visible(user)]
    if f.status and skip != "status":
        out.append(t.status.in_([status_of(s) for s in f.status]))
    for name in ("priority", "type", "area"):
        vals = getattr(f, name)
        if vals and skip != name:
            out.append(getattr(t, name).in_(vals))
    if f.tags and skip != "tags":
        out.append(
            t.id.in_(sa.select(S.tags.c.ticket_id).where(S.tags.c.tag.in_([x.lower() for x in f.tags])))
        )
    if f.estimate and skip != "estimate" and len(set(f.estimate)) == 1:
        out.append(t.estimate_hours.is_not(None) if f.estimate[0] == "with" else t.estimate_hours.is_(None))
    if f.tracking and skip != "tracking" and len(set(f.tracking)) == 1:
        out.append(_tracking_sum() > 0 if f.tracking[0] == "with" else _tracking_sum() == 0)
    text = search.clean(f.text)
    if text_ids is not None:
        out.append(t.id.in_(text_ids))
    elif text:
        out.append(search.like_any(text, (t.number, t.title, t.description)))
    for key in (
        "account_id",
        "final_customer_id",
        "in_charge_user_id",
        "assigned_user_id",
        "creation_mode",
        "external",
    ):
        v = getattr(f, key)
        if v is not None:
            out.append(getattr(t, key) == v)
    if f.created_from:
        out.append(t.created_at >= _instant(f.created_from))
    if f.created_to:
        out.append(t.created_at < _instant(f.created_to, end=True))
    if f.last_reply_from:
        out.append(t.last_reply_at >= _instant(f.last_reply_from))
    if f.last_reply_to:
        out.append(t.last_reply_at < _instant(f.last_reply_to, end=True))
    if f.unread_only and user is not None:
        out.append(t.id.in_(sa.select(S.unread.c.ticket_id).where(S.unread.c.user_id == user.id)))
    return out


def text_matches(conn: sa.Connection, user: User | None, f: Filters) -> list[int] | None:
    """The tickets `user` sees whose text, as `user` sees it, contains `f.text`; None when the
    stored text answers the same (a user with the privacy right, or a text without digits)."""
    text = search.clean(f.text)
    if not text or user is None or not search.needs_masked_match(text, user.privacy):
        return None
    t = S.tickets.c
    q = (sa.select(t.id, t.number, t.title, t.description)
         .where(visible(user),
                search.like_any(text, (t.number, t.title, t.description), wildcard_digits=True))
         .order_by(t.id.desc())
         .limit(search.MAX_MATCHES))  # the newest: their ids are bound in the next query
    return [i for i, *texts in conn.execute(q) if search.visible_contains(text, texts)]


def shown(rows: list[dict], user: User | None) -> list[dict]:
    """Titles and tags as `user` may see them (numbers in them masked without the privacy
    right), in place."""
    if user is None or not user.privacy:
        for r in rows:
            r["title"], r["tags"] = mask_text(r["title"]), mask_text(r.get("tags"))
    return rows


def rows(
    conn: sa.Connection, user: User | None, f: Filters | None = None, *, limit: int = 5000
) -> list[dict]:
    """The grid's rows, number descending (sequence order, so TICK-10000 follows TICK-9999),
    with titles and tags masked for a user without the privacy right."""
    f = f or Filters()
    t = S.tickets.c
    acc, fin = S.companies.alias("acc"), S.companies.alias("fin")
    inc, asg = W.users.alias("inc"), W.users.alias("asg")
    unread = (
        sa.select(sa.func.count())
        .where(S.unread.c.ticket_id == t.id, S.unread.c.user_id == (user.id if user else -1))
        .scalar_subquery()
    )
    q = (
        sa.select(
            t.id,
            t.number,
            t.title,
            acc.c.name.label("account"),
            fin.c.name.label("final_customer"),
            t.status,
            inc.c.username.label("in_charge"),
            asg.c.username.label("assigned"),
            t.priority,
            S.priorities.c.color.label("priority_color"),
            t.type,
            t.area,
            t.created_at,
            t.last_reply_at,
            t.estimate_hours,
            _tracking_sum().label("tracking_s"),
            (unread > 0).label("unread"),
            t.external,
        )
        .select_from(
            S.tickets.join(acc, acc.c.id == t.account_id)
            .join(fin, fin.c.id == t.final_customer_id)
            .outerjoin(inc, inc.c.id == t.in_charge_user_id)
            .outerjoin(asg, asg.c.id == t.assigned_user_id)
            .outerjoin(S.priorities, S.priorities.c.code == t.priority)
        )
        .where(*conditions(f, user, text_ids=text_matches(conn, user, f)))
        .order_by(sa.func.length(t.number).desc(), t.number.desc())
        .limit(limit)
    )
    out = [dict(r) for r in conn.execute(q).mappings()]
    tags: dict[int, list[str]] = {}
    ids = [r["id"] for r in out]
    for i in range(0, len(ids), 1000):
        for tid, tag in conn.execute(
            sa.select(S.tags.c.ticket_id, S.tags.c.tag)
            .where(S.tags.c.ticket_id.in_(ids[i : i + 1000]))
            .order_by(S.tags.c.tag)
        ):
            tags.setdefault(tid, []).append(tag)
    for r in out:
        r["tags"] = ", ".join(tags.get(r["id"], []))
    return shown(out, user)


def quick_counts(
    conn: sa.Connection, user: User | None, f: Filters | None = None
) -> dict[str, list[tuple[str, int]]]:
    """For each quick filter, (value, tickets) under every other active filter (B.3 left panel)."""
    f = f or Filters()
    t = S.tickets.c
    ids = text_matches(conn, user, f)
    out: dict[str, list[tuple[str, int]]] = {}
    for facet in FACETS:
        where = conditions(f, user, skip=facet, text_ids=ids)
        if facet == "tags":
            q = (
                sa.select(S.tags.c.tag, sa.func.count())
                .join(S.tickets, t.id == S.tags.c.ticket_id)
                .where(*where)
                .group_by(S.tags.c.tag)
                .order_by(S.tags.c.tag)
            )
        elif facet in ("estimate", "tracking"):
            has = t.estimate_hours.is_not(None) if facet == "estimate" else _tracking_sum() > 0
            key = sa.case((has, "with"), else_="without")
            q = sa.select(key, sa.func.count()).where(*where).group_by(key).order_by(key)
        else:
            col = getattr(t, facet)
            q = sa.select(col, sa.func.count()).where(*where, col.is_not(None)).group_by(col).order_by(col)
        out[facet] = [(str(v), int(n)) for v, n in conn.execute(q)]
    if user is not None and not user.privacy:  # a tag holding an external number stays hidden
        out["tags"] = [(v, n) for v, n in out["tags"] if mask_text(v) == v]
    return out
