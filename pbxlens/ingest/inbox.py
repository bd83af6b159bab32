"""The durable webhook inbox: what the PBX posts is committed to the operations store
(`event_inbox`, SQLite or PostgreSQL) before it is acknowledged, and never waits on DuckDB.
The analytics writer moves it into DuckDB afterwards (`pbxlens.ingest.inbox_move`).

One committer thread per process batches the requests waiting at that moment into one
transaction (group commit): each request's parsed rows become one inbox row, the call events
among them update `live_calls` (`pbxlens.ingest.live_calls`) in the same transaction, and only
after the commit are the requests released, so every 2xx means "committed". A rejected body is
recorded the same way (rows = 0, with its reason) for the admin's quarantine view.

Inbox ids must become visible in id order (the move keeps a watermark, the highest id moved):
SQLite serializes writers by itself; on PostgreSQL, where several processes or nodes may
commit at once, each commit takes a transaction-scoped advisory lock first.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from pbxlens.ingest import live_calls
from pbxlens.store import ops, schema

log = logging.getLogger("pbxlens.inbox")
SOURCES = ("events", "dynamic_routing", "feedback")
INBOX_LOCK = 0x70627869  # "pbxi": the advisory lock that orders inbox commits on PostgreSQL
MAX_BATCH_ROWS = 5_000
COMMIT_TIMEOUT_S = 10.0


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
    calls: list[dict] = field(default_factory=list)  # the call events among the rows
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class Inbox:
    """The group committer of one process. `accept()` / `reject()` return once committed."""

    def __init__(self, engine: sa.Engine, on_commit: Callable[[], None] | None = None) -> None:
        self.engine = engine
        self.on_commit = on_commit
        self.commits = 0
        self._q: queue.Queue[Entry | None] = queue.Queue()
        self._pg = engine.dialect.name == "postgresql"
        self._conn: sa.Connection | None = None  # the committer's own: no pool round trip
        self._thread = threading.Thread(target=self._run, name="pbxlens-inbox-commit",
                                        daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ public
    def accept(self, source: str, rows: list[dict], remote_addr: str | None = None,
               timeout: float = COMMIT_TIMEOUT_S) -> None:
        """Commit `rows` (parsed rows of one body) to the inbox; raises `ops.OpsUnavailable`
        when the operations store cannot be written."""
        if source not in SOURCES:
            raise ValueError(f"unknown inbox source {source!r}")
        calls = ([r for r in rows if r["event_name"] in live_calls.TRACKED]
                 if source == "events" else [])
        self._submit(Entry(source, json.dumps(rows, default=_iso, ensure_ascii=False),
                           len(rows), remote_addr, calls=calls), timeout)

    def reject(self, source: str, raw: str, reason: str, remote_addr: str | None = None,
               timeout: float = COMMIT_TIMEOUT_S) -> None:
        """Record a refused body (its first 100,000 characters) with the reason."""
        self._submit(Entry(source, raw[:100_000], 0, remote_addr, reason=reason[:2000]), timeout)

    def close(self) -> None:
        self._q.put(None)
        self._thread.join(5)
        if self._conn is not None:
            self._conn.close()

    # ----------------------------------------------------------------- private
    def _submit(self, entry: Entry, timeout: float) -> None:
        self._q.put(entry)
        if not entry.done.wait(timeout):
            raise ops.OpsUnavailable(f"the operations store did not commit within {timeout:g} s")
        if entry.error is not None:
            raise entry.error

    def _run(self) -> None:
        while True:
            first = self._q.get()
            if first is None:
                return
            batch, n = [first], first.rows
            while n < MAX_BATCH_ROWS:
                try:
                    nxt = self._q.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._q.put(None)
                    break
                batch.append(nxt)
                n += nxt.rows
            self._commit_batch(batch)

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
                e.error = err
                e.done.set()
            return
        self.commits += 1
        for e in batch:
            e.done.set()
        if self.on_commit is not None:
            self.on_commit()

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
            self._commit_on(self._connection(), batch)
        except sa.exc.DBAPIError as exc:
            self._drop_connection()
            if not exc.connection_invalidated:
                raise
            self._commit_on(self._connection(), batch)  # a server restart: once more, afresh

    def _connection(self) -> sa.Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self.engine.connect()
        return self._conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()
                self._conn.close()
            except sa.exc.SQLAlchemyError:
                pass
            self._conn = None

    def _commit_on(self, conn: sa.Connection, batch: list[Entry]) -> None:
        now = datetime.now(UTC)
        with conn.begin():
            if self._pg:
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(INBOX_LOCK)))
            conn.execute(schema.event_inbox.insert(), [
                {"source": e.source, "received_at": now, "remote_addr": e.remote_addr,
                 "payload": e.payload, "rows": e.rows, "reason": e.reason} for e in batch])
            events = [ev for e in batch for ev in e.calls]
            if events:
                live_calls.apply(conn, events, now)


def backlog(engine: sa.Engine) -> dict:
    """Inbox rows not yet in DuckDB: how many, and how old the oldest is (seconds)."""
    t = schema.event_inbox
    with ops.unavailable_as_error(engine), engine.connect() as conn:
        n, oldest = conn.execute(sa.select(sa.func.count(), sa.func.min(t.c.received_at))
                                 .where(t.c.moved_at.is_(None))).one()
    if isinstance(oldest, str):  # SQLite's min() over the text column loses the type
        oldest = datetime.fromisoformat(oldest).replace(tzinfo=UTC)
    age = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
    return {"pending": int(n), "oldest_s": round(max(age, 0.0), 3)}
