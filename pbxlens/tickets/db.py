"""Transactions of the module: the store's write lock, and a retry when another transaction
touched the same rows first (DuckDB reports a write-write conflict where PostgreSQL would wait on
a row lock), so that concurrent editors never see a spurious failure and numbers stay unique."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import sqlalchemy as sa

from pbxlens.store import Stores

R = TypeVar("R")
ATTEMPTS = 40


def now() -> datetime:
    return datetime.now(UTC)


def is_conflict(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "conflict" in text or "could not serialize" in text or "deadlock" in text


def write(store: Stores, fn: Callable[[sa.Connection], R], *, lock: bool = True) -> R:
    """Run `fn(conn)` in one transaction (under the store's write lock unless `lock` is
    False) and commit; retry the whole transaction on a write conflict."""
    for attempt in range(ATTEMPTS):
        try:
            if lock:
                with store.ops_write() as conn:
                    return fn(conn)
            with store.ops.begin() as conn:
                return fn(conn)
        except sa.exc.DBAPIError as exc:
            if not is_conflict(exc) or attempt == ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0, 0.01 * (attempt + 1)))  # jitter: contenders spread out
    raise AssertionError("unreachable")


def read(store: Stores, fn: Callable[[sa.Connection], R]) -> R:
    with store.ops_read() as conn:
        return fn(conn)
