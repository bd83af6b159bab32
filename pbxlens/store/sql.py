"""The one place where a value becomes SQL text.

Values are bound wherever the statement takes parameters. A few DuckDB statements take none
(`ATTACH`, `EXPORT/IMPORT DATABASE`, `COPY ... TO`, a view over `read_parquet`), and a lake's
manifest names tables, columns and types that become SQL: those go through these functions,
which are tested against hostile strings (quotes, NUL, comments, statement separators).

Example:
    >>> literal("it's")
    "'it''s'"
    >>> identifier('a"b')
    '"a""b"'
    >>> type_name("DECIMAL(18, 4)")
    'DECIMAL(18, 4)'
"""

from __future__ import annotations

import re
from pathlib import Path

from pbxlens import PbxlensError


class UnsafeSqlValue(PbxlensError):
    """A value that cannot be written into SQL text safely."""


def literal(value: str | Path) -> str:
    """A SQL string literal: quotes doubled (DuckDB has no backslash escapes in '...')."""
    text = value.as_posix() if isinstance(value, Path) else str(value)
    if "\x00" in text:
        raise UnsafeSqlValue("a NUL character cannot be part of a SQL string")
    return "'" + text.replace("'", "''") + "'"


def identifier(name: str) -> str:
    """A quoted SQL identifier (table or column name)."""
    if not name or "\x00" in name:
        raise UnsafeSqlValue(f"not a usable SQL name: {name!r}")
    return '"' + name.replace('"', '""') + '"'


# A DuckDB type as DuckDB spells it in a table description: a name of words, an optional
# (precision, scale), optional [] list suffixes; STRUCT/MAP/UNION are not lake column types.
_TYPE = re.compile(r"[A-Z][A-Z0-9_]*( [A-Z][A-Z0-9_]*)*(\(\d{1,3}(, ?\d{1,3})?\))?(\[\d*\])*")


def type_name(ty: str) -> str:
    """A column type read from a file (a lake manifest), checked against DuckDB's spelling."""
    if not isinstance(ty, str) or not _TYPE.fullmatch(ty):
        raise UnsafeSqlValue(f"not a column type: {ty!r}")
    return ty
