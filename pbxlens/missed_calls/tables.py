"""The missed-call tables of the operations store (`pbxlens.store.schema`), under the short
names this package uses, and a read-only transaction for the lists."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from pbxlens.store import ops
from pbxlens.store import schema as S

requests = S.callback_requests
bookings = S.missed_bookings
flushes = S.missed_flushes
dials = S.missed_dials
history = S.missed_history
settings = S.missed_settings
operators = S.missed_operators
live_calls = S.live_calls
users = S.users


@contextmanager
def reading(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A read-only transaction. On SQLite a deferred BEGIN, so that lists and copies never
    queue behind the write lock nor hold it (WAL readers see the last commit); the pooled
    connection gets its usual BEGIN IMMEDIATE back afterwards."""
    with ops.unavailable_as_error(engine), engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.info["write"] = False
        try:
            yield conn
        finally:
            if sqlite:
                conn.rollback()  # end the read before the connection goes back to the pool
                conn.info["write"] = True
