"""Derived facts kept beside calls/call_legs, refreshed inside each batch's transaction."""

from __future__ import annotations

import duckdb


def refresh(con: duckdb.DuckDBPyConnection, batch_id: int) -> None:
    """Recompute the derived rows of the calls this batch inserted or replaced."""
