"""Batch ids in flight: taken from `ingest_batch_seq`, their batch not yet committed.

The writer's two lanes load batches at the same time (a file in the main lane, an inbox move
in the inbox lane), and a sequence hands ids out in the order batches start, not in the order
they commit. The post-batch steps remember the last batch they went through: had they passed
a committed batch while a lower id was still uncommitted, that lower batch would never be
processed (its events never agent activity, its routing requests never callbacks). So a run
of the steps stops below the lowest id in flight (`bounded`). One process writes a DuckDB file
(the writer), so a registry in memory is enough.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import duckdb

_lock = threading.Lock()
_in_flight: set[int] = set()


def take(con: duckdb.DuckDBPyConnection) -> int:
    """A new batch id, in flight until `done` (call it after the batch's COMMIT or ROLLBACK)."""
    with _lock:  # taken and registered together: no run of the steps sees one without the other
        batch_id = con.execute("SELECT nextval('ingest_batch_seq')").fetchone()[0]
        _in_flight.add(batch_id)
    return batch_id


def done(batch_id: int | None) -> None:
    """The batch is committed or rolled back (idempotent)."""
    if batch_id is not None:
        with _lock:
            _in_flight.discard(batch_id)


@contextmanager
def snapshot() -> Iterator[Callable[[int], int]]:
    """Hold while a run of the steps opens its transaction and reads the last batch: yields
    `bounded(hi)`, the last batch it may go through. No id is taken meanwhile, and an id not
    in flight any more was committed (or rolled back) before, so the transaction sees it."""
    with _lock:
        low = min(_in_flight, default=None)
        yield lambda hi: hi if low is None else min(hi, low - 1)
