"""Alembic environment of the operations store: always run with a connection that
`pbxlens.store.ops.upgrade` hands over (no URL in an ini file: settings choose the database)."""

from __future__ import annotations

from alembic import context

from pbxlens.store.schema import meta

connection = context.config.attributes.get("connection")
if connection is None:  # `alembic` run by hand: pbxlens.store.ops.upgrade is the way in
    raise SystemExit("run migrations through pbxlens (pbxlens.store.ops.upgrade)")
context.configure(connection=connection, target_metadata=meta,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
