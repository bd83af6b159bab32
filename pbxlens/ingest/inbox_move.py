"""The inbox move: webhook rows committed to the operations store (`pbxlens.ingest.inbox`) go
into DuckDB, as a job of the analytics writer's `inbox` lane, at least once a second while rows
are pending.

One move, one DuckDB transaction: the pending inbox rows (by id, above the watermark) become
`pbx_events`, `dynamic_routing_requests` and `feedback_requests` in one set-based statement per
table (the payloads unnested by DuckDB from an Arrow table; ON CONFLICT DO NOTHING on the
natural keys, so a resent event is stored once), rejected bodies go to `quarantine`, with the
batch's `ingest_batches` row and the new watermark (the highest inbox id moved,
`inbox_watermarks`). Only then is the watermark recorded in the operations store (one row,
`ops_meta.inbox_moved_upto`, which the backlog and the pruning read): a crash between the two
commits finds DuckDB's watermark already past the rows, records it, and moves nothing twice.

What the new rows imply (agent activity facts, missed-call reconciliation) is the post-batch
pipeline's (`pbxlens.pipeline`): one `main`-lane job (`follow_up`) runs the steps the moved
batches are pending in, and `pipeline_steps` records how far each got, so a server killed in
between runs them after its restart.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow as pa
import sqlalchemy as sa

from pbxlens.ingest import batch_ids, inbox, live_calls
from pbxlens.store import ops, schema

log = logging.getLogger("pbxlens.inbox")
MOVE_LIMIT = 5_000           # inbox rows per move ...
MOVE_EVENTS = 100_000        # ... and rows of them (a body holds up to 10,000): bounded memory
MIN_GAP_S = 0.2              # between two moves under constant load: more rows per move
INTERVAL_S = 0.5             # a move at least this often (intake processes' commits too)
PRUNE_EVERY_S = 60.0
# Follow-ups (the post-batch steps over the moved batches) at most this often: each costs a
# few DuckDB transactions whatever it carries, and moves come up to five times a second.
FOLLOW_UP_EVERY_S = 1.0
STORE_ID_KEY = "inbox_store_id"

_EVENT_JSON = ('[{"pbx_serial": "VARCHAR", "event_key": "VARCHAR", "event_id": "BIGINT", '
               '"event_name": "VARCHAR", "severity": "SMALLINT", "event_ts": "TIMESTAMPTZ", '
               '"tenant": "VARCHAR", "unique_id": "VARCHAR", "params": "VARCHAR"}]')
_DR_COLS = ("tenant", "unique_id", "caller", "called", "servicecode", "param1", "param2",
            "param3", "param4", "param5", "raw")
_FB_COLS = ("tenant", "unique_id", "grp", "body_sha256", "caller", "called", "param1", "param2",
            "param3", "param4", "param5", "rating", "raw")


def _struct(cols: tuple[str, ...], types: dict[str, str] | None = None) -> str:
    types = types or {}
    return "[{" + ", ".join(f'"{c}": "{types.get(c, "VARCHAR")}"' for c in cols) + "}]"


# Each target: (source, table, natural key, columns, JSON structure of a payload row)
TARGETS = (
    ("events", "pbx_events", ("pbx_serial", "event_key"),
     ("pbx_serial", "event_key", "event_id", "event_name", "severity", "event_ts", "tenant",
      "unique_id", "params"), _EVENT_JSON),
    ("dynamic_routing", "dynamic_routing_requests", ("tenant", "unique_id"), _DR_COLS,
     _struct(_DR_COLS)),
    ("feedback", "feedback_requests", ("tenant", "unique_id", "grp", "body_sha256"), _FB_COLS,
     _struct(_FB_COLS, {"rating": "SMALLINT"})),
)
# What a row's content can make DuckDB raise; anything else (a write conflict, I/O) is retried
# by the next move instead of quarantining good rows.
POISON = (duckdb.ConversionException, duckdb.InvalidInputException, duckdb.ConstraintException)
_INBOX_SCHEMA = pa.schema([("id", pa.int64()), ("source", pa.string()),
                           ("received_at", pa.timestamp("us", tz="UTC")),
                           ("remote_addr", pa.string()), ("payload", pa.string()),
                           ("reason", pa.string()), ("rows", pa.int64())])


# ------------------------------------------------------------------------------ the move
_store_ids: dict[str, str] = {}


def store_id(engine: sa.Engine) -> str:
    """The operations store's random id (made once): a watermark belongs to one store, so a
    switch to a new store (SQLite -> PostgreSQL) starts from id 0 instead of skipping rows."""
    known = _store_ids.get(str(engine.url))
    if known is not None:
        return known
    with engine.begin() as conn:
        sid = ops.meta_get(conn, STORE_ID_KEY)
        if sid is None:
            ops.insert_ignoring(conn, schema.ops_meta,
                                {"key": STORE_ID_KEY, "value": uuid.uuid4().hex}, ["key"])
            sid = ops.meta_get(conn, STORE_ID_KEY)
    _store_ids[str(engine.url)] = sid
    return sid


def watermark(con: duckdb.DuckDBPyConnection, sid: str) -> int:
    row = con.execute("SELECT last_id FROM inbox_watermarks WHERE ops_store = ?", [sid]).fetchone()
    return int(row[0]) if row else 0


def _pending(engine: sa.Engine, after: int, limit: int) -> pa.Table:
    """The next inbox rows above `after`: at most `limit`, and no more than MOVE_EVENTS rows
    of theirs (the sizes are read first, the payloads only up to that cut)."""
    t = schema.event_inbox
    with ops.reading(engine) as conn:  # on SQLite a deferred BEGIN: no write turn for reads
        sizes = conn.execute(sa.select(t.c.id, t.c.rows).where(t.c.id > after)
                             .order_by(t.c.id).limit(limit)).all()
        if not sizes:
            rows = []
        else:
            upto, total = sizes[0][0], 0
            for ident, n in sizes:
                if total and total + n > MOVE_EVENTS:
                    break
                upto, total = ident, total + n
            rows = conn.execute(
                sa.select(t.c.id, t.c.source, t.c.received_at, t.c.remote_addr, t.c.payload,
                          t.c.reason, t.c.rows).where(t.c.id > after, t.c.id <= upto).order_by(t.c.id)
            ).all()
    cols = list(zip(*rows, strict=True)) if rows else [[] for _ in _INBOX_SCHEMA]
    return pa.table(dict(zip(_INBOX_SCHEMA.names, cols, strict=True)), schema=_INBOX_SCHEMA)


def move(con: duckdb.DuckDBPyConnection, engine: sa.Engine, limit: int = MOVE_LIMIT) -> dict:
    """Move the pending inbox rows into DuckDB (see the module's doc). `con` is the writer's
    cursor. Returns what it did: inbox rows, rows loaded per table, the batch id."""
    sid = store_id(engine)
    last = watermark(con, sid)
    inbox = _pending(engine, last, limit)
    result = {"inbox_rows": inbox.num_rows, "batch_id": None, "followups": False,
              "full": inbox.num_rows >= limit}
    if inbox.num_rows:
        try:
            result |= _load(con, inbox, sid)
        except duckdb.Error as exc:  # a row DuckDB refuses must not stop the inbox
            result |= _load_apart(con, inbox, sid, exc)
        last = max(last, result["last_id"])
    _mark_moved(engine, last)
    return result


def _load_apart(con: duckdb.DuckDBPyConnection, inbox: pa.Table, sid: str,
                first_error: duckdb.Error) -> dict:
    """The page failed as a whole: move its rows one by one and quarantine, with DuckDB's
    reason, the ones it refuses (an error path; the usual move is one statement per table)."""
    log.warning("inbox move: %s; moving the rows one by one", str(first_error).splitlines()[0])
    out: dict = {"pbx_events": 0, "dynamic_routing_requests": 0, "feedback_requests": 0,
                 "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0, "followups": False}
    for i in range(inbox.num_rows):
        one = inbox.slice(i, 1)
        try:
            res = _load(con, one, sid)
        except POISON as exc:  # not a conflict or an I/O error: this row's content
            reason = f"not stored: {str(exc).splitlines()[0]}"
            one = one.set_column(one.schema.get_field_index("reason"), "reason",
                                 pa.array([reason[:2000]], pa.string()))
            res = _load(con, one, sid)
        for k in out:
            out[k] = (out[k] or res.get(k)) if k == "followups" else out[k] + res.get(k, 0)
        out["batch_id"], out["last_id"] = res["batch_id"], res["last_id"]
    return out


def _load(con: duckdb.DuckDBPyConnection, inbox: pa.Table, sid: str) -> dict:
    now = datetime.now(UTC)
    con.execute("BEGIN TRANSACTION")
    batch_id = None
    try:
        con.register("inbox_rows", inbox)
        batch_id = batch_ids.take(con)
        read = loaded = 0
        out: dict = {"batch_id": batch_id}
        for source, table, key, cols, struct in TARGETS:
            n_read, n_new = _insert(con, source, table, key, cols, struct, batch_id)
            read, loaded = read + n_read, loaded + n_new
            out[table] = n_new
        quarantined = con.execute(
            "INSERT INTO quarantine (batch_id, source, line, record, raw, reason)"
            " SELECT ?, 'webhook:' || source, NULL, NULL, payload, reason FROM inbox_rows"
            " WHERE reason IS NOT NULL", [batch_id]).fetchone()[0]
        lo, hi = con.execute("SELECT min(id), max(id) FROM inbox_rows").fetchone()
        con.execute(
            "INSERT INTO ingest_batches (batch_id, source, sha256, format, rows_read, rows_loaded,"
            " rows_duplicate, rows_quarantined, calls_loaded, started_at, finished_at)"
            " VALUES (?, 'event_inbox', ?, 'webhook_inbox', ?, ?, ?, ?, 0, ?, ?)",
            [batch_id, f"event_inbox:{lo}-{hi}", read + quarantined, loaded, read - loaded,
             quarantined, now, datetime.now(UTC)])
        con.execute("INSERT INTO inbox_watermarks VALUES (?, ?, ?) ON CONFLICT (ops_store)"
                    " DO UPDATE SET last_id = excluded.last_id, moved_at = excluded.moved_at",
                    [sid, hi, now])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        batch_ids.done(batch_id)
        con.unregister("inbox_rows")
    # every batch goes through the pipeline (a step with nothing to do in it only advances)
    return out | {"last_id": hi, "rows_read": read, "rows_loaded": loaded,
                  "rows_quarantined": quarantined, "followups": True}


def _insert(con: duckdb.DuckDBPyConnection, source: str, table: str, key: tuple[str, ...],
            cols: tuple[str, ...], struct: str, batch_id: int) -> tuple[int, int]:
    """One INSERT ... SELECT for one table: unnest the payloads of `source`, keep the first of
    each natural key (the lowest inbox id), skip keys already stored. (rows read, inserted)."""
    rows = ("SELECT i.id, i.received_at, i.remote_addr, unnest(from_json(i.payload, ?)) AS r"
            " FROM inbox_rows i WHERE i.source = ? AND i.reason IS NULL")
    # the intake counted each body's rows: no second parse of the payloads to count them
    read = con.execute("SELECT coalesce(sum(rows), 0) FROM inbox_rows WHERE source = ?"
                       " AND reason IS NULL", [source]).fetchone()[0]
    if not read:
        return 0, 0
    values = ", ".join(f"{c}::JSON" if c == "params" else c for c in cols)
    extra = ", remote_addr" if source != "events" else ""
    sql = (f"INSERT INTO {table} ({', '.join(cols)}, received_at{extra}, batch_id)"  # noqa: S608 -- names and SQL fragments from code; values bound
           f" SELECT {values}, received_at{extra}, ? FROM ("
           f"  SELECT id, received_at, remote_addr, unnest(r) FROM ({rows}))"
           f" QUALIFY row_number() OVER (PARTITION BY {', '.join(key)} ORDER BY id) = 1"
           " ON CONFLICT DO NOTHING")
    new = con.execute(sql, [batch_id, struct, source]).fetchone()[0]
    return int(read), int(new)


def _mark_moved(engine: sa.Engine, last: int) -> None:
    """Record the watermark in the operations store (`inbox_moved_upto`: one row, whatever
    the move's size; also catches up after a crash left it behind). A failure here loses
    nothing: the next move records it."""
    try:
        with ops.reading(engine) as conn:  # most moves find it recorded: no write turn then
            if last <= inbox.moved_upto(conn):
                return
        with engine.begin() as conn:
            if last > inbox.moved_upto(conn):
                ops.meta_set(conn, inbox.MOVED_KEY, str(last))
    except (sa.exc.DBAPIError, ops.OpsUnavailable) as exc:
        log.warning("could not record the inbox rows moved (next move will): %s", exc)


# ------------------------------------------------------------------------- follow-ups
def follow_up(con: duckdb.DuckDBPyConnection, ops: sa.Engine | None = None) -> dict:
    """Run the post-batch steps over the moved batches (a main-lane job; the reconcile step
    pushes the callback requests to `ops`). Returns how many batches the busiest step went
    through."""
    from pbxlens import pipeline

    runs = pipeline.run_pending(pipeline.StepContext(con, ops))
    return {"batches": max((r.batches for r in runs), default=0)}


def prune(engine: sa.Engine, now: datetime | None = None) -> dict:
    """Delete moved inbox rows past `inbox_retention_days`, and stale live calls. The newest
    inbox row is always kept, so that SQLite never hands out an id twice. What to delete is
    found in a read transaction, and the inbox's deletion is a range of ids: a scan of every
    row's receipt inside the write transaction held SQLite's write turn for each pass."""
    from pbxlens.config import get_settings

    s = get_settings()
    now = now or datetime.now(UTC)
    max_age = timedelta(hours=s.live_call_max_hours)
    t = schema.event_inbox
    with ops.reading(engine) as conn:
        newest = conn.execute(sa.select(sa.func.max(t.c.id))).scalar() or 0
        # every id below the first row received within the retention is past it
        young = conn.execute(sa.select(t.c.id).where(
            t.c.received_at >= now - timedelta(days=s.inbox_retention_days))
            .order_by(t.c.id).limit(1)).scalar()
        below = min(inbox.moved_upto(conn) + 1, newest, newest if young is None else young)
        old = conn.execute(sa.select(sa.literal(1)).where(t.c.id < below).limit(1)).first()
        stale = live_calls.stale(conn, now, max_age)
    if old is None and not stale:
        return {"inbox_rows": 0, "live_calls": 0}
    with engine.begin() as conn:
        gone = conn.execute(t.delete().where(t.c.id < below)).rowcount if old else 0
        calls = live_calls.prune(conn, now, max_age) if stale else 0
    return {"inbox_rows": gone, "live_calls": calls}


# ------------------------------------------------------------------------------ the mover
class Mover:
    """The thread that submits the moves to the writer's inbox lane: when a local commit kicks
    it (at most every MIN_GAP_S), right after a move that found rows (more are coming, maybe
    from other processes), and at least every INTERVAL_S; then the follow-up job to the main
    lane when a move recorded some, one at a time and at most every FOLLOW_UP_EVERY_S."""

    def __init__(self, stores) -> None:
        self.stores = stores
        self.moves = 0
        self.last_error: str | None = None
        self._kick = threading.Event()
        self._stop = threading.Event()
        self._followup = None
        self._followup_at = float("-inf")
        self._need_followup = True  # a previous run may have left some
        self._pruned = 0.0
        self._thread = threading.Thread(target=self._loop, name="pbxlens-inbox-mover",
                                        daemon=True)

    def start(self) -> Mover:
        self._thread.start()
        # Stopped before the interpreter ends: a daemon thread killed inside DuckDB aborts it.
        atexit.register(self.stop)
        return self

    def kick(self) -> None:
        self._kick.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._kick.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        if self._followup is not None:
            self._followup.done.wait(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._kick.wait(INTERVAL_S)
            if self._stop.is_set():
                return
            self._kick.clear()
            started = time.monotonic()
            full, moved = self._move_once()
            self._follow_up_if_due()
            self._safely(inbox.checkpoint, self.stores.ops)
            if started - self._pruned >= PRUNE_EVERY_S:
                self._pruned = started
                self._safely(prune, self.stores.ops)
            if full:
                self._kick.set()  # a backlog: go on at once
                continue
            self._stop.wait(max(0.0, MIN_GAP_S - (time.monotonic() - started)))
            if moved:
                # Rows came, so more are likely coming, from intake processes too, whose
                # commits kick no one here: waiting INTERVAL_S on top of a move made the
                # period move + 0.5 s and the lag p99 up to 2.7 s during an ingest.
                self._kick.set()

    def _move_once(self) -> tuple[bool, bool]:
        """One move: (a full page was moved, some rows were moved)."""
        ops_engine = self.stores.ops
        try:
            res = self.stores.writer.run("inbox", "inbox move",
                                         lambda ctx: move(ctx.con, ops_engine),
                                         lane="inbox", record=False)
        except Exception as exc:  # PostgreSQL down, ...: the rows wait in the inbox
            self._note(exc)
            return False, False
        self.moves += 1
        self.last_error = None
        self._need_followup |= bool(res.get("followups"))
        return bool(res.get("full")), bool(res.get("inbox_rows"))

    def _follow_up_if_due(self) -> None:
        if not self._need_followup:
            return
        if self._followup is not None and not self._followup.done.is_set():
            return  # the running one picks up what is recorded when it starts, or the next
        if time.monotonic() - self._followup_at < FOLLOW_UP_EVERY_S:
            return  # the loop comes back at least every INTERVAL_S
        self._followup_at = time.monotonic()
        self._need_followup = False
        self._followup = self.stores.writer.submit(
            "inbox", "webhook follow-up", lambda ctx: follow_up(ctx.con, ctx.ops), lane="main",
            record=False)

    def _safely(self, fn, *args) -> None:
        try:
            fn(*args)
        except Exception as exc:
            self._note(exc)

    def _note(self, exc: Exception) -> None:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if msg != self.last_error:
            log.warning("inbox move: %s", msg)
        self.last_error = msg

    def drain(self, timeout: float = 30.0) -> None:
        """Move until nothing is pending and run the follow-ups (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        ops_engine = self.stores.ops
        while time.monotonic() < deadline:
            res = self.stores.writer.run("inbox", "inbox move",
                                         lambda ctx: move(ctx.con, ops_engine),
                                         lane="inbox", record=False)
            if not res["inbox_rows"]:
                break
        self.stores.writer.run("inbox", "webhook follow-up",
                               lambda ctx: follow_up(ctx.con, ctx.ops), lane="main",
                               record=False)
