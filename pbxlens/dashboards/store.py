"""The server's store: the one DuckDB connection of the process (design.md "Store and
processes"), a cursor per request, a lock around writes, and a SQLAlchemy engine over the same
database for the operational tables people edit (users, widgets)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import sqlalchemy as sa
from sqlalchemy.pool import QueuePool

from pbxlens import db


class Store:
    """Owns the process's DuckDB connection. Readers take `cursor()`; writers `writing()`."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = db.resolve_path(path)
        self.con = db.connect(self.path)
        self.tz = db._tz()
        self.write_lock = threading.RLock()
        self.engine = sa.create_engine(
            "duckdb://", creator=self._sa_connection, poolclass=QueuePool, pool_size=4,
            max_overflow=8)

    def _new_cursor(self) -> duckdb.DuckDBPyConnection:
        cur = self.con.cursor()
        cur.execute(f"SET TimeZone = '{self.tz}'")  # TimeZone is per connection
        return cur

    def _sa_connection(self):
        from duckdb_engine import ConnectionWrapper

        return ConnectionWrapper(self._new_cursor())

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for one request (reads)."""
        cur = self._new_cursor()
        try:
            yield cur
        finally:
            cur.close()

    @contextmanager
    def writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor under the process's write lock (ingest, settings)."""
        with self.write_lock, self.cursor() as cur:
            yield cur

    @contextmanager
    def sa_write(self) -> Iterator[sa.Connection]:
        """A SQLAlchemy transaction under the write lock (users, sessions, widgets)."""
        with self.write_lock, self.engine.begin() as conn:
            yield conn

    @contextmanager
    def sa_read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn:
            yield conn

    def close(self) -> None:
        self.engine.dispose()
        self.con.close()
