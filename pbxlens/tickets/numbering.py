"""Record numbers: TICK-0126, CHM-IN-0001, CHM-OUT-0001 (nexus_modules.md B.2, B.11): prefix
and a sequence zero-padded to 4 digits (more digits past 9999).

A number is taken by `UPDATE ticket_counters ... RETURNING` (SQLite >= 3.35, PostgreSQL) inside
the transaction that inserts the record, so a rolled-back record gives its number back and the
numbers stay consecutive. Concurrent takers never both read one value: on SQLite the
transaction holds the write lock from its start (BEGIN IMMEDIATE), on PostgreSQL the UPDATE's
row lock makes the next taker wait for the commit and then see the new value (READ COMMITTED
re-reads the row: no serialization failure, so no retry). The number columns are UNIQUE too, so
two records can never hold one number even if a counter is reset by hand."""

from __future__ import annotations

import re

import sqlalchemy as sa

from pbxlens.tickets import TicketError
from pbxlens.tickets import schema as S

COUNTERS = ("TICK", "CHM-IN", "CHM-OUT")
_NUMBER = re.compile(r"^(TICK|CHM-IN|CHM-OUT)-(\d+)$")


def format_number(counter: str, value: int) -> str:
    """
    Example:
        >>> format_number("TICK", 126), format_number("CHM-OUT", 12345)
        ('TICK-0126', 'CHM-OUT-12345')
    """
    return f"{counter}-{value:04d}"


def parse(number: str) -> tuple[str, int]:
    m = _NUMBER.match((number or "").strip().upper())
    if not m:
        raise TicketError(f"not a record number (TICK-NNNN, CHM-IN-NNNN, CHM-OUT-NNNN): {number!r}")
    return m.group(1), int(m.group(2))


def take(conn: sa.Connection, counter: str) -> str:
    """The next number of `counter`, reserved in the caller's transaction."""
    if counter not in COUNTERS:
        raise TicketError(f"unknown counter {counter!r}")
    c = S.counters.c
    value = conn.execute(
        sa.update(S.counters).where(c.name == counter).values(value=c.value + 1).returning(c.value)
    ).scalar_one()
    return format_number(counter, value)


def bump_to(conn: sa.Connection, counter: str, value: int) -> None:
    """Make sure the next number of `counter` is above `value` (imports with explicit numbers,
    or "the latest number is TICK-0125")."""
    c = S.counters.c
    conn.execute(sa.update(S.counters).where(c.name == counter, c.value < value).values(value=value))


def current(conn: sa.Connection, counter: str) -> int:
    return conn.execute(sa.select(S.counters.c.value).where(S.counters.c.name == counter)).scalar_one()
