"""The durable webhook inbox: what the PBX posts is committed to the operations store
(`event_inbox`, SQLite or PostgreSQL) before it is acknowledged, and never waits on DuckDB.
The analytics writer moves it into DuckDB afterwards (`pbxlens.ingest.inbox_move`).

One committer thread per process batches the requests waiting at that moment into one
transaction (group commit): each request's parsed rows become one inbox row, the call events
among them update `live_calls` (`pbxlens.ingest.live_calls`) and the queue and agent events the
live state (`pbxlens.live.state`) in the same transaction, and only
after the commit are the requests released, so every 2xx means "committed". A rejected body is
recorded the same way (rows = 0, with its reason) for the admin's quarantine view.

Inbox ids must become visible in id order (the move keeps a watermark, the highest id moved):
SQLite serializes writers by itself; on PostgreSQL, where several processes or nodes may
commit at once, each commit takes a transaction-scoped advisory lock first.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from pbxlens.ingest import live_calls
from pbxlens.live import state as live_state
from pbxlens.store import direct, ops, schema

log = logging.getLogger("pbxlens.inbox")
SOURCES = ("events", "dynamic_routing", "feedback")
INBOX_LOCK = 0x70627869  # "pbxi": the advisory lock that orders inbox commits on PostgreSQL
MAX_BATCH_ROWS = 5_000
LIVE_EVENTS = frozenset(live_calls.TRACKED) | live_state.TRACKED
COMMIT_TIMEOUT_S = 10.0
MOVED_KEY = "inbox_moved_upto"  # ops_meta: the highest inbox id known to be in DuckDB
# After these commits of a process, PostgreSQL's statistics of the tables each commit reads
# are made if autovacuum has not made them yet (`ops.analyze_unanalyzed`): a new store's
# tables fill faster than autovacuum's first pass comes.
ANALYZE_AFTER = (32, 256, 2048)
_INSERT = schema.event_inbox.insert()
LOOKED_UP = (schema.live_visits, schema.live_call_ends, schema.live_calls, schema.live_agents,
             schema.live_members)


def _iso(v: object) -> str:
    if isinstance(v, datetime):
        return v.isoformat()
    raise TypeError(f"cannot store {type(v).__name__} in the inbox")


@dataclass
class Entry:
    """One request's contribution: its rows (or a rejected body) and who waits for it."""

    source: str
    payload: str
    rows: int
    remote_addr: str | None = None
    reason: str | None = None
    calls: list[dict] = field(default_factory=list)  # the call and queue events among the rows
    done: bool = False
    turn: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class Inbox:
    """The group committer of one process. `accept()` / `reject()` return once committed.

    Leader/follower group commit, no thread of its own: a request that finds no commit under
    way commits itself, with whatever else is waiting; requests arriving meanwhile wait, and
    the first of them is handed the role for the next batch. At the usual load most requests
    lead their own commit, with no thread switch on the way (each one costs milliseconds on a
    busy machine)."""

    def __init__(self, engine: sa.Engine, on_commit: Callable[[], None] | None = None) -> None:
        self.engine = engine
        self.on_commit = on_commit
        self.commits = 0
        self._pg = engine.dialect.name == "postgresql"
        self._lock = threading.Lock()
        self._pending: list[Entry] = []
        self._busy = False  # a leader is committing
        self._conn: sa.Connection | None = None  # the leaders' connection: no pool round trip

    # ------------------------------------------------------------------ public
    def accept(self, source: str, rows: list[dict], remote_addr: str | None = None,
               timeout: float = COMMIT_TIMEOUT_S) -> None:
        """Commit `rows` (parsed rows of one body) to the inbox; raises `ops.OpsUnavailable`
        when the operations store cannot be written."""
        if source not in SOURCES:
            raise ValueError(f"unknown inbox source {source!r}")
        calls = ([r for r in rows if r["event_name"] in LIVE_EVENTS]
                 if source == "events" else [])
        self._submit(Entry(source, json.dumps(rows, default=_iso, ensure_ascii=False),
                           len(rows), remote_addr, calls=calls), timeout)

    def reject(self, source: str, raw: str, reason: str, remote_addr: str | None = None,
               timeout: float = COMMIT_TIMEOUT_S) -> None:
        """Record a refused body (its first 100,000 characters) with the reason."""
        self._submit(Entry(source, raw[:100_000], 0, remote_addr, reason=reason[:2000]), timeout)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # ----------------------------------------------------------------- private
    def _submit(self, entry: Entry, timeout: float) -> None:
        with self._lock:
            self._pending.append(entry)
            lead = not self._busy
            self._busy = True
        if not lead:
            self._follow(entry, timeout)
        if not entry.done:
            self._lead()
        if entry.error is not None:
            raise entry.error

    def _follow(self, entry: Entry, timeout: float) -> None:
        if entry.turn.wait(timeout):
            return
        with self._lock:  # still waiting after `timeout`: give up only if not yet taken
            if not entry.turn.is_set() and entry in self._pending:
                self._pending.remove(entry)
                raise ops.OpsUnavailable(
                    f"the operations store did not commit within {timeout:g} s")
        entry.turn.wait()  # in a batch being committed: its outcome comes soon

    def _lead(self) -> None:
        with self._lock:
            batch, n = [], 0
            while self._pending and (not batch or n + self._pending[0].rows <= MAX_BATCH_ROWS):
                e = self._pending.pop(0)
                batch.append(e)
                n += e.rows
        try:
            self._commit_batch(batch)
        finally:
            with self._lock:
                if self._pending:  # hand the role to the first one waiting
                    self._pending[0].turn.set()  # not done: it leads the next batch
                else:
                    self._busy = False

    def _commit_batch(self, batch: list[Entry]) -> None:
        try:
            self._commit(batch)
        except Exception as exc:
            if len(batch) > 1 and not (isinstance(exc, sa.exc.DBAPIError)
                                       and ops.is_unavailable(exc)):
                # one bad entry must not fail the others: commit each alone
                for e in batch:
                    self._commit_batch([e])
                return
            err = self._as_error(exc)
            for e in batch:
                e.error, e.done = err, True
                e.turn.set()
            return
        self.commits += 1
        for e in batch:
            e.done = True
            e.turn.set()
        if self.on_commit is not None:
            self.on_commit()
        if self._pg and self.commits in ANALYZE_AFTER:  # off the requests' path
            threading.Thread(target=self._analyze, name="pbxlens-inbox-analyze",
                             daemon=True).start()

    def _analyze(self) -> None:
        try:
            done = ops.analyze_unanalyzed(self.engine, LOOKED_UP)
        except sa.exc.SQLAlchemyError as exc:  # statistics only: autovacuum makes them later
            log.warning("could not analyze the live tables: %s", exc)
        else:
            if done:
                log.info("analyzed %s after %d commits", ", ".join(done), self.commits)

    def _as_error(self, exc: Exception) -> Exception:
        if isinstance(exc, sa.exc.DBAPIError) and ops.is_unavailable(exc):
            try:
                with ops.unavailable_as_error(self.engine):
                    raise exc
            except ops.OpsUnavailable as mapped:
                return mapped
        log.error("inbox commit failed: %r", exc)
        return exc

    def _commit(self, batch: list[Entry]) -> None:
        try:
            self._commit_live(batch)
        except sa.exc.DBAPIError as exc:
            self._drop_connection()
            if not exc.connection_invalidated:
                raise
            self._commit_live(batch)  # a server restart: once more, afresh

    def _commit_live(self, batch: list[Entry]) -> None:
        try:
            self._commit_on(self._connection(), batch)
        except _LiveStateFault as fault:
            # The wallboard loses these events (a rebuild restores them), the inbox never:
            # the same commit again, without the live state.
            log.error("live state: %d events not applied", fault.events, exc_info=fault.cause)
            self._commit_on(self._connection(), batch, live=False)

    def _connection(self) -> sa.Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self.engine.connect()
            if self.engine.dialect.name == "sqlite":
                # No WAL checkpoint (and its fsync) inside an acknowledgement: the mover runs
                # them (`checkpoint`), off the request path.
                self._conn.connection.driver_connection.execute("PRAGMA wal_autocheckpoint=0")
        return self._conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()
                self._conn.close()
            except sa.exc.SQLAlchemyError:
                pass
            self._conn = None

    def _commit_on(self, conn: sa.Connection, batch: list[Entry], live: bool = True) -> None:
        now = datetime.now(UTC)
        with conn.begin():
            if self._pg:
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(INBOX_LOCK)))
            direct.execute(conn, _INSERT, [
                {"source": e.source, "received_at": now, "remote_addr": e.remote_addr,
                 "payload": e.payload, "rows": e.rows, "reason": e.reason} for e in batch])
            events = [ev for e in batch for ev in e.calls]
            if events:
                if live:
                    _apply_live_state(conn, events, now)
                live_calls.apply(conn, events, now)


class _LiveStateFault(Exception):
    """The live state failed inside an inbox commit (the transaction is rolled back)."""

    def __init__(self, events: int, cause: BaseException) -> None:
        super().__init__(f"live state: {events} events not applied")
        self.events, self.cause = events, cause


def _apply_live_state(conn: sa.Connection, events: list[dict], now: datetime) -> None:
    """Queues and agents (pbxlens.live.state). No savepoint around it (two statements, a
    fifth of an acknowledgement's cost, on every commit): a fault rolls the whole commit
    back, and `_commit_live` commits it again without the live state."""
    try:
        live_state.apply(conn, events, now)
    except Exception as exc:
        if ops.is_unavailable(exc):  # the store, not the live state: the commit fails
            raise
        raise _LiveStateFault(len(events), exc) from exc


def checkpoint(engine: sa.Engine) -> None:
    """Copy SQLite's write-ahead log back into the database file (PASSIVE: never waits for
    writers); the intake's own connection leaves that to this call. No-op on PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()  # the driver's own: no transaction around the pragma
    try:
        raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    finally:
        raw.close()


def moved_upto(conn: sa.Connection) -> int:
    """The highest inbox id known to be in DuckDB (0: none); the mover records it."""
    return int(ops.meta_get(conn, MOVED_KEY) or 0)


def backlog(engine: sa.Engine) -> dict:
    """Inbox rows not yet in DuckDB: how many, and how old the oldest is (seconds)."""
    t = schema.event_inbox
    with ops.reading(engine) as conn:
        n, oldest = conn.execute(sa.select(sa.func.count(), sa.func.min(t.c.received_at))
                                 .where(t.c.id > moved_upto(conn))).one()
    if isinstance(oldest, str):  # SQLite's min() over the text column loses the type
        oldest = datetime.fromisoformat(oldest).replace(tzinfo=UTC)
    age = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
    return {"pending": int(n), "oldest_s": round(max(age, 0.0), 3)}
