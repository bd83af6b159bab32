"""The operators' and supervisors' lists of callback requests (nexus_modules.md A.4-A.6), read
from the operations store: server-side filters, sorting and paging, newest first by default.

Privacy is applied here, for every consumer (pages, API, CLI): a user without the privacy right
receives numbers masked (`pbxlens.store.privacy.mask_number`), searches callers only within the
part of the number they can see, and cannot sort by the hidden digits. Requests are named by
their random `token`, never by their key (which holds the number).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from pbxlens.missed_calls import settings as ms
from pbxlens.missed_calls import tables as T
from pbxlens.missed_calls.actor import Actor
from pbxlens.missed_calls.errors import Forbidden, MissedError, NotFound
from pbxlens.missed_calls.numbers import national
from pbxlens.store import analytics, privacy
from pbxlens.store.schema import Instant
from pbxlens.store.sql import literal

if TYPE_CHECKING:
    from pbxlens.store import Stores

VIEWS = ("to_call", "booked", "open", "assign", "flush", "all")
MANAGER_VIEWS = frozenset({"open", "assign", "flush", "all"})  # assign/flush: names of A.5/A.6
SORTS = ("first_call", "last_call", "num_calls", "num_recalled", "last_recalled", "booked_at",
         "call_num", "queue")
FILTERS = ("type", "queue", "source", "caller", "account_code", "first_from", "first_to",
           "last_from", "last_to", "recalled_from", "recalled_to", "num_recalled")
MAX_LIMIT = 500
MAX_OFFSET = 2**31 - 1  # a page past the end is empty; the text holds an integer
COLUMNS = ("token", "call_num", "first_call", "last_call", "num_calls", "num_recalled",
           "last_recalled", "queue", "type", "source", "account_code", "state", "closure",
           "closed_at", "booked_by", "booked_at", "assigned_by", "dialing")


@dataclass(frozen=True)
class Page:
    rows: list[dict]
    total: int
    limit: int
    offset: int


def visible_part(col: sa.ColumnElement) -> sa.ColumnElement:
    """SQL: the digits of a national number that `mask_number` leaves readable."""
    n = privacy.MIN_EXTERNAL_DIGITS
    return sa.case((sa.func.length(col) >= n, sa.func.substr(col, 1, sa.func.length(col) - 3)),
                   else_=col)


def in_progress(tenant: sa.ColumnElement, call_num: sa.ColumnElement,
                dial_since: sa.ColumnElement | datetime,
                live_since: sa.ColumnElement | datetime) -> sa.ColumnElement[bool]:
    """SQL: a callback to the number is in progress (R6b): a click-to-call dial the CDR has not
    resolved yet (`sync` forgets resolved ones) started after `dial_since`, or a live call to
    the number (`live_calls`, kept by the event intake) started after `live_since`."""
    d, lc = T.dials, T.live_calls
    return sa.or_(
        sa.exists().where(d.c.tenant == tenant, d.c.call_num == call_num,
                          d.c.started_at > dial_since),
        sa.exists().where(lc.c.tenant == tenant, lc.c.called_num == call_num,
                          lc.c.started_at > live_since))


def since(vals: dict[str, str], now: datetime) -> dict[str, datetime]:
    """The bounds of `in_progress` at `now`: `dial_timeout_s` and `live_timeout_s` back."""
    return {"dial_since": now - timedelta(seconds=int(vals["dial_timeout_s"])),
            "live_since": now - timedelta(seconds=int(vals["live_timeout_s"]))}


def _instant(value: Any, *, end: bool) -> datetime:
    """A filter bound: a date (its whole day), or a date-time; naive = PBX local time."""
    tz = ZoneInfo(analytics.timezone())
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        day = value
    else:
        text = str(value).strip()
        try:
            if len(text) <= 10:
                day = date.fromisoformat(text)
            else:
                got = datetime.fromisoformat(text)
                return got if got.tzinfo else got.replace(tzinfo=tz)
        except ValueError:
            raise MissedError(f"not a date or date-time: {text!r}") from None
    bound = datetime.combine(day, time.max if end else time.min)
    return bound.replace(tzinfo=tz)


def _filters(f: dict[str, Any]) -> tuple[tuple, dict[str, Any]]:
    """The filters' shape (what the SQL depends on) and their values (bound parameters)."""
    shape: list[tuple[str, Any]] = []
    params: dict[str, Any] = {}
    for key in ("type", "queue", "source", "account_code"):
        if key in f:
            vs = f[key] if isinstance(f[key], list | tuple) else [f[key]]
            shape.append((key, None))
            params[f"f_{key}"] = [str(v) for v in vs]
    if "caller" in f:
        query = str(f["caller"])
        # digits only (kept so whatever `national` gives): nothing to escape in the LIKE
        digits = "".join(ch for ch in (national(query) or query) if ch.isdigit())
        shape.append(("caller", bool(digits)))
        params["f_caller"] = digits
    for key, _col, end in _BOUNDS:
        if key in f:
            shape.append((key, None))
            params[f"f_{key}"] = _instant(f[key], end=end)
    if "num_recalled" in f:
        try:
            params["f_num_recalled"] = int(f["num_recalled"])
        except (TypeError, ValueError):
            raise MissedError(f"num_recalled: not a whole number: {f['num_recalled']!r}") from None
        shape.append(("num_recalled", None))
    return tuple(shape), params


_BOUNDS = (("first_from", "first_call", False), ("first_to", "first_call", True),
           ("last_from", "last_call", False), ("last_to", "last_call", True),
           ("recalled_from", "last_recalled", False), ("recalled_to", "last_recalled", True))


def _filter_sql(privacy_right: bool, shape: tuple) -> list[sa.ColumnElement[bool]]:
    """The filters of `shape` (see _filters), on bound parameters named f_<filter>."""
    r = T.requests.c
    bounds = {key: (col, end) for key, col, end in _BOUNDS}
    out: list[sa.ColumnElement[bool]] = []
    for key, flag in shape:
        if key in ("type", "queue", "source", "account_code"):
            out.append(r[key].in_(sa.bindparam(f"f_{key}", expanding=True)))
        elif key == "caller":
            # without the privacy right only the visible part is searched, so a guess at
            # hidden digits matches nothing
            col = r.call_num if privacy_right else visible_part(r.call_num)
            out.append(col.contains(sa.bindparam("f_caller", type_=sa.Text)) if flag
                       else sa.false())
        elif key in bounds:
            col, end = bounds[key]
            p = sa.bindparam(f"f_{key}", type_=Instant)
            out.append(r[col] <= p if end else r[col] >= p)
        else:  # num_recalled
            out.append(r.num_recalled == sa.bindparam("f_num_recalled", type_=sa.Integer))
    return out


def _check(actor: Actor, view: str, sort: str, filters: dict | None) -> dict[str, Any]:
    if view not in VIEWS:
        raise MissedError(f"unknown view {view!r}; known: {', '.join(VIEWS)}")
    if view in MANAGER_VIEWS and not actor.manager:
        raise Forbidden("supervisors only")
    if sort not in SORTS:
        raise MissedError(f"unknown sort {sort!r}; known: {', '.join(SORTS)}")
    f = {k: v for k, v in (filters or {}).items() if v not in (None, "", [])}
    unknown = set(f) - set(FILTERS)
    if unknown:
        raise MissedError(f"unknown filters {sorted(unknown)}; known: {', '.join(FILTERS)}")
    return f


# The bounds of `in_progress` as bound parameters (values from `since`).
_DIAL_SINCE = sa.bindparam("dial_since", type_=Instant)
_LIVE_SINCE = sa.bindparam("live_since", type_=Instant)


# PostgreSQL plans a prepared statement once (its generic plan) when that plan looks no worse
# than one made for the values at hand; otherwise it plans again at every execution, which was
# 0.7 ms of the 1.8 ms of its CPU per operator list. The state is written into the text, so
# that the generic plan knows how few requests are open (bound, it assumed half of the table;
# with 200,000 closed requests that plan scanned them all). The page's LIMIT and OFFSET are
# rendered at execution (`literal_execute`: integers, from int() and clamped by the caller):
# bound, they looked like a tenth of the table to the generic plan.
_OPEN = sa.literal_column(literal("open"), T.requests.c.state.type)


def _base():
    """The requests joined to their valid booking (one made while the request existed: a
    booking lapses with its request), and the projection; `dialing` on the bound parameters
    dial_since and live_since (`since`)."""
    r, b = T.requests, T.bookings
    j = r.outerjoin(b, sa.and_(b.c.tenant == r.c.tenant, b.c.call_num == r.c.call_num,
                               b.c.booked_at >= r.c.first_call, r.c.state == _OPEN))
    dialing = in_progress(r.c.tenant, r.c.call_num, _DIAL_SINCE, _LIVE_SINCE)
    cols = [r.c.token, r.c.call_num, r.c.first_call, r.c.last_call, r.c.num_calls,
            r.c.num_recalled, r.c.last_recalled, r.c.queue, r.c.type, r.c.source,
            r.c.account_code, r.c.state, r.c.closure, r.c.closed_at, b.c.booked_by,
            b.c.booked_at, b.c.assigned_by, dialing.label("dialing")]
    return j, cols, dialing


def _view(view: str, dialing) -> list[sa.ColumnElement[bool]]:
    r, b = T.requests.c, T.bookings.c
    if view == "all":
        return []
    where = [r.state == _OPEN, sa.not_(dialing)]
    # `held_by` is the holder of the request's valid booking, written in every transaction
    # that books, cancels or pushes the request (sync._holding): `to_call` is its range of
    # the index, and its count needs no look at the bookings (one per number ever booked)
    if view == "to_call":
        where += [r.held_by.is_(None)]
    elif view == "booked":
        me = sa.bindparam("username", type_=sa.Text)
        where += [r.held_by == me, b.booked_by == me]
    return where


def _order(privacy_right: bool, sort: str, desc: bool) -> list:
    r, b = T.requests.c, T.bookings.c
    col = b.booked_at if sort == "booked_at" else r[sort]
    if sort == "call_num" and not privacy_right:
        col = visible_part(col)  # the order of hidden digits would leak them
    key = col.desc() if desc else col.asc()
    # NULLS LAST only where a NULL can be: on a NOT NULL column it is the index's own order,
    # which PostgreSQL then reads backwards and stops at the page (with it, it sorted every
    # open request, probing the calls in progress for each: 3.5 ms a list at 2,300)
    if getattr(col, "nullable", True):
        key = key.nulls_last()
    return [key, r.token]  # the token is random: ties reveal nothing


def list_requests(stores: Stores, actor: Actor, view: str = "to_call",
                  filters: dict | None = None, sort: str = "first_call", desc: bool = True,
                  limit: int = 50, offset: int = 0, now: datetime | None = None) -> Page:
    """One page of a list: `to_call` (open, unbooked, no callback in progress: every
    operator), `booked` (open, booked by the actor, none in progress), `open` (alias `assign`,
    `flush`: every open request, none in progress: supervisors), `all` (every request, with
    state and closure: supervisors)."""
    f = _check(actor, view, sort, filters)
    limit = max(1, min(int(limit), MAX_LIMIT))
    offset = max(0, min(int(offset), MAX_OFFSET))
    n = now or datetime.now(UTC)
    shape, params = _filters(f)
    count, page = _statements(view, sort, bool(desc), actor.privacy, shape)
    with T.reading(stores.ops) as conn:
        params |= {"tenant": actor.tenant, "username": actor.username, "limit": limit,
                   "offset": offset, **since(ms.recent(conn), n)}
        rows = conn.execute(page, params).mappings().all()
        # The page carries the count (one statement, one round trip on PostgreSQL); a page
        # past the end has no row to carry it.
        total = rows[0]["total_rows"] if rows else conn.execute(count, params).scalar_one()
    tz = ZoneInfo(analytics.timezone())
    return Page([shown(actor, r, tz) for r in rows], total, limit, offset)


@functools.lru_cache(maxsize=512)
def _statements(view: str, sort: str, desc: bool, privacy_right: bool, shape: tuple,
                ) -> tuple[sa.Select, sa.Select]:
    """A list's count and page (which carries the count as `total_rows`), built once per shape
    on bound parameters: building and keying these statements was most of a list's time (an
    operator's panel asks every few seconds)."""
    j, cols, dialing = _base()
    mine = [T.requests.c.tenant == sa.bindparam("tenant", type_=sa.Text),
            *_filter_sql(privacy_right, shape)]
    where = [*mine, *_view(view, dialing)]
    count = (_to_call_count(mine, dialing) if view == "to_call"
             else sa.select(sa.func.count()).select_from(j).where(*where))
    page = (sa.select(*cols, count.correlate(None).scalar_subquery().label("total_rows"))
            .select_from(j).where(*where)
            .order_by(*_order(privacy_right, sort, desc))
            .limit(sa.bindparam("limit", type_=sa.Integer, literal_execute=True))
            .offset(sa.bindparam("offset", type_=sa.Integer, literal_execute=True)))
    return count, page


def _to_call_count(in_range: list, dialing) -> sa.Select:
    """`to_call`'s count: every open, unheld request (the index's range, read for a count
    only) but those with a callback in progress, which are found from the dials and the live
    calls of the last minutes (few numbers) through the number index, instead of probing the
    two in-progress tables for every open request (4 ms a list at 2,300 open requests on
    SQLite). The second count is subtracted from the first in SQL."""
    r, d, lc = T.requests.c, T.dials.c, T.live_calls.c
    tenant = sa.bindparam("tenant", type_=sa.Text)
    in_range = [*in_range, r.state == _OPEN, r.held_by.is_(None)]
    numbers = sa.union(
        sa.select(d.call_num.label("num")).where(d.tenant == tenant, d.started_at > _DIAL_SINCE),
        sa.select(lc.called_num).where(lc.tenant == tenant, lc.started_at > _LIVE_SINCE)
    ).subquery()
    few = numbers.join(T.requests, sa.and_(r.tenant == tenant, r.call_num == numbers.c.num))
    out = (sa.select(sa.func.count()).select_from(few)
           .where(*in_range, dialing).scalar_subquery())
    return sa.select(sa.func.count() - out).select_from(T.requests).where(*in_range)


def shown(actor: Actor, row, tz: ZoneInfo | None = None) -> dict:
    """A request as the actor may see it: the number masked without the privacy right, times
    in the PBX time zone."""
    tz = tz or ZoneInfo(analytics.timezone())
    got = dict(row)  # one pass over the row (a RowMapping's `in` costs a lookup per key)
    out = {}
    for k in COLUMNS:
        if k in got:
            v = got[k]
            out[k] = v.astimezone(tz) if isinstance(v, datetime) else v
    out["call_num"] = got["call_num"] if actor.privacy else privacy.mask_number(got["call_num"])
    if "dialing" in out:
        out["dialing"] = bool(out["dialing"])
    return out


def get(stores: Stores, actor: Actor, token: str, now: datetime | None = None) -> dict:
    """One request of the actor's tenant by token, as `list_requests` shows it."""
    n = now or datetime.now(UTC)
    j, cols, _dialing = _base()
    with T.reading(stores.ops) as conn:
        row = conn.execute(sa.select(*cols).select_from(j).where(
            T.requests.c.tenant == actor.tenant, T.requests.c.token == token),
            since(ms.recent(conn), n)).mappings().first()
    if row is None:
        raise NotFound("that request no longer exists")
    return shown(actor, row)


def history(stores: Stores, actor: Actor, token: str | None = None,
            number: str | None = None, limit: int = 500) -> list[dict]:
    """Who did what and when, newest first: supervisors see everyone's actions, operators
    their own. A number is searched only by users with the privacy right (others name the
    request by its token)."""
    h, r = T.history, T.requests
    q = sa.select(h.c.at_ts, h.c.actor, h.c.action, h.c.call_num, h.c.detail).where(
        h.c.tenant == actor.tenant)
    if not actor.manager:
        q = q.where(h.c.actor == actor.username)
    if token:
        q = q.where(h.c.request_key == sa.select(r.c.request_key).where(
            r.c.tenant == actor.tenant, r.c.token == token).scalar_subquery())
    if number:
        if not actor.privacy:
            raise Forbidden("searching by number needs the privacy right")
        q = q.where(h.c.call_num == (national(number) or number))
    tz = ZoneInfo(analytics.timezone())
    with T.reading(stores.ops) as conn:
        rows = conn.execute(q.order_by(h.c.id.desc()).limit(max(1, min(int(limit), 5000)))
                            ).mappings().all()
    return [{**r, "at_ts": r["at_ts"].astimezone(tz),
             "call_num": r["call_num"] if actor.privacy else privacy.mask_number(r["call_num"])}
            for r in rows]
