"""SQLAlchemy Core statements compiled once per back-end and run on the driver's own cursor.

The intake acknowledges a webhook after a commit of about ten statements (the inbox row, the
live calls, the live state). `Connection.execute` spends 80-150 µs of Python per statement
around the driver's 10-20 µs (cache key, execution context, result wrapping, events): at a
thousand webhooks a second on two cores, most of the intake's CPU. Here a statement is
compiled once (with SQLAlchemy's compiler, so the SQL and the types' bind and result
processing are SQLAlchemy's own) and each execution is one driver call.

Only what is plain is run this way: no expanding IN list, no Python-side column default, no
RETURNING in an executemany. Anything else goes through `Connection.execute` as before.
Run inside the caller's transaction, which SQLAlchemy opened (`conn.begin()`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import dml

_MISSING = object()


@dataclass(frozen=True)
class Plan:
    sql: str
    positional: bool
    # per driver parameter: the bind's name, the driver's key, its value in the statement
    # (_MISSING: to be given), its bind processor
    binds: tuple[tuple[str, str, Any, Callable | None], ...]
    results: tuple[tuple[str, Callable | None], ...]  # () for statements without rows


def rows(conn: sa.Connection, stmt: sa.Executable, params: Mapping[str, Any] | None = None,
         *, planned_each_time: bool = False) -> list[dict]:
    """The rows of a SELECT (or of a statement with RETURNING, run once) as dicts: column name
    -> value, as SQLAlchemy would convert it.

    `planned_each_time`: PostgreSQL plans the statement for its values at every execution,
    never a prepared generic plan. psycopg prepares a statement run five times on a connection,
    and a generic plan made while a table was nearly empty stayed a sequential scan (10-35 ms
    per look-up at 30,000 live visits, against 0.2 ms by the index) until statistics came."""
    params = params or {}
    keys = tuple(sorted(params)) if isinstance(stmt, dml.UpdateBase) else None
    plan = None if _watched(conn) else _plan(conn.dialect, stmt, keys)
    if plan is None:
        return [dict(r) for r in conn.execute(stmt, dict(params)).mappings()]
    got = _run(conn, plan, _args(plan, params), many=False, fetch=True,
               unprepared=planned_each_time)
    res = plan.results
    return [{name: (proc(v) if proc is not None else v) for (name, proc), v in zip(res, r, strict=True)}
            for r in got]


def first(conn: sa.Connection, stmt: sa.Executable, params: Mapping[str, Any] | None = None
          ) -> dict | None:
    """The first row of `rows()`, or None."""
    got = rows(conn, stmt, params)
    return got[0] if got else None


def execute(conn: sa.Connection, stmt: sa.Executable,
            params: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> None:
    """Run an INSERT, UPDATE or DELETE once, or once per mapping (the driver's executemany;
    every mapping has the same keys)."""
    many = not isinstance(params, Mapping)
    if many and not params:
        return
    if many and len(params) == 1:  # as SQLAlchemy does: psycopg's executemany costs round trips
        params, many = params[0], False
    first = params[0] if many else params
    keys = tuple(sorted(first)) if isinstance(stmt, dml.UpdateBase) else None
    # Many rows into PostgreSQL: SQLAlchemy's "insertmanyvalues" sends them as one statement
    # (psycopg's executemany would run one per row: twice PostgreSQL's CPU per webhook).
    plan = (None if _watched(conn) or (many and _pg_insert(conn, stmt))
            else _plan(conn.dialect, stmt, keys))
    if plan is None or plan.results:  # rows to fetch: `rows()`, once
        conn.execute(stmt, list(params) if many else dict(params))
        return
    _run(conn, plan, [_args(plan, p) for p in params] if many else _args(plan, params),
         many=many, fetch=False)


def _run(conn: sa.Connection, plan: Plan, args: Any, *, many: bool, fetch: bool,
         unprepared: bool = False) -> list:
    cur = None
    try:
        cur = conn.connection.cursor()
        if many:
            cur.executemany(plan.sql, args)
        elif unprepared and conn.dialect.name == "postgresql":
            cur.execute(plan.sql, args, prepare=False)
        else:
            cur.execute(plan.sql, args)
        got = cur.fetchall() if fetch else []
        cur.close()
        return got
    except Exception as exc:
        # SQLAlchemy's own handling: the driver's error wrapped as `sa.exc.DBAPIError`, a lost
        # connection detected and invalidated (the inbox reconnects on `connection_invalidated`)
        conn._handle_dbapi_exception(exc, plan.sql, args, cur, None)
        raise  # not reached: the call above raises


def _args(plan: Plan, p: Mapping[str, Any]) -> tuple | dict:
    out = []
    for name, _key, static, proc in plan.binds:
        v = p.get(name, static)
        if v is _MISSING:
            raise KeyError(f"no value for the parameter {name!r}")
        out.append(proc(v) if proc is not None else v)
    if plan.positional:
        return tuple(out)
    return {key: v for (_n, key, _s, _p), v in zip(plan.binds, out, strict=True)}


def _pg_insert(conn: sa.Connection, stmt: sa.Executable) -> bool:
    return isinstance(stmt, dml.Insert) and conn.dialect.name == "postgresql"


def _watched(conn: sa.Connection) -> bool:
    """Statements are listened to (`before_cursor_execute`: tests, debugging) or echoed:
    SQLAlchemy runs them, so that whoever listens sees them. (One event checked: each check
    costs a microsecond, ten statements a commit.)"""
    return conn._echo or bool(conn.dispatch.before_cursor_execute)


@functools.lru_cache(maxsize=512)
def _plan(dialect: sa.Dialect, stmt: sa.Executable, keys: tuple[str, ...] | None
          ) -> Plan | None:
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys) if keys else None)
    if (compiled.insert_prefetch or compiled.update_prefetch
            or compiled.literal_execute_params or compiled.post_compile_params
            or any(b.expanding or b.callable is not None for b in compiled.binds.values())):
        return None
    procs = compiled._bind_processors
    escaped = compiled.escaped_bind_names or {}
    names = (list(compiled.positiontup) if compiled.positional
             else list(dict.fromkeys(compiled.bind_names.values())))
    binds = []
    for name in names:
        b = compiled.binds[name]
        static = _MISSING if b.required else b.value
        binds.append((name, escaped.get(name, name), static, procs.get(name)))
    results = tuple((rc.keyname, rc.type._cached_result_processor(dialect, None))
                    for rc in compiled._result_columns)
    return Plan(compiled.string, compiled.positional, tuple(binds), results)
