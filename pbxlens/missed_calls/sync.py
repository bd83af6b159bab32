"""The two directions between the stores for missed calls (design.md "two stores").

- **push** (analytics -> operations): the reconciliation (`reconcile`, DuckDB, in the writer)
  notes the numbers it rebuilt; `push(con, ops)` on the same connection upserts their requests
  into `callback_requests` (a random `token` for each new one, from `secrets`), removes the
  requests that no longer exist, forgets the click-to-call dials the CDR has since resolved and
  copies the PBX's extensions. A request a supervisor flushed stays closed even if the
  reconciliation has not seen the flush yet. Rows are written in small transactions, so that
  operators never queue behind a long one.
- **mirror** (operations -> analytics): the analytics store keeps copies of `missed_bookings`
  (those of the numbers with an open request: the only ones that can hold one),
  `missed_flushes` and `missed_settings` for the `missed.*` reports and the reconciliation.
  `refresh` (a writer job, debounced after every action that changes them) copies them,
  reconciles the numbers of new flushes and pushes the result; a push copies the bookings of
  the numbers it touched.

`resync` (full push), `rebuild` (a settings change that alters which calls count) and `start`
(at server start: catches up whatever a stopped process had not pushed) complete the set.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import time
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import duckdb
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from pbxlens.background import start_loop
from pbxlens.missed_calls import reconcile
from pbxlens.missed_calls import settings as ms
from pbxlens.missed_calls import tables as T
from pbxlens.store import ops as ops_store
from pbxlens.store.schema import Instant

if TYPE_CHECKING:
    import pyarrow as pa

    from pbxlens.store import Stores
    from pbxlens.store.writer import Job, JobContext

log = logging.getLogger("pbxlens.missed")

# The columns the reconciliation owns (booking state lives in missed_bookings).
DERIVED = ("call_num", "first_call", "last_call", "num_calls", "num_recalled", "last_recalled",
           "queue", "type", "source", "account_code", "state", "closure", "closed_at",
           "closed_by", "recall_s")
CHUNK = 200            # rows per operations-store transaction
FETCH = 5000           # rows per DuckDB fetch
KEYS_CHUNK = 2000      # numbers per IN list read from the operations store (a read holds no
                       # write lock; SQLite takes 32766 parameters, PostgreSQL 65535)
DIAL_GRACE_S = 60      # a CDR attempt that started this long before a dial resolves it
DEBOUNCE_S = 1.0       # actions within this window share one refresh job
WATCH_S = 1.0          # the server polls other processes' actions this often (`watch`)
MARK = "missed_synced_at"


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def dialect_insert(conn: sa.Connection, table: sa.Table):
    """INSERT with ON CONFLICT for the connection's back-end."""
    return (sqlite.insert(table) if conn.dialect.name == "sqlite" else postgresql.insert(table))


# ------------------------------------------------------------------------------ push
def push(con: duckdb.DuckDBPyConnection, ops: sa.Engine) -> dict[str, Any]:
    """Carry the requests the reconciliation rebuilt on `con` to the operations store. On an
    unreachable operations store the numbers stay noted for the next push."""
    touched = reconcile.touched_table(con)
    if not con.execute(f"SELECT count(*) FROM {touched}").fetchone()[0]:  # noqa: S608 -- names and SQL fragments from code; values bound
        return {"requests": 0, "removed": 0}
    everything = con.execute(f"SELECT count(*) FROM {touched} WHERE tenant IS NULL"  # noqa: S608 -- names and SQL fragments from code; values bound
                             ).fetchone()[0] > 0
    try:
        out = _sync(con, ops, None if everything else touched)
    except sa.exc.DBAPIError as exc:
        log.warning("missed calls: the operations store did not take the requests (%s); "
                    "they are pushed again next time", exc.orig or exc)
        return {"requests": 0, "removed": 0, "error": str(exc.orig or exc)[:200]}
    con.execute(f"DELETE FROM {touched}")  # noqa: S608 -- names and SQL fragments from code; values bound
    return out


def resync(con: duckdb.DuckDBPyConnection, ops: sa.Engine) -> dict[str, Any]:
    """Every request of the analytics store into the operations store (rows already equal are
    left alone), and the ones it no longer has out."""
    out = _sync(con, ops, None)
    with ops.begin() as c:
        ops_store.meta_set(c, MARK, datetime.now(UTC).isoformat())
    return out


def _scope_sql(scope: str | None, alias: str) -> str:
    # `scope` is our own temp table's name (reconcile.TOUCHED), never a value
    return "" if scope is None else (
        f"SEMI JOIN (SELECT DISTINCT tenant, call_num FROM {scope}) s "  # noqa: S608 -- names and SQL fragments from code; values bound
        f"ON s.tenant = {alias}.tenant AND s.call_num = {alias}.call_num")


def _sync(con: duckdb.DuckDBPyConnection, ops: sa.Engine, scope: str | None) -> dict[str, Any]:
    sqlite_ops = ops.dialect.name == "sqlite"
    # before the upsert: every key it writes is one the reconciliation has, so none of them
    # could vanish, and a first load (an empty store) has no key to read at all
    removed = _remove_vanished(con, ops, scope)
    # SQLite: instants as the UTC text SQLAlchemy stores there, made by DuckDB (Python
    # datetimes came through pytz per value, then Instant per value: a third of the push)
    values = ", ".join(_SQLITE_INSTANT.format(c=f"r.{c}") if sqlite_ops and c in _INSTANTS
                       else f"r.{c}" for c in DERIVED)
    cur = con.execute(f"SELECT r.tenant, r.request_key, {values} "  # noqa: S608 -- names and SQL fragments from code; values bound
                      f"FROM missed_requests r {_scope_sql(scope, 'r')}",
                      {"fmt": _SQLITE_FORMAT} if sqlite_ops else None)
    cols = ["tenant", "request_key", *DERIVED]
    n = 0
    now = datetime.now(UTC)
    while batch := cur.fetchmany(FETCH):
        if sqlite_ops:
            _upsert_staged(ops, batch, now)
        else:
            rows = [dict(zip(cols, r, strict=True)) for r in batch]
            for part in _chunks(rows):
                with ops.begin() as c:
                    _upsert_requests(c, part, now)
        n += len(batch)
    _copy_bookings(con, ops, scope)
    _resolve_dials(con, ops, scope, now)
    push_operators(con, ops)
    if n:  # a first push fills a new PostgreSQL store faster than autovacuum's first pass
        with contextlib.suppress(sa.exc.SQLAlchemyError):  # statistics only
            ops_store.analyze_unanalyzed(ops, (T.requests, T.bookings, T.dials, T.operators))
    return {"requests": n, "removed": removed}


def _yield_lock(ops: sa.Engine, held_s: float) -> None:
    """On SQLite, leave the write lock free as long as we held it: operators waiting for it
    poll (busy timeout) and would otherwise find it taken again by the next chunk. Only in a
    server: a CLI ingest alone has nobody to wait for (it slept seconds per million calls)."""
    if ops.dialect.name == "sqlite" and ops_store.is_shared(ops):
        time.sleep(min(held_s, 0.05))


# The holder of each pushed request (its `held_by`, the lists' index), written in the upsert's
# own transaction: a request that a booking holds (booked on the number's previous request after
# this one began, before the push brought it) is never listed as one to call, not even between
# two statements; one whose first call moved past its number's booking is released. Driven by
# the pushed keys, not by every booking (they are never deleted: one per number ever booked).
_B = T.bookings
_HELD = sa.and_(_B.c.tenant == T.requests.c.tenant, _B.c.call_num == T.requests.c.call_num,
                _B.c.booked_at >= T.requests.c.first_call)


def _holding(pushed: sa.ColumnElement[bool]) -> sa.Update:
    holder = sa.select(_B.c.booked_by).where(_HELD).scalar_subquery()
    return T.requests.update().where(pushed, T.requests.c.state == "open",
                                     T.requests.c.held_by.is_distinct_from(holder)
                                     ).values(held_by=holder)


_PUSHED_KEY = sa.tuple_(T.requests.c.tenant, T.requests.c.request_key)
_HOLD_ROWS = _holding(_PUSHED_KEY.in_(sa.bindparam("keys", expanding=True)))


def _upserting(ins):
    """The ON CONFLICT DO UPDATE of the derived columns, only where one differs, and never
    reopening a request a supervisor flushed (the reconciliation learns of the flush a moment
    later: `refresh`)."""
    R = T.requests
    changed = sa.or_(*(R.c[c].is_distinct_from(ins.excluded[c]) for c in DERIVED))
    flushed = sa.and_(sa.func.coalesce(R.c.closure, "") == "forced_closure",  # NULL-proof
                      ins.excluded.state == "open")
    return ins.on_conflict_do_update(
        index_elements=["tenant", "request_key"],
        set_={c: ins.excluded[c] for c in (*DERIVED, "updated_at")},
        where=sa.and_(changed, sa.not_(flushed)))


def _stamped(rows: list[dict], now: datetime) -> list[dict]:
    for r in rows:
        r["token"] = _token()
        r["updated_at"] = now
    return rows


def _upsert_requests(conn: sa.Connection, rows: list[dict], now: datetime) -> None:
    """Upsert `rows` and their holders (PostgreSQL: row locks, nobody waits on the whole
    table)."""
    conn.execute(_upserting(dialect_insert(conn, T.requests)), _stamped(rows, now))
    conn.execute(_HOLD_ROWS, {"keys": [(r["tenant"], r["request_key"]) for r in rows]})


# SQLite: the rows go first into a temporary table of the push's connection, which takes no
# lock on the store; then one INSERT ... SELECT per chunk under the write lock. Row by row
# (executemany) the writer gave up the GIL at every row and waited to get it back from the
# request threads, holding the write lock for ~350 ms per 200 rows while 50 operators'
# bookings queued behind it.
_STAGED = ("tenant", "request_key", *DERIVED, "token", "updated_at")
_STAGE = sa.Table("push_stage", sa.MetaData(), sa.Column("n", sa.Integer),
                  *(sa.Column(c, T.requests.c[c].type) for c in _STAGED),
                  prefixes=["TEMPORARY"])
_FROM_STAGE = _upserting(sqlite.insert(T.requests).from_select(
    list(_STAGED), sa.select(*(_STAGE.c[c] for c in _STAGED)).where(
        _STAGE.c.n.between(sa.bindparam("lo"), sa.bindparam("hi")))))
_HOLD_STAGED = _holding(_PUSHED_KEY.in_(
    sa.select(_STAGE.c.tenant, _STAGE.c.request_key).where(
        _STAGE.c.n.between(sa.bindparam("lo"), sa.bindparam("hi")))))
_STAGE_INSERT = (f"INSERT INTO {_STAGE.name} (n, {', '.join(_STAGED)}) "  # noqa: S608 -- names from code; values bound
                 f"VALUES ({', '.join('?' * (len(_STAGED) + 1))})")
# SQLite keeps an Instant as naive UTC text in SQLAlchemy's DATETIME storage format; the same
# text from DuckDB (TIMESTAMPTZ -> UTC wall clock -> strftime) and from Python.
_INSTANTS = frozenset(c for c in DERIVED if isinstance(T.requests.c[c].type, Instant))
_SQLITE_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
_SQLITE_INSTANT = "strftime(timezone('UTC', {c}), $fmt)"


def _sqlite_text(ts: datetime) -> str:
    """An aware instant as SQLite's stored text (what `Instant` binds there).

    Example:
        >>> from datetime import timezone
        >>> _sqlite_text(datetime(2026, 1, 11, 18, 58, 53, tzinfo=timezone(timedelta(hours=1))))
        '2026-01-11 17:58:53.000000'
    """
    return ts.astimezone(UTC).strftime(_SQLITE_FORMAT)


def _token() -> str:
    # used only when the request is new; never a leading "-": `pbxlens missed cancel <token>`
    # would read it as an option (1 token in 64 did)
    return secrets.token_urlsafe(16).replace("-", "_")


def _upsert_staged(ops: sa.Engine, rows: list[tuple], now: datetime) -> None:
    """`rows`: (tenant, request_key, *DERIVED) with instants as SQLite's stored text."""
    stamp = _sqlite_text(now)
    with ops.connect() as conn:
        with ops_store.deferred(conn):  # the temporary table locks nothing
            conn.execute(sa.schema.CreateTable(_STAGE, if_not_exists=True))
            conn.execute(_STAGE.delete())
            # the driver's own executemany, in the transaction SQLAlchemy began: per row,
            # SQLAlchemy's parameter processing cost more than SQLite's insert
            conn.connection.driver_connection.executemany(
                _STAGE_INSERT, ((i, *r, _token(), stamp) for i, r in enumerate(rows)))
            conn.commit()
        # short turns only when request threads share the store (a server); alone, one
        # statement and one commit per fetch (a commit each 200 rows cost ~2 s per 1M calls)
        chunk = CHUNK if ops_store.is_shared(ops) else len(rows)
        for lo in range(0, len(rows), chunk):
            t0 = time.perf_counter()
            with conn.begin():
                conn.execute(_FROM_STAGE, {"lo": lo, "hi": lo + chunk - 1})
                conn.execute(_HOLD_STAGED, {"lo": lo, "hi": lo + chunk - 1})
            _yield_lock(ops, time.perf_counter() - t0)


def _remove_vanished(con: duckdb.DuckDBPyConnection, ops: sa.Engine, scope: str | None) -> int:
    """Requests of the scope that the reconciliation no longer has (a late call re-keyed them,
    a setting removed them): the anti-join runs in DuckDB over the operations store's keys."""
    R = T.requests
    q = sa.select(R.c.tenant, R.c.call_num, R.c.request_key)
    if scope is None:
        keys = _fetch_ops(ops, q)
    else:
        nums = con.execute(f"SELECT DISTINCT tenant, call_num FROM {scope}").fetchall()  # noqa: S608 -- names and SQL fragments from code; values bound
        keys = []
        for tenant in {t for t, _ in nums}:
            mine = [num for t, num in nums if t == tenant]
            # A batch that touched most of the tenant's numbers (a first load): all its keys in
            # one read. Keys outside the scope are harmless: the anti-join is against every
            # request of the analytics store.
            with T.reading(ops) as c:
                held = c.execute(sa.select(sa.func.count()).where(R.c.tenant == tenant)
                                 ).scalar_one()
            if held <= 2 * len(mine):
                keys += _fetch_ops(ops, q.where(R.c.tenant == tenant))
                continue
            for part in _chunks(mine, KEYS_CHUNK):
                keys += _fetch_ops(ops, q.where(R.c.tenant == tenant, R.c.call_num.in_(part)))
    if not keys:
        return 0
    ops_keys = _table({"tenant": [k[0] for k in keys],  # noqa: F841 (scanned by name)
                       "request_key": [k[2] for k in keys]})
    gone = con.execute("SELECT tenant, request_key FROM ops_keys "
                       "ANTI JOIN missed_requests USING (tenant, request_key)").fetchall()
    for part in _chunks(gone):
        with ops.begin() as c:
            c.execute(R.delete().where(R.c.tenant == sa.bindparam("t"),
                                       R.c.request_key == sa.bindparam("k")),
                      [{"t": t, "k": k} for t, k in part])
    return len(gone)


def _fetch_ops(ops: sa.Engine, query: sa.Select) -> list[tuple]:
    with T.reading(ops) as c:
        return [tuple(r) for r in c.execute(query)]


def _resolve_dials(con: duckdb.DuckDBPyConnection, ops: sa.Engine, scope: str | None,
                   now: datetime) -> None:
    """A click-to-call dial hides its request until the CDR shows an outbound call to the
    number that started after (or just before) it: such dials are done. Dials older than any
    timeout are pruned too. Only the numbers that have a dial are looked at: dials are few,
    the numbers a batch touched are many (one DELETE each cost seconds per 100k calls)."""
    D = T.dials
    with T.reading(ops) as c:
        vals = ms.load(c)
    oldest = now - timedelta(seconds=max(int(vals["dial_timeout_s"]), DIAL_GRACE_S) * 2)
    with ops.begin() as c:
        c.execute(D.delete().where(D.c.started_at < oldest))
    dialed = _fetch_ops(ops, sa.select(D.c.tenant, D.c.call_num).distinct())
    if not dialed:
        return
    dialed_nums = _table({"tenant": [d[0] for d in dialed],  # noqa: F841 (scanned by name)
                          "call_num": [d[1] for d in dialed]})
    last = con.execute(f"""SELECT x.tenant, x.call_num, max(x.start_ts) FROM missed_contacts x
        SEMI JOIN dialed_nums d ON d.tenant = x.tenant AND d.call_num = x.call_num
        {_scope_sql(scope, 'x')} WHERE x.kind = 'outbound' GROUP BY ALL""").fetchall()  # noqa: S608 -- names and SQL fragments from code; values bound
    done = [{"t": t, "n": num, "cut": ts + timedelta(seconds=DIAL_GRACE_S)} for t, num, ts in last]
    for part in _chunks(done):
        with ops.begin() as c:
            c.execute(D.delete().where(D.c.tenant == sa.bindparam("t"),
                                       D.c.call_num == sa.bindparam("n"),
                                       D.c.started_at <= sa.bindparam("cut", type_=D.c.started_at.type)),
                      part)


def push_operators(con: duckdb.DuckDBPyConnection, ops: sa.Engine) -> bool:
    """Copy the directory's extensions (DuckDB `operators`) when they changed; True if so."""
    want = {(t, e): n for t, e, n in con.execute(
        "SELECT tenant, extension, any_value(name) FROM operators GROUP BY ALL").fetchall()}
    table = T.operators
    with T.reading(ops) as c:
        have = {(t, e): n for t, e, n in c.execute(
            sa.select(table.c.tenant, table.c.extension, table.c.name))}
    if have == want:
        return False
    with ops.begin() as c:
        c.execute(table.delete())
        if want:
            c.execute(table.insert(), [{"tenant": t, "extension": e, "name": n}
                                   for (t, e), n in want.items()])
    return True


# ---------------------------------------------------------------------------- mirror
# The bookings the analytics store copies: those of the numbers with an open request, the only
# ones that can hold one (the reports join them to open requests). A booking is never deleted
# but by a cancel (one row per number ever booked), and the whole table was copied at every
# refresh, which every operator action queues: 0.8-12.8 s at 100,000 bookings.
_BK, _RQ = T.bookings, T.requests
_COPIED = sa.select(_BK).where(sa.exists().where(
    _RQ.c.tenant == _BK.c.tenant, _RQ.c.call_num == _BK.c.call_num, _RQ.c.state == "open"))
_BOOKING_COLUMNS = [c.name for c in _BK.columns]


def _copy_bookings(con: duckdb.DuckDBPyConnection, ops: sa.Engine, scope: str | None) -> None:
    """After a push: the bookings of the numbers it touched copied anew (a request it brought
    may be held by a booking made on the number's previous request, now closed, which the
    last copy left out); every copied booking when the push covered every number."""
    if scope is None:
        with T.reading(ops) as c:
            rows = [dict(r) for r in c.execute(_COPIED).mappings()]
        con.execute("BEGIN TRANSACTION")
        try:
            _replace(con, "missed_bookings", rows, _BOOKING_COLUMNS)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return
    rows = []
    for (tenant,) in con.execute(f"SELECT DISTINCT tenant FROM {scope}").fetchall():  # noqa: S608 -- names and SQL fragments from code; values bound
        with T.reading(ops) as c:
            booked = c.execute(sa.select(sa.func.count()).where(_BK.c.tenant == tenant)
                               ).scalar_one()
        if not booked:
            continue
        mine = [n for (n,) in con.execute(f"SELECT DISTINCT call_num FROM {scope}"  # noqa: S608 -- names and SQL fragments from code; values bound
                                          " WHERE tenant = ?", [tenant]).fetchall()]
        if booked <= len(mine):  # fewer bookings than numbers (a first load): all of them
            rows += _fetch_ops(ops, sa.select(_BK).where(_BK.c.tenant == tenant))
            continue
        for part in _chunks(mine, KEYS_CHUNK):
            rows += _fetch_ops(ops, sa.select(_BK).where(_BK.c.tenant == tenant,
                                                          _BK.c.call_num.in_(part)))
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DELETE FROM missed_bookings b USING (SELECT DISTINCT tenant, call_num "  # noqa: S608 -- names and SQL fragments from code; values bound
                    f"FROM {scope}) s WHERE b.tenant = s.tenant AND b.call_num = s.call_num")
        if rows:
            data = _table({c: [r[i] for r in rows]  # noqa: F841 (scanned by name)
                           for i, c in enumerate(_BOOKING_COLUMNS)})
            names = ", ".join(_BOOKING_COLUMNS)
            con.execute(f"INSERT INTO missed_bookings ({names}) SELECT {names} FROM data d "  # noqa: S608 -- names and SQL fragments from code; values bound
                        f"SEMI JOIN {scope} s ON s.tenant = d.tenant AND s.call_num = d.call_num")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def mirror(con: duckdb.DuckDBPyConnection, ops: sa.Engine) -> list[tuple[str, str]]:
    """Copy the bookings that can hold a request, the flushes and the settings into the
    analytics store (one DuckDB transaction) and reconcile the numbers of the flushes it did
    not have yet; returns those numbers."""
    F, S = T.flushes, T.settings
    n_duck, max_duck = con.execute("SELECT count(*), max(id) FROM missed_flushes").fetchone()
    with T.reading(ops) as c:
        settings_rows = [dict(r) for r in c.execute(sa.select(S)).mappings()]
        booking_rows = [dict(r) for r in c.execute(_COPIED).mappings()]
        n_ops, max_ops = c.execute(sa.select(sa.func.count(), sa.func.max(F.c.id))).one()
        flush_rows = ([dict(r) for r in c.execute(sa.select(F)).mappings()]
                      if (n_ops, max_ops) != (n_duck, max_duck) else [])  # never deleted
    new_flushes: list[dict] = []
    if flush_rows:
        have = {i for (i,) in con.execute("SELECT id FROM missed_flushes").fetchall()}
        new_flushes = [f for f in flush_rows if f["id"] not in have]
    con.execute("BEGIN TRANSACTION")
    try:
        _replace(con, "missed_settings", settings_rows, [c.name for c in S.columns])
        _replace(con, "missed_bookings", booking_rows, _BOOKING_COLUMNS)
        _append(con, "missed_flushes", new_flushes, [c.name for c in F.columns])
        nums = sorted({(f["tenant"], f["call_num"]) for f in new_flushes})
        if nums:
            reconcile.rebuild_numbers(con, nums)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return nums


def _table(columns: dict[str, list]) -> pa.Table:
    """An Arrow table for DuckDB to scan by its variable's name. pyarrow (with numpy, about
    0.25 s) is imported here, not with the module: every command imports this one."""
    import pyarrow as pa

    return pa.table(columns)


def _arrow(rows: list[dict], columns: list[str]) -> pa.Table:
    return _table({c: [r[c] for r in rows] for c in columns})


def _replace(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict],
             columns: list[str]) -> None:
    con.execute(f"DELETE FROM {table}")  # our own table names, never values  # noqa: S608 -- names and SQL fragments from code; values bound
    _append(con, table, rows, columns)


def _append(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict],
            columns: list[str]) -> None:
    if not rows:
        return
    data = _arrow(rows, columns)  # noqa: F841 (scanned by name below)
    names = ", ".join(columns)
    con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM data")  # noqa: S608 -- names and SQL fragments from code; values bound


def prepare(con: duckdb.DuckDBPyConnection, ops: sa.Engine) -> None:
    """Before a job that reconciles (an ingest): the copies current, so that it counts with
    the settings and flushes of now. An unreachable operations store only delays that (the
    push keeps flushed requests closed, the next refresh copies)."""
    try:
        mirror(con, ops)
    except (sa.exc.DBAPIError, ops_store.OpsUnavailable) as exc:
        log.warning("missed calls: copies not refreshed before the job (%s)", exc)


def refresh(con: duckdb.DuckDBPyConnection, ops: sa.Engine) -> dict[str, Any]:
    """The writer job after operator actions: copies, flushed numbers reconciled, pushed."""
    flushed = mirror(con, ops)
    return {"flushed_numbers": len(flushed), **push(con, ops)}


def full(con: duckdb.DuckDBPyConnection, ops: sa.Engine, *, rebuild: bool) -> dict[str, Any]:
    """Copies, then (`rebuild`) every request rebuilt from the facts, then a full push."""
    mirror(con, ops)
    out: dict[str, Any] = {}
    if rebuild:
        con.execute("BEGIN TRANSACTION")
        try:
            out = reconcile.rebuild_all(con)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    con.execute(f"DELETE FROM {reconcile.touched_table(con)}")  # the resync covers them  # noqa: S608 -- names and SQL fragments from code; values bound
    return {**out, **resync(con, ops)}


# ------------------------------------------------------------------- as writer jobs
class _Refresher:
    """One pending refresh job at most per process: actions in a burst share it."""

    def __init__(self, stores: Stores) -> None:
        self.stores = weakref.proxy(stores)
        self.lock = threading.Lock()
        self.pending = False

    def request(self) -> None:
        if not self.stores.writer.threaded:  # the CLI alone: copies current when it ends
            self.stores.writer.run("missed-refresh", "missed calls: copies", self._run,
                                   record=False)
            return
        with self.lock:
            if self.pending:
                return
            self.pending = True
        timer = threading.Timer(DEBOUNCE_S, self._submit)
        timer.daemon = True
        timer.start()

    def _submit(self) -> None:
        with contextlib.suppress(ReferenceError):  # the stores were closed meanwhile
            self.stores.writer.submit("missed-refresh", "missed calls: copies", self._run,
                                      record=False)

    def _run(self, ctx: JobContext) -> dict[str, Any]:
        with self.lock:  # changes from now on need another job
            self.pending = False
        return refresh(ctx.con, ctx.ops)


_refreshers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_refreshers_lock = threading.Lock()


def after_change(stores: Stores) -> None:
    """An action changed bookings, flushes or settings: refresh the copies soon. A process
    without the analytics writer (an intake process) leaves it to the server's `watch`."""
    if stores.writer is None:
        return
    with _refreshers_lock:
        r = _refreshers.get(stores)
        if r is None:
            r = _refreshers[stores] = _Refresher(stores)
    r.request()


def watch(stores: Stores, stop: threading.Event, interval_s: float = WATCH_S) -> None:
    """In the server, while other processes act on requests (the intake processes serve the
    callback API): refresh the copies when the actions' history grew. Every action writes
    one history row in its transaction, so its newest id is the one thing to poll."""
    H = T.history
    seen: list[int | None] = []

    def one_pass() -> None:
        with T.reading(stores.ops) as c:
            newest = c.execute(sa.select(sa.func.max(H.c.id))).scalar()
        if seen and newest != seen[0]:
            after_change(stores)
        seen[:] = [newest]

    start_loop("pbxlens-missed-watch", one_pass, stop, threading.Event(), interval_s, log)


def rebuild(stores: Stores, created_by: str | None = None) -> Job:
    """A writer job that rebuilds every request (a setting changed which calls count)."""
    return stores.writer.submit("missed-rebuild", "missed calls: rebuild every request",
                                lambda ctx: full(ctx.con, ctx.ops, rebuild=True),
                                created_by=created_by)


def start(stores: Stores) -> Job:
    """At server start: copies current and every request pushed (a process that stopped
    between an ingest and its push left some behind)."""
    return stores.writer.submit("missed-sync", "missed calls: synchronize the stores",
                                lambda ctx: full(ctx.con, ctx.ops, rebuild=False))


def ensure(stores: Stores) -> None:
    """Before the CLI reads the operations store: a store that was never synchronized (an
    upgrade from the one-store version) is synchronized now."""
    with T.reading(stores.ops) as c:
        done = ops_store.meta_get(c, MARK)
    if not done:
        stores.writer.run("missed-sync", "missed calls: synchronize the stores",
                          lambda ctx: full(ctx.con, ctx.ops, rebuild=False), created_by="cli")
