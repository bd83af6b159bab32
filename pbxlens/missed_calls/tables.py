"""SQLAlchemy Core mirrors of the operational missed-call tables (migration 0008): the tables
people edit go through SQLAlchemy (design.md "Store and processes")."""

from __future__ import annotations

import sqlalchemy as sa

meta = sa.MetaData()
TS = sa.DateTime(timezone=True)

bookings = sa.Table(
    "missed_bookings", meta,
    sa.Column("tenant", sa.Text, primary_key=True),
    sa.Column("call_num", sa.Text, primary_key=True),
    sa.Column("booked_by", sa.Text, nullable=False),
    sa.Column("extension", sa.Text),
    sa.Column("booked_at", TS, nullable=False),
    sa.Column("assigned_by", sa.Text),
)

flushes = sa.Table(
    "missed_flushes", meta,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("tenant", sa.Text, nullable=False),
    sa.Column("call_num", sa.Text, nullable=False),
    sa.Column("request_key", sa.Text, nullable=False),
    sa.Column("flushed_at", TS, nullable=False),
    sa.Column("flushed_by", sa.Text, nullable=False),
)

dials = sa.Table(
    "missed_dials", meta,
    sa.Column("tenant", sa.Text, nullable=False),
    sa.Column("call_num", sa.Text, nullable=False),
    sa.Column("started_at", TS, nullable=False),
    sa.Column("started_by", sa.Text, nullable=False),
    sa.Column("extension", sa.Text),
    sa.Column("call_uuid", sa.Text),
)

history = sa.Table(
    "missed_history", meta,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("tenant", sa.Text, nullable=False),
    sa.Column("call_num", sa.Text, nullable=False),
    sa.Column("request_key", sa.Text),
    sa.Column("at_ts", TS, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("detail", sa.Text),
)

settings = sa.Table(
    "missed_settings", meta,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
