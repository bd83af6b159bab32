"""The upgrade from the one-store version: its DuckDB file held the rows people edit (users,
sessions, widgets, settings, callback bookings and history, tickets and trace). On the first
start of this version they are copied into the operations store, in one transaction marked in
`ops_meta`, just before the DuckDB migration that drops them (`0014_operations_store.sql`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb
import sqlalchemy as sa

from pbxlens.store import ops, schema

DROP_VERSION = 14
MARK = "legacy_duckdb_copied"
# Tables whose rows the operations store seeds itself: the copy replaces the seed.
SEEDED = ("ticket_counters", "ticket_areas", "ticket_priorities", "ticket_types",
          "ticket_subscriptions", "ticket_notify_options")
TABLES = (schema.users, schema.sessions, schema.login_failures, schema.widgets,
          schema.settings, schema.missed_bookings, schema.missed_flushes, schema.missed_dials,
          schema.missed_history, schema.missed_settings, schema.ticket_companies,
          schema.ticket_contacts, schema.ticket_phones, schema.ticket_areas, schema.ticket_types,
          schema.ticket_types_by_company, schema.ticket_priorities, schema.ticket_counters,
          schema.ticket_users, schema.ticket_user_areas, schema.tickets, schema.ticket_tags,
          schema.ticket_links, schema.ticket_calls, schema.ticket_shares, schema.ticket_unread,
          schema.ticket_attachments, schema.ticket_tracking, schema.ticket_messages,
          schema.ticket_subscriptions, schema.ticket_notify_options,
          schema.ticket_notify_blacklist, schema.ticket_outbox, schema.trace_records,
          schema.trace_blacklist)


def before_migration(con: duckdb.DuckDBPyConnection, version: int, engine: sa.Engine) -> None:
    """Hook of `analytics.connect`: copy the legacy rows before migration DROP_VERSION."""
    if version == DROP_VERSION:
        copy(con, engine)


def _rows(con: duckdb.DuckDBPyConnection, table: sa.Table, present: set[str]) -> list[dict]:
    cols = [c.name for c in table.columns if c.name in present]
    quoted = ", ".join(f'"{c}"' for c in cols)  # names from our own schema, not from input
    res = con.execute(f'SELECT {quoted} FROM "{table.name}"')  # noqa: S608 -- names from our own schema; values are bound
    out = []
    for r in res.fetchall():
        row = dict(zip(cols, r, strict=True))
        for c in table.columns:
            v = row.get(c.name)
            if isinstance(c.type, sa.JSON) and isinstance(v, str):
                row[c.name] = json.loads(v)
            elif isinstance(v, datetime) and v.tzinfo is None:
                row[c.name] = v.replace(tzinfo=UTC)
        out.append(row)
    return out


def copy(con: duckdb.DuckDBPyConnection, engine: sa.Engine) -> dict[str, int]:
    """Copy every legacy table that exists in `con` into the operations store, once."""
    existing = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        " AND table_type = 'BASE TABLE'").fetchall()}
    copied: dict[str, int] = {}
    with engine.begin() as c:
        if ops.meta_get(c, MARK):
            return copied
        for table in TABLES:
            if table.name not in existing:
                continue
            present = {r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                [table.name]).fetchall()}
            rows = _rows(con, table, present)
            if table.name in SEEDED:
                c.execute(table.delete())
            if rows:
                c.execute(table.insert(), rows)
            copied[table.name] = len(rows)
        if c.dialect.name == "postgresql":
            _reset_sequences(c)
        ops.meta_set(c, MARK, datetime.now(UTC).isoformat())
    return copied


def _reset_sequences(c: sa.Connection) -> None:
    """Explicit ids were copied: move each identity sequence past the largest one."""
    for table in TABLES:
        if "id" in table.c and table.c.id.autoincrement is True:
            c.execute(sa.text("SELECT setval(pg_get_serial_sequence(:t, 'id'),"  # noqa: S608 -- names from our own schema; values are bound
                              " coalesce(max(id), 0) + 1, false) FROM " + table.name),
                      {"t": table.name})
