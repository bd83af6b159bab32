"""What operators and supervisors do with callback requests (nexus_modules.md A.4-A.6):
lists with the spec's filters and sorting, book, cancel, assign/unassign, flush, click to call,
and the history of every change (who, when, what).

The tables people edit (bookings, flushes, dials, history, settings) are written through
SQLAlchemy (design.md "Store and processes"), under the process's write lock (the store's
single-writer rule). Booking is atomic: the request's state, any valid holder and the insert
are checked and written in one transaction under that lock, and the (tenant, call_num) primary
key refuses a second holder on a database without the lock.

A booking holds the number's OPEN request that existed when it was made (first_call <=
booked_at); when that request closes, the booking lapses by itself (no writer needed).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import sqlalchemy as sa

from pbxlens import PbxlensError
from pbxlens.missed_calls import reconcile
from pbxlens.missed_calls import settings as ms
from pbxlens.missed_calls import tables as T
from pbxlens.missed_calls.numbers import national, national_sql


class MissedError(PbxlensError):
    status = 400


class NotFound(MissedError):
    status = 404


class NotOpen(MissedError):
    status = 409


class Conflict(MissedError):
    status = 409

    def __init__(self, holder: str) -> None:
        super().__init__(f"already booked by {holder}")
        self.holder = holder


class Forbidden(MissedError):
    status = 403


@dataclass
class Db:
    """The store as the operations need it: DuckDB cursors for reads and set-based work, a
    SQLAlchemy engine for the edited tables, and the single writer's lock."""

    con: duckdb.DuckDBPyConnection
    engine: sa.Engine
    lock: threading.RLock = field(default_factory=threading.RLock)
    tz: str = "Europe/Rome"

    @classmethod
    def from_store(cls, store) -> Db:
        return cls(con=store.con, engine=store.engine, lock=store.write_lock, tz=store.tz)

    @classmethod
    def from_connection(cls, con: duckdb.DuckDBPyConnection) -> Db:
        """For the CLI and tests: an engine over cursors of one DuckDB connection."""
        from pbxlens.store import analytics as store_db

        tz = store_db.timezone()

        def creator():
            from duckdb_engine import ConnectionWrapper

            cur = con.cursor()
            cur.execute(f"SET TimeZone = '{tz}'")
            return ConnectionWrapper(cur)

        engine = sa.create_engine("duckdb://", creator=creator, poolclass=sa.pool.QueuePool,
                                  pool_size=4, max_overflow=60)
        return cls(con=con, engine=engine, tz=tz)

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cur = self.con.cursor()
        cur.execute(f"SET TimeZone = '{self.tz}'")
        try:
            yield cur
        finally:
            cur.close()

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        with self.lock, self.engine.begin() as conn:
            yield conn


@dataclass(frozen=True)
class Actor:
    """Who acts: a pbxlens user (username, role, tenant, extension)."""

    username: str
    role: str = "operator"
    tenant: str = "default"
    extension: str | None = None

    @classmethod
    def of(cls, user) -> Actor:
        return cls(user.username, user.role, user.tenant, user.extension)

    @property
    def manager(self) -> bool:
        return self.role in ("admin", "supervisor")


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


# ------------------------------------------------------------------------------ reading
SORTS = {"num_recalled": "r.num_recalled", "last_recalled": "r.last_recalled",
         "first_call": "r.first_call", "last_call": "r.last_call", "num_calls": "r.num_calls",
         "booked_at": "b.booked_at", "call_num": "r.call_num"}
VIEWS = ("to_call", "booked", "assign", "flush", "open", "all")
FILTERS = ("type", "queue", "source", "caller", "account_code", "first_from", "first_to",
           "last_from", "last_to", "recalled_from", "recalled_to", "num_recalled")


def _dialing_sql(vals: dict[str, str], one: bool = False) -> str:
    """(tenant, call_num) with a callback in progress: a click-to-call dial not yet in the CDR,
    or a live pbx.call.start without its end (R6b). Parameters: now, [tenant, call_num,] now
    (`one`: only that number's dials, for the booking check)."""
    called = ("coalesce(e.params->>'called', e.params->>'dnid', e.params->>'destination', "
              "e.params->>'called_num', e.params->>'callee')")
    only = " AND d.tenant = ? AND d.call_num = ?" if one else ""
    return f"""
SELECT d.tenant, d.call_num FROM missed_dials d
WHERE d.started_at > CAST(? AS TIMESTAMPTZ) - to_seconds({int(vals['dial_timeout_s'])}){only}
  AND NOT EXISTS (SELECT 1 FROM missed_contacts x WHERE x.tenant = d.tenant
    AND x.call_num = d.call_num AND x.kind = 'outbound'
    AND x.start_ts >= d.started_at - INTERVAL 60 SECOND)
UNION
SELECT e.tenant, {national_sql(called, outbound=True)} FROM pbx_events e
WHERE e.event_name = 'pbx.call.start'
  AND e.event_ts > CAST(? AS TIMESTAMPTZ) - to_seconds({int(vals['live_timeout_s'])})
  AND e.unique_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM pbx_events z WHERE z.event_name = 'pbx.call.end'
                  AND z.tenant = e.tenant AND z.unique_id = e.unique_id)
  AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.tenant = e.tenant AND c.unique_id = e.unique_id)
"""


def _base_sql(vals: dict[str, str]) -> str:
    return f"""
WITH dial AS ({_dialing_sql(vals)}),
b AS (
  SELECT b.* FROM missed_bookings b
  JOIN missed_requests r ON r.tenant = b.tenant AND r.call_num = b.call_num AND r.state = 'open'
    AND r.first_call <= b.booked_at
)
SELECT r.request_key, r.call_num, r.first_call, r.last_call, r.num_calls, r.num_recalled,
  r.last_recalled, r.queue, r.type, r.source, r.account_code, r.state, r.closure, r.closed_at,
  r.recall_s, b.booked_by, b.booked_at, b.extension AS booked_ext, b.assigned_by,
  EXISTS (SELECT 1 FROM dial d WHERE d.tenant = r.tenant AND d.call_num = r.call_num) AS dialing
FROM missed_requests r
LEFT JOIN b ON b.tenant = r.tenant AND b.call_num = r.call_num
WHERE r.tenant = ?"""


def list_requests(db: Db, actor: Actor, view: str = "to_call", filters: dict | None = None,
                  sort: str = "first_call", desc: bool = False, limit: int = 1000,
                  now: datetime | None = None) -> list[dict]:
    """One of the grids: `to_call` (open, unbooked, not dialing: every operator), `booked`
    (open, booked by the actor, not dialing), `assign`/`flush`/`open` (every open request not
    dialing: supervisors), `all` (every request, with state and closure)."""
    if view not in VIEWS:
        raise MissedError(f"unknown view {view!r}; known: {', '.join(VIEWS)}")
    if view in ("assign", "flush", "all") and not actor.manager:
        raise Forbidden("supervisors only")
    if sort not in SORTS:
        raise MissedError(f"unknown sort {sort!r}; known: {', '.join(SORTS)}")
    f = {k: v for k, v in (filters or {}).items() if v not in (None, "", [])}
    unknown = set(f) - set(FILTERS)
    if unknown:
        raise MissedError(f"unknown filters {sorted(unknown)}; known: {', '.join(FILTERS)}")
    n = _now(now)
    with db.cursor() as cur:
        vals = ms.load(cur)
        where, args = [], [n, n, actor.tenant]
        if view == "to_call":
            where.append("state = 'open' AND booked_by IS NULL AND NOT dialing")
        elif view == "booked":
            where.append("state = 'open' AND booked_by = ? AND NOT dialing")
            args.append(actor.username)
        elif view in ("assign", "flush", "open"):
            where.append("state = 'open' AND NOT dialing")
        for key, col in (("type", "type"), ("queue", "queue"), ("source", "source"),
                         ("account_code", "account_code")):
            if key in f:
                vs = f[key] if isinstance(f[key], list) else [f[key]]
                where.append(f"{col} IN ({', '.join('?' for _ in vs)})")
                args += vs
        if "caller" in f:
            where.append("call_num LIKE ?")
            args.append(f"%{national(str(f['caller'])) or str(f['caller'])}%")
        for key, col, op in (("first_from", "first_call", ">="), ("first_to", "first_call", "<="),
                             ("last_from", "last_call", ">="), ("last_to", "last_call", "<="),
                             ("recalled_from", "last_recalled", ">="),
                             ("recalled_to", "last_recalled", "<=")):
            if key in f:
                where.append(f"{col} {op} CAST(? AS TIMESTAMPTZ)")
                args.append(f[key])
        if "num_recalled" in f:
            where.append("num_recalled = ?")
            args.append(int(f["num_recalled"]))
        order = SORTS[sort].split(".", 1)[1]
        sql = (f"SELECT * FROM ({_base_sql(vals)}) q"
               + (" WHERE " + " AND ".join(where) if where else "")
               + f" ORDER BY {order} {'DESC' if desc else 'ASC'} NULLS LAST, call_num LIMIT {int(limit)}")
        cur_ = cur.execute(sql, args)
        cols = [d[0] for d in cur_.description]
        rows = [dict(zip(cols, r, strict=True)) for r in cur_.fetchall()]
    return rows


def get_request(db: Db, tenant: str, key: str, now: datetime | None = None) -> dict:
    """One request by request_key, or the open request of a number (any written form)."""
    n = _now(now)
    with db.cursor() as cur:
        vals = ms.load(cur)
        sql = (f"SELECT * FROM ({_base_sql(vals)}) q "
               "WHERE request_key = ? OR (call_num = ? AND state = 'open')")
        cur_ = cur.execute(sql, [n, n, tenant, key, national(key) if "|" not in key else key])
        cols = [d[0] for d in cur_.description]
        rows = [dict(zip(cols, r, strict=True)) for r in cur_.fetchall()]
    if not rows:
        raise NotFound(f"no callback request {key!r}")
    exact = [r for r in rows if r["request_key"] == key]
    return (exact or rows)[0]


# ------------------------------------------------------------------------------ writing
def _history(conn: sa.Connection, tenant: str, req: dict, actor: str, action: str,
             detail: str | None, at: datetime) -> None:
    conn.execute(T.history.insert().values(
        id=sa.text("nextval('missed_history_seq')"), tenant=tenant, call_num=req["call_num"],
        request_key=req["request_key"], at_ts=at, actor=actor, action=action, detail=detail))


_REQ_SQL = sa.text("""SELECT request_key, call_num, state, first_call FROM missed_requests
WHERE tenant = :tenant AND request_key = :key""")


def _holder(conn: sa.Connection, tenant: str, req: dict) -> dict | None:
    r = conn.execute(sa.text(
        "SELECT booked_by, booked_at FROM missed_bookings WHERE tenant = :t AND call_num = :n"),
        {"t": tenant, "n": req["call_num"]}).mappings().first()
    if r is None:
        return None
    return dict(r) if r["booked_at"] >= req["first_call"] else {"stale": True, **dict(r)}


def _open_request(conn: sa.Connection, tenant: str, key: str) -> dict:
    req = conn.execute(_REQ_SQL, {"tenant": tenant, "key": key}).mappings().first()
    if req is None:
        raise NotFound(f"no callback request {key!r}")
    if req["state"] != "open":
        raise NotOpen(f"the request for {req['call_num']} is not open (closed)")
    return dict(req)


def _dialing(db: Db, tenant: str, call_num: str, now: datetime) -> bool:
    with db.cursor() as cur:
        vals = ms.load(cur)
        return bool(cur.execute(f"SELECT count(*) FROM ({_dialing_sql(vals, one=True)}) d "
                                "WHERE tenant = ? AND call_num = ?",
                                [now, tenant, call_num, now, tenant, call_num]).fetchone()[0])


def book(db: Db, actor: Actor, key: str, now: datetime | None = None, *,
         for_user: Actor | None = None) -> dict:
    """R3: book the OPEN, unbooked, not dialing request `key` for the actor (or, by a
    supervisor, for `for_user`: assignment). Exactly one of concurrent bookers wins; the others
    get Conflict("already booked by X")."""
    n = _now(now)
    target = for_user or actor
    with db.write() as conn:
        req = _open_request(conn, actor.tenant, key)
        if _dialing(db, actor.tenant, req["call_num"], n):
            raise NotOpen(f"a callback to {req['call_num']} is in progress")
        held = _holder(conn, actor.tenant, req)
        if held is not None and not held.get("stale") and (for_user is None or not actor.manager):
            raise Conflict(held["booked_by"])
        if held is not None:  # a lapsed booking, or a supervisor re-assigning (A.5 DECISION)
            conn.execute(T.bookings.delete().where(T.bookings.c.tenant == actor.tenant,
                                                   T.bookings.c.call_num == req["call_num"]))
        try:
            conn.execute(T.bookings.insert().values(
                tenant=actor.tenant, call_num=req["call_num"], booked_by=target.username,
                extension=target.extension, booked_at=n,
                assigned_by=actor.username if for_user is not None else None))
        except sa.exc.DBAPIError as exc:  # another writer won (databases without the lock)
            raise Conflict(_who(db, actor.tenant, req["call_num"])) from exc
        action = "assign" if for_user is not None else "book"
        _history(conn, actor.tenant, req, actor.username, action,
                 target.username if for_user is not None else None, n)
    return {**req, "booked_by": target.username, "booked_at": n}


def _who(db: Db, tenant: str, call_num: str) -> str:
    with db.cursor() as cur:
        r = cur.execute("SELECT booked_by FROM missed_bookings WHERE tenant = ? AND call_num = ?",
                        [tenant, call_num]).fetchone()
    return r[0] if r else "another operator"


def cancel(db: Db, actor: Actor, key: str, now: datetime | None = None) -> dict:
    """R4: the booker ("−") or a supervisor removes the booking."""
    n = _now(now)
    with db.write() as conn:
        req = _open_request(conn, actor.tenant, key)
        held = _holder(conn, actor.tenant, req)
        if held is None or held.get("stale"):
            raise MissedError(f"the request for {req['call_num']} is not booked")
        if held["booked_by"] != actor.username and not actor.manager:
            raise Forbidden(f"booked by {held['booked_by']}: only they or a supervisor can cancel")
        conn.execute(T.bookings.delete().where(T.bookings.c.tenant == actor.tenant,
                                               T.bookings.c.call_num == req["call_num"]))
        _history(conn, actor.tenant, req, actor.username,
                 "cancel" if held["booked_by"] == actor.username else "unassign",
                 held["booked_by"], n)
    return req


def eligible_operators(db: Db, tenant: str, users: list) -> list:
    """A.5: users with an extension that exists on the PBX (directory `operators`), restricted
    to the "Operator Extension" setting when it is not empty."""
    with db.cursor() as cur:
        vals = ms.load(cur)
        exts = {r[0] for r in cur.execute("SELECT extension FROM operators WHERE tenant = ?",
                                          [tenant]).fetchall()}
    allowed = set(ms.extensions(vals))
    return [u for u in users if u.tenant == tenant and not getattr(u, "disabled", False)
            and u.extension and u.extension in exts and (not allowed or u.extension in allowed)]


def assign(db: Db, actor: Actor, key: str, user, now: datetime | None = None) -> dict:
    """A.5: a supervisor books the request on behalf of an eligible operator (replacing any
    booking: DECISION A.5)."""
    if not actor.manager:
        raise Forbidden("only supervisors assign requests")
    if not eligible_operators(db, actor.tenant, [user]):
        why = ("has no VoIP extension" if not user.extension else
               f"extension {user.extension} is not an eligible operator extension")
        raise MissedError(f"cannot assign to {user.username}: {why}")
    return book(db, actor, key, now, for_user=Actor.of(user))


def flush(db: Db, actor: Actor, keys: list[str], now: datetime | None = None) -> int:
    """R8: close the selected OPEN requests as forced_closure (rows stay for the reports)."""
    if not actor.manager:
        raise Forbidden("only supervisors flush requests")
    n = _now(now)
    done: list[tuple[str, str]] = []
    with db.write() as conn:
        for key in dict.fromkeys(keys):
            req = _open_request(conn, actor.tenant, key)
            conn.execute(T.flushes.insert().values(
                id=sa.text("nextval('missed_flush_seq')"), tenant=actor.tenant,
                call_num=req["call_num"], request_key=req["request_key"], flushed_at=n,
                flushed_by=actor.username))
            _history(conn, actor.tenant, req, actor.username, "flush", None, n)
            done.append((actor.tenant, req["call_num"]))
    with db.lock, db.cursor() as cur:  # the state machine closes them (set-based, one pass)
        cur.execute("BEGIN TRANSACTION")
        reconcile.rebuild_numbers(cur, done)
        cur.execute("COMMIT")
    return len(done)


def start_dial(db: Db, actor: Actor, key: str, now: datetime | None = None,
               call_uuid: str | None = None) -> dict:
    """R6b: an operator clicked the number: hide the request until the attempt shows up in the
    CDR (or `dial_timeout_s` passes)."""
    n = _now(now)
    with db.write() as conn:
        req = _open_request(conn, actor.tenant, key)
        conn.execute(T.dials.insert().values(tenant=actor.tenant, call_num=req["call_num"],
                                             started_at=n, started_by=actor.username,
                                             extension=actor.extension, call_uuid=call_uuid))
        _history(conn, actor.tenant, req, actor.username, "dial", actor.extension, n)
    return req


def history(db: Db, tenant: str, call_num: str | None = None, limit: int = 500) -> list[dict]:
    with db.cursor() as cur:
        sql = ("SELECT at_ts, actor, action, call_num, request_key, detail FROM missed_history"
               " WHERE tenant = ?")
        args: list = [tenant]
        if call_num:
            sql += " AND call_num = ?"
            args.append(national(call_num) or call_num)
        cur_ = cur.execute(sql + f" ORDER BY id DESC LIMIT {int(limit)}", args)
        cols = [d[0] for d in cur_.description]
        return [dict(zip(cols, r, strict=True)) for r in cur_.fetchall()]


def set_setting(db: Db, actor: Actor, key: str, value: str) -> None:
    if not actor.manager:
        raise Forbidden("only supervisors change missed-call settings")
    value = ms.validate(key, value)
    with db.write() as conn:
        conn.execute(T.settings.delete().where(T.settings.c.key == key))
        conn.execute(T.settings.insert().values(key=key, value=value))
    if key in ("success_min_billsec", "import_checktime", "require_queue"):
        with db.lock, db.cursor() as cur:  # they change which calls count: rebuild
            cur.execute("BEGIN TRANSACTION")
            reconcile.rebuild_all(cur)
            cur.execute("COMMIT")


def token(request_key: str) -> str:
    """The opaque id a page gives a request (its key holds the number, which users without
    the privacy right must not receive)."""
    import hashlib

    return hashlib.md5(request_key.encode(), usedforsecurity=False).hexdigest()


def resolve(db: Db, tenant: str, tok: str) -> str:
    with db.cursor() as cur:
        r = cur.execute("SELECT request_key FROM missed_requests WHERE tenant = ? AND md5(request_key) = ?",
                        [tenant, tok]).fetchone()
    if r is None:
        raise NotFound("that request no longer exists")
    return r[0]
