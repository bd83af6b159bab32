"""Booking and cancelling on PostgreSQL as one statement each, outside any transaction block.

There every statement is a round trip to another process, which needs its own turn on a core:
the transaction of `operations.book` took seven (a connection check, BEGIN, the request FOR
UPDATE, the claim, the hold, the history, COMMIT). Here the request's lock, the claim, the hold
and the history are data-modifying CTEs of one statement, which PostgreSQL runs as its own
transaction: a connection check and this statement.

What stays true (the same tests run on both back-ends):
- The request row is locked FOR UPDATE for the statement's life, so a flush, a booking and a
  cancel of one request never interleave.
- Exactly one of concurrent bookers wins: the claim is the same INSERT ... ON CONFLICT DO
  UPDATE WHERE lapsed, which checks the latest committed booking (not the statement's
  snapshot). A loser then reads the winner in a second statement (only on that path).
- The CTEs read the statement's snapshot, taken before it waited for the request's lock: an
  action that waited behind another on the same request is answered as if it came first
  (NotBooked for a cancel that waited behind the booking), never with a half-made change.

SQLite has no data-modifying CTEs; its statements run in-process anyway (`operations`).
"""

from __future__ import annotations

import functools

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from pbxlens.missed_calls import tables as T
from pbxlens.missed_calls.listing import in_progress
from pbxlens.store.schema import Instant
from pbxlens.store.sql import literal

_R, _B, _H = T.requests, T.bookings, T.history


def _const(text: str, column: sa.Column) -> sa.ColumnElement:
    # A constant of this module, in the SQL text: SQLAlchemy leaves the anonymous parameters
    # of a CTE attached with `add_cte` (and referenced nowhere else) without their values.
    return sa.literal_column(literal(text), column.type)


def _param(name: str, column: sa.Column) -> sa.BindParameter:
    # Named unlike every column: the keys of an UPDATE's parameters that name a column of its
    # table become SET clauses (SQLAlchemy), even inside a CTE.
    return sa.bindparam(name, type_=column.type)


def _request(dialing: bool) -> sa.CTE:
    """Tenant `t`'s request `tok`, locked (with whether a callback to it is in progress)."""
    cols = [_R.c.request_key, _R.c.call_num, _R.c.state, _R.c.first_call]
    if dialing:
        cols.append(in_progress(_R.c.tenant, _R.c.call_num,
                                sa.bindparam("dial_since", type_=Instant),
                                sa.bindparam("live_since", type_=Instant)).label("dialing"))
    return (sa.select(*cols)
            .where(_R.c.tenant == _param("t", _R.c.tenant),
                   _R.c.token == _param("tok", _R.c.token))
            .with_for_update(of=_R).cte("req"))


def _log(req: sa.CTE, done: sa.CTE, action: sa.ColumnElement, detail: sa.ColumnElement) -> sa.CTE:
    """The history row of the action, written when `done` has a row."""
    src = sa.select(_param("t", _H.c.tenant), req.c.call_num, req.c.request_key,
                    sa.bindparam("at", type_=Instant), _param("who", _H.c.actor),
                    action, detail).where(sa.exists(sa.select(done.c.call_num)))
    return _H.insert().from_select(
        ["tenant", "call_num", "request_key", "at_ts", "actor", "action", "detail"], src
    ).cte("log")


@functools.cache
def booking() -> sa.Select:
    """Book request `tok` of tenant `t` for `who` (extension `ext`) at `at` unless it is
    closed, being called back, or validly booked: one row (the request and `won`), none when
    the token is unknown."""
    req = _request(dialing=True)
    ins = postgresql.insert(_B)
    claim = ins.from_select(
        ["tenant", "call_num", "booked_by", "extension", "booked_at", "assigned_by"],
        sa.select(_param("t", _B.c.tenant), req.c.call_num, _param("who", _B.c.booked_by),
                  _param("ext", _B.c.extension), sa.bindparam("at", type_=Instant),
                  sa.null().cast(_B.c.assigned_by.type))
        .where(req.c.state == "open", sa.not_(req.c.dialing)),
    ).on_conflict_do_update(
        index_elements=["tenant", "call_num"],
        set_={c: ins.excluded[c] for c in ("booked_by", "extension", "booked_at", "assigned_by")},
        where=_B.c.booked_at < sa.select(req.c.first_call).scalar_subquery(),  # it lapsed
    ).returning(_B.c.call_num).cte("claim")
    hold = (_R.update()
            .where(_R.c.tenant == _param("t", _R.c.tenant),
                   _R.c.call_num.in_(sa.select(claim.c.call_num)),
                   _R.c.first_call <= sa.bindparam("at", type_=Instant))
            .values(held_by=_param("who", _R.c.held_by)).cte("hold"))
    log = _log(req, claim, _const("book", _H.c.action), sa.null().cast(_H.c.detail.type))
    return (sa.select(req.c.request_key, req.c.call_num, req.c.state, req.c.first_call,
                      req.c.dialing, sa.exists(sa.select(claim.c.call_num)).label("won"))
            .add_cte(hold, log))


@functools.cache
def cancelling() -> sa.Select:
    """Remove the valid booking of request `tok` of tenant `t` when `who` holds it or `mgr`: one row
    (the request, `held`: its holder or NULL, `done`), none when the token is unknown."""
    req = _request(dialing=False)
    held = (sa.select(_B.c.booked_by).where(
        _B.c.tenant == _param("t", _B.c.tenant), _B.c.call_num == req.c.call_num,
        _B.c.booked_at >= req.c.first_call).cte("held"))
    may = sa.or_(held.c.booked_by == _param("who", _B.c.booked_by),
                 sa.bindparam("mgr", type_=sa.Boolean))
    gone = (_B.delete()
            .where(_B.c.tenant == _param("t", _B.c.tenant),
                   _B.c.call_num.in_(sa.select(req.c.call_num).where(req.c.state == "open")),
                   sa.exists(sa.select(held.c.booked_by).where(may)))
            .returning(_B.c.call_num).cte("gone"))
    release = (_R.update()
               .where(_R.c.tenant == _param("t", _R.c.tenant),
                      _R.c.call_num.in_(sa.select(gone.c.call_num)))
               .values(held_by=sa.null()).cte("release"))
    holder = sa.select(held.c.booked_by).scalar_subquery()
    action = sa.case((holder == _param("who", _B.c.booked_by), _const("cancel", _H.c.action)),
                     else_=_const("unassign", _H.c.action))
    log = _log(req, gone, action, holder)
    return (sa.select(req.c.request_key, req.c.call_num, req.c.state, req.c.first_call,
                      holder.label("held"), sa.exists(sa.select(gone.c.call_num)).label("done"))
            .add_cte(release, log))
