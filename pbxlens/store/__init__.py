"""The two stores of pbxlens, below every domain package (design.md "Store and processes").

- The **analytics store** (`analytics`): the DuckDB file of loaded and derived facts. One
  writer (`writer.AnalyticsWriter`), any number of reading cursors.
- The **operations store** (`ops`, `schema`): SQLAlchemy Core over SQLite in WAL mode (default,
  beside the DuckDB file) or PostgreSQL (`PBXLENS_OPS_URL`), migrated by Alembic: users,
  sessions, settings, widgets, callback requests and bookings, tickets, the webhook inbox, live
  state, the writer's job list.

`Stores` holds both for one process; `users`, `roles` and `privacy` sit beside it so that
domain packages never reach up into the web app for them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import sqlalchemy as sa

from pbxlens import PbxlensError
from pbxlens.store import analytics, legacy, ops
from pbxlens.store.writer import AnalyticsWriter


class Stores:
    """Both stores of one process: the DuckDB connection (cursors for readers, the writer for
    changes) and the operations engine."""

    def __init__(self, db: str | Path | None = None, ops_url: str | None = None, *,
                 threaded_writer: bool = False, read_only: bool = False) -> None:
        self.path = analytics.resolve_path(db)
        self.ops_url = ops.resolve_url(self.path, ops_url)
        if str(self.path) == ":memory:" and self.ops_url == ops.default_url(self.path):
            raise PbxlensError("an in-memory analytics store needs an explicit operations URL")
        self.ops = ops.create_engine(self.ops_url)
        try:
            ops.upgrade(self.ops)
            if not read_only:
                ops.check_writable(self.ops)
            self.con = analytics.connect(
                self.path, read_only=read_only,
                before_migration=lambda con, version: legacy.before_migration(con, version,
                                                                              self.ops))
        except BaseException:
            self.ops.dispose()
            raise
        self.tz = analytics.timezone()
        self.writer = AnalyticsWriter(self, threaded=threaded_writer)

    # ------------------------------------------------------------- analytics (DuckDB)
    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DuckDB cursor for one request or command (reads; writes go through `writer`)."""
        cur = analytics.cursor(self.con)
        try:
            yield cur
        finally:
            cur.close()

    def writing(self):
        """`writer.exclusive()`: a cursor while no writer job runs (tests and tools)."""
        return self.writer.exclusive()

    # ---------------------------------------------------------- operations (SQLAlchemy)
    @contextmanager
    def ops_read(self) -> Iterator[sa.Connection]:
        """A read-only transaction (on SQLite it neither takes nor waits for the write lock:
        it was a BEGIN IMMEDIATE, so every API request's token check queued with the
        bookings)."""
        with ops.reading(self.ops) as conn:
            yield conn

    @contextmanager
    def ops_write(self) -> Iterator[sa.Connection]:
        """One short transaction (committed on exit, rolled back on an exception)."""
        with ops.unavailable_as_error(self.ops), self.ops.begin() as conn:
            yield conn

    def close(self) -> None:
        self.writer.stop()
        self.ops.dispose()
        self.con.close()

    def __enter__(self) -> Stores:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class OpsOnly:
    """The operations store alone, as `Stores` offers it, for a process that holds no DuckDB
    (the intake processes serving webhooks and the operators' callback API). It has no
    analytics writer: the server that owns the DuckDB file notices their changes itself
    (`missed_calls.sync.watch`). The server migrated the store before starting them."""

    writer = None

    def __init__(self, ops_url: str) -> None:
        self.ops_url = ops_url
        self.ops = ops.create_engine(ops_url)
        self.tz = analytics.timezone()

    ops_read = Stores.ops_read
    ops_write = Stores.ops_write

    def close(self) -> None:
        self.ops.dispose()
