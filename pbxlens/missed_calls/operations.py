"""What operators and supervisors do with callback requests (nexus_modules.md A.4-A.6): book,
cancel, assign, flush, click to call, settings. Each action is one short transaction in the
operations store, reads nothing from DuckDB and takes no Python-wide lock.

Booking is one conditional INSERT ... ON CONFLICT DO UPDATE on `missed_bookings` (key: tenant,
number): it inserts, or takes over a booking that lapsed (made before the number's current
request existed), and otherwise changes nothing, so exactly one of concurrent bookers wins.
The request row is read FOR UPDATE first (PostgreSQL; SQLite's BEGIN IMMEDIATE serializes the
whole transaction), so a flush and a booking of one request never interleave. On PostgreSQL a
booking and a cancel are one statement each (`oneshot`): there every statement is a round trip.

After an action that changes what the analytics store copies (bookings, flushes, settings)
`sync.after_change` queues a refresh job for the writer; the action does not wait for it.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from pbxlens.missed_calls import listing, oneshot, sync
from pbxlens.missed_calls import settings as ms
from pbxlens.missed_calls import tables as T
from pbxlens.missed_calls.actor import Actor
from pbxlens.missed_calls.errors import (
    Conflict,
    Forbidden,
    InProgress,
    MissedError,
    NotBooked,
    NotFound,
    NotOpen,
)
from pbxlens.missed_calls.listing import in_progress
from pbxlens.missed_calls.numbers import national
from pbxlens.store import direct, privacy
from pbxlens.store import ops as ops_store
from pbxlens.store.schema import Instant

if TYPE_CHECKING:
    from pbxlens.store import Stores

MAX_FLUSH = 10_000


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _shown(actor: Actor, num: str) -> str:
    return num if actor.privacy else privacy.mask_number(num)


# Statements built once (an action runs them with its values: no per-call construction).
_R, _B = T.requests, T.bookings
_OPEN = (sa.select(_R.c.request_key, _R.c.call_num, _R.c.state, _R.c.first_call)
         .where(_R.c.tenant == sa.bindparam("tenant"), _R.c.token == sa.bindparam("token"))
         .with_for_update())
# A booking reads its request and whether a callback to the number is in progress in one
# statement (on PostgreSQL each statement is a round trip to another process).
_OPEN_DIALING = (sa.select(_R.c.request_key, _R.c.call_num, _R.c.state, _R.c.first_call,
                           in_progress(_R.c.tenant, _R.c.call_num,
                                       sa.bindparam("dial_since", type_=Instant),
                                       sa.bindparam("live_since", type_=Instant)
                                       ).label("dialing"))
                 .where(_R.c.tenant == sa.bindparam("tenant"), _R.c.token == sa.bindparam("token"))
                 .with_for_update(of=_R))
_HOLDER = sa.select(_B.c.booked_by).where(
    _B.c.tenant == sa.bindparam("tenant"), _B.c.call_num == sa.bindparam("call_num"),
    _B.c.booked_at >= sa.bindparam("since_first", type_=Instant))
_UNBOOK = _B.delete().where(_B.c.tenant == sa.bindparam("tenant"),
                            _B.c.call_num == sa.bindparam("call_num"))
# The requests' copy of the holder (`held_by`, the lists' index): a booking holds the number's
# requests that began before it; a cancelled one none.
_HOLD = _R.update().where(
    _R.c.tenant == sa.bindparam("t"), _R.c.call_num == sa.bindparam("n"),
    _R.c.first_call <= sa.bindparam("at", type_=Instant)
).values(held_by=sa.bindparam("holder"))
_RELEASE = _R.update().where(_R.c.tenant == sa.bindparam("t"),
                             _R.c.call_num == sa.bindparam("n")).values(held_by=None)
_LOG = T.history.insert()
_DIAL = T.dials.insert()
_CLAIMED = ("booked_by", "extension", "booked_at", "assigned_by")


@functools.cache
def _claim_stmt(dialect: str, replace: bool):
    """INSERT a booking ... ON CONFLICT (tenant, number) DO UPDATE when the old one lapsed
    (`replace`: always) RETURNING a row only when this statement wrote."""
    ins = (sqlite.insert(_B) if dialect == "sqlite" else postgresql.insert(_B))
    lapsed = _B.c.booked_at < sa.bindparam("since_first", type_=Instant)
    return ins.on_conflict_do_update(
        index_elements=["tenant", "call_num"], set_={c: ins.excluded[c] for c in _CLAIMED},
        where=None if replace else lapsed).returning(_B.c.call_num)


def _open_request(conn: sa.Connection, actor: Actor, token: str,
                  at: datetime | None = None) -> sa.RowMapping:
    """The actor's tenant's request `token`, locked, and open; with `at`, refused too when a
    callback to its number is in progress then."""
    if at is None:
        req = direct.first(conn, _OPEN, {"tenant": actor.tenant, "token": token})
    else:
        req = direct.first(conn, _OPEN_DIALING, {"tenant": actor.tenant, "token": token,
                                                 **listing.since(ms.recent(conn), at)})
    _refuse(actor, req, dialing=at is not None)
    return req


def _refuse(actor: Actor, req: sa.RowMapping | None, dialing: bool) -> None:
    """The errors of an action on request `req`: unknown, closed, or (`dialing`) being called
    back."""
    if req is None:
        raise NotFound("that request no longer exists")
    if req["state"] != "open":
        raise NotOpen(f"the request for {_shown(actor, req['call_num'])} is not open (closed)",
                      call_num=_shown(actor, req["call_num"]))
    if dialing and req["dialing"]:
        raise InProgress(f"a callback to {_shown(actor, req['call_num'])} is in progress",
                         call_num=_shown(actor, req["call_num"]))


def _history(conn: sa.Connection, tenant: str, req: sa.RowMapping, actor: str, action: str,
             detail: str | None, at: datetime) -> None:
    direct.execute(conn, _LOG, {
        "tenant": tenant, "call_num": req["call_num"], "request_key": req["request_key"],
        "at_ts": at, "actor": actor, "action": action, "detail": detail})


def _holder(conn: sa.Connection, tenant: str, req: sa.RowMapping) -> str | None:
    """Who holds the booking of the request (None when unbooked or the booking lapsed)."""
    row = direct.first(conn, _HOLDER, {"tenant": tenant, "call_num": req["call_num"],
                                       "since_first": req["first_call"]})
    return row["booked_by"] if row else None


def _claim(conn: sa.Connection, tenant: str, req: sa.RowMapping, holder: str,
           extension: str | None, at: datetime, assigned_by: str | None) -> bool:
    """Book the request's number for `holder`: a new row, or over a lapsed booking; with
    `assigned_by` (a supervisor) over any booking. True when this transaction won."""
    stmt = _claim_stmt(conn.dialect.name, assigned_by is not None)
    won = direct.first(conn, stmt, {
        "tenant": tenant, "call_num": req["call_num"], "booked_by": holder,
        "extension": extension, "booked_at": at, "assigned_by": assigned_by,
        "since_first": req["first_call"]}) is not None  # a row: this one wrote
    if won:
        direct.execute(conn, _HOLD, {"t": tenant, "n": req["call_num"], "at": at,
                                     "holder": holder})
    return won


def book(stores: Stores, actor: Actor, token: str, now: datetime | None = None) -> dict:
    """R3: book the open, unbooked request `token` for the actor. Of concurrent bookers
    exactly one wins; the others get Conflict naming the winner."""
    n = _now(now)
    if stores.ops.dialect.name == "postgresql":
        req = _book_once(stores, actor, token, n)
    else:
        with stores.ops_write() as conn:
            req = _open_request(conn, actor, token, n)
            if not _claim(conn, actor.tenant, req, actor.username, actor.extension, n, None):
                raise Conflict(_holder(conn, actor.tenant, req) or "another operator")
            _history(conn, actor.tenant, req, actor.username, "book", None, n)
    sync.after_change(stores)
    return {"token": token, "call_num": _shown(actor, req["call_num"]),
            "booked_by": actor.username, "booked_at": n}


def _book_once(stores: Stores, actor: Actor, token: str, at: datetime) -> sa.RowMapping:
    """`book` on PostgreSQL: one statement (`oneshot.booking`)."""
    with ops_store.autocommit(stores.ops) as conn:
        req = direct.first(conn, oneshot.booking(), {
            "t": actor.tenant, "tok": token, "who": actor.username, "ext": actor.extension,
            "at": at, **listing.since(ms.recent(conn), at)})
        _refuse(actor, req, dialing=True)
        if not req["won"]:
            raise Conflict(_holder(conn, actor.tenant, req) or "another operator")
    return req


def cancel(stores: Stores, actor: Actor, token: str, now: datetime | None = None) -> dict:
    """R4 / A.5: the booker ("−") or a supervisor removes the booking."""
    n = _now(now)
    if stores.ops.dialect.name == "postgresql":
        req, held = _cancel_once(stores, actor, token, n)
    else:
        with stores.ops_write() as conn:
            req = _open_request(conn, actor, token)
            held = _holder(conn, actor.tenant, req)
            _may_cancel(actor, req, held)
            direct.execute(conn, _UNBOOK, {"tenant": actor.tenant, "call_num": req["call_num"]})
            direct.execute(conn, _RELEASE, {"t": actor.tenant, "n": req["call_num"]})
            _history(conn, actor.tenant, req, actor.username,
                     "cancel" if held == actor.username else "unassign", held, n)
    sync.after_change(stores)
    return {"token": token, "call_num": _shown(actor, req["call_num"]), "booked_by": None,
            "was_booked_by": held}


def _cancel_once(stores: Stores, actor: Actor, token: str,
                 at: datetime) -> tuple[sa.RowMapping, str]:
    """`cancel` on PostgreSQL: one statement (`oneshot.cancelling`)."""
    with ops_store.autocommit(stores.ops) as conn:
        req = direct.first(conn, oneshot.cancelling(), {
            "t": actor.tenant, "tok": token, "who": actor.username, "mgr": actor.manager,
            "at": at})
    _refuse(actor, req, dialing=False)
    _may_cancel(actor, req, req["held"])
    return req, req["held"]


def _may_cancel(actor: Actor, req: sa.RowMapping, held: str | None) -> None:
    if held is None:
        raise NotBooked(f"the request for {_shown(actor, req['call_num'])} is not booked",
                        call_num=_shown(actor, req["call_num"]))
    if held != actor.username and not actor.manager:
        raise Forbidden(f"booked by {held}: only they or a supervisor can cancel",
                        booked_by=held)


def _eligible(conn: sa.Connection, tenant: str) -> sa.Select:
    """A.5: active users of the tenant whose extension exists on the PBX, restricted to the
    "Operator Extension" setting when it is not empty."""
    u, o = T.users, T.operators
    q = (sa.select(u.c.username, u.c.extension, o.c.name)
         .join(o, sa.and_(o.c.tenant == u.c.tenant, o.c.extension == u.c.extension))
         .where(u.c.tenant == tenant, u.c.disabled.is_(False)))
    allowed = ms.extensions(ms.load(conn))
    return q.where(u.c.extension.in_(allowed)) if allowed else q


def eligible_operators(stores: Stores, tenant: str) -> list[dict]:
    """The operators a supervisor may assign requests to: username, extension, name."""
    with T.reading(stores.ops) as conn:
        q = _eligible(conn, tenant).order_by(T.users.c.extension, T.users.c.username)
        return [dict(r) for r in conn.execute(q).mappings()]


def assign(stores: Stores, actor: Actor, token: str, username: str,
           now: datetime | None = None) -> dict:
    """A.5: a supervisor books the request on behalf of an eligible operator, replacing any
    booking (DECISION A.5)."""
    if not actor.manager:
        raise Forbidden("only supervisors assign requests")
    n = _now(now)
    with stores.ops_write() as conn:
        req = _open_request(conn, actor, token)
        target = conn.execute(_eligible(conn, actor.tenant).where(
            T.users.c.username == username)).mappings().first()
        if target is None:
            raise MissedError(f"cannot assign to {username}: {_why_not(conn, actor, username)}",
                              username=username)
        _claim(conn, actor.tenant, req, username, target["extension"], n, actor.username)
        _history(conn, actor.tenant, req, actor.username, "assign", username, n)
    sync.after_change(stores)
    return {"token": token, "call_num": _shown(actor, req["call_num"]), "booked_by": username,
            "booked_at": n, "assigned_by": actor.username}


def _why_not(conn: sa.Connection, actor: Actor, username: str) -> str:
    u = T.users
    user = conn.execute(sa.select(u.c.extension, u.c.disabled).where(
        u.c.username == username, u.c.tenant == actor.tenant)).first()
    if user is None or user.disabled:
        return "no such active user"
    if not user.extension:
        return "has no VoIP extension"
    return f"extension {user.extension} is not an eligible operator extension"


def flush(stores: Stores, actor: Actor, tokens: list[str], now: datetime | None = None) -> int:
    """R8 / A.6: close the selected open requests as forced closure at once; the analytics
    writer reconciles them a moment later (the flushes are copied to DuckDB). All or none:
    a token that is unknown or closed refuses the whole flush."""
    if not actor.manager:
        raise Forbidden("only supervisors flush requests")
    wanted = list(dict.fromkeys(tokens))
    if len(wanted) > MAX_FLUSH:
        raise MissedError(f"at most {MAX_FLUSH} requests at once", limit=MAX_FLUSH)
    n = _now(now)
    r = T.requests
    with stores.ops_write() as conn:
        reqs = [_open_request(conn, actor, t) for t in wanted]
        conn.execute(r.update().where(r.c.tenant == actor.tenant, r.c.token.in_(wanted),
                                      r.c.state == "open")
                     .values(state="closed", closure="forced_closure", closed_at=n,
                             closed_by=actor.username, updated_at=n))
        if reqs:
            conn.execute(T.flushes.insert(), [
                {"tenant": actor.tenant, "call_num": q["call_num"],
                 "request_key": q["request_key"], "flushed_at": n, "flushed_by": actor.username}
                for q in reqs])
            conn.execute(T.history.insert(), [
                {"tenant": actor.tenant, "call_num": q["call_num"],
                 "request_key": q["request_key"], "at_ts": n, "actor": actor.username,
                 "action": "flush", "detail": None} for q in reqs])
    if reqs:
        sync.after_change(stores)
    return len(reqs)


def dial_target(stores: Stores, actor: Actor, token: str) -> str:
    """The number to call for an open request (for the PBX originate, never shown)."""
    r = T.requests
    with T.reading(stores.ops) as conn:
        req = conn.execute(sa.select(r.c.call_num, r.c.state).where(
            r.c.tenant == actor.tenant, r.c.token == token)).first()
    if req is None:
        raise NotFound("that request no longer exists")
    if req.state != "open":
        raise NotOpen(f"the request for {_shown(actor, req.call_num)} is not open (closed)",
                      call_num=_shown(actor, req.call_num))
    return req.call_num


def dial(stores: Stores, actor: Actor, token: str, now: datetime | None = None,
         call_uuid: str | None = None) -> dict:
    """R6b: an operator clicked the number: the request is hidden until the attempt shows up
    in the CDR (or `dial_timeout_s` passes)."""
    n = _now(now)
    with stores.ops_write() as conn:
        req = _open_request(conn, actor, token)
        conn.execute(_DIAL, {"tenant": actor.tenant, "call_num": req["call_num"],
                             "started_at": n, "started_by": actor.username,
                             "extension": actor.extension, "call_uuid": call_uuid})
        _history(conn, actor.tenant, req, actor.username, "dial", actor.extension, n)
    return {"token": token, "call_num": _shown(actor, req["call_num"]), "started_at": n}


def settings_of(stores: Stores) -> dict[str, str]:
    with T.reading(stores.ops) as conn:
        return ms.load(conn)


def set_setting(stores: Stores, actor: Actor, key: str, value: str) -> None:
    """A supervisor changes a setting; one that changes which calls count queues a rebuild of
    every request (a writer job), the others a refresh of the copies."""
    if not actor.manager:
        raise Forbidden("only supervisors change missed-call settings")
    value = ms.validate(key, value)
    with stores.ops_write() as conn:
        ops_store.upsert(conn, T.settings, {"key": key, "value": value}, ["key"], ["value"])
    ms.forget(stores.ops)
    if key in ms.REBUILD:
        sync.rebuild(stores, actor.username)
    else:
        sync.after_change(stores)


def find(stores: Stores, actor: Actor, key: str) -> str:
    """The token of `key`: a token, or (users with the privacy right only) a number, whose
    open request is meant."""
    r = T.requests
    with T.reading(stores.ops) as conn:
        if conn.execute(sa.select(r.c.token).where(r.c.tenant == actor.tenant,
                                                   r.c.token == key)).first():
            return key
        num = national(key)
        if not num or not actor.privacy:
            raise NotFound(f"no callback request {key!r}")
        tok = conn.execute(sa.select(r.c.token).where(
            r.c.tenant == actor.tenant, r.c.call_num == num, r.c.state == "open")
        ).scalar_one_or_none()
    if tok is None:
        raise NotFound(f"no open callback request for {key!r}")
    return tok
