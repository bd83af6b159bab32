"""Hourly rollups of the derived tables, kept after each ingest and used automatically.

A rollup sums one derived table per hour and per every column reports group or filter on
(`dims`); its measures hold sums and `n` the number of rows summed. `route()` looks at a
report query as a syntax tree (sqlglot) and, when the rollup can answer it with the same
result, reads the rollup instead of the raw table. That holds for a SELECT over the raw table
when, in that SELECT:

- it aggregates (GROUP BY or aggregate functions), with no window function and no `*`;
- every column of the raw table it reads is a dimension, or a measure inside `sum(...)`;
- `count(*)` becomes `sum(n)`; `min`/`max`/`count(DISTINCT)` over dimensions stay; any other
  aggregate (or `sum` of an expression, or of a joined table's column) keeps the raw table;
- a row-level threshold on a measure matches one of the rollup's precomputed flags with the
  same threshold (queue SLA: `asa_s <= T` and `wait_s >= S`, T and S from the settings the
  rollup was built with, kept in rollup_meta).

Joins are fine when they only read dimensions (the joined row multiplies raw and rolled-up
rows alike). Anything else (a source/destination filter on the caller, a per-row listing)
reads the raw table, so results are identical either way; tests compare both paths.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import duckdb
from sqlglot import exp

from pbxlens.config import get_settings
from pbxlens.scale import sqltext


@dataclass(frozen=True)
class Rollup:
    raw: str
    table: str
    dims: tuple[str, ...]
    sums: tuple[str, ...]
    # flag column -> (measure, comparison, settings key): flag = measure <cmp> setting
    flags: dict[str, tuple[str, type, str]] = field(default_factory=dict)


# In preference order: a query is answered by the FIRST rollup of its raw table that can
# (the coarser ones come first: fewer dimensions, fewer rows).
ROLLUPS: list[Rollup] = [
    Rollup("call_facts", "call_facts_hourly",
           ("tenant", "day", "hr", "dow", "direction", "status", "account_code", "gateway_name"),
           ("dur_s", "wait_s", "talk_s")),
    Rollup("queue_visits", "queue_visits_hourly",
           ("tenant", "day", "hr", "dow", "status", "qkey", "queue_id", "queue_name",
            "empty_queue", "exit_cause", "block", "answered"),
           ("queuing_s", "resp_s", "talk_s", "tot_s", "dur_s", "wait_s", "asa_s"),
           {"sl_fast": ("asa_s", exp.LTE, "service_level_s"),
            "sa_long": ("wait_s", exp.GTE, "short_abandon_s")}),
    # per operator only (no call status, direction or queue): R14/R15 without those filters
    Rollup("agent_legs", "agent_legs_op_hourly",
           ("tenant", "day", "hr", "dow", "kind", "extension", "op_name", "account",
            "exit_cause", "block", "answered", "dir_block"),
           ("ring_s", "resp_s", "talk_s", "worked_s")),
    Rollup("agent_legs", "agent_legs_hourly",
           ("tenant", "day", "hr", "dow", "kind", "status", "direction", "extension", "op_name",
            "account", "qkey", "queue_id", "queue_name", "exit_cause", "block", "answered",
            "dir_block"),
           ("ring_s", "resp_s", "talk_s", "worked_s")),
]
RAW = frozenset(r.raw for r in ROLLUPS)

_SQL_OP = {exp.LTE: "<=", exp.GTE: ">=", exp.LT: "<", exp.GT: ">"}
_enabled: contextvars.ContextVar[bool] = contextvars.ContextVar("rollups", default=True)


@contextmanager
def disabled() -> Iterator[None]:
    """Read the raw tables only (tests and benchmarks compare both paths)."""
    tok = _enabled.set(False)
    try:
        yield
    finally:
        _enabled.reset(tok)


# ----------------------------------------------------------------------------- maintenance


def _thresholds() -> dict[str, int]:
    st = get_settings()
    return {"service_level_s": int(st.service_level_s),
            "short_abandon_s": int(st.short_abandon_s)}


def _insert_sql(r: Rollup, where: str) -> tuple[str, list]:
    th = _thresholds()
    flags, args = [], []
    for name, (measure, cmp, key) in r.flags.items():
        flags.append(f"{measure} {_SQL_OP[cmp]} ? AS {name}")
        args.append(th[key])
    sel = ", ".join([*r.dims, *flags, "count(*) AS n", *(f"sum({m}) AS {m}" for m in r.sums)])
    group = ", ".join([*r.dims, *r.flags])
    cols = ", ".join([*r.dims, *r.flags, "n", *r.sums])
    return (f"INSERT INTO {r.table} ({cols}) SELECT {sel} FROM {r.raw} {where} GROUP BY {group}",  # noqa: S608 -- names and SQL fragments from code; values bound
            args)


def _meta_ok(con: duckdb.DuckDBPyConnection, r: Rollup) -> bool:
    row = con.execute("SELECT service_level_s, short_abandon_s FROM rollup_meta WHERE name = ?",
                      [r.table]).fetchone()
    if row is None:
        return False
    th = _thresholds()
    return not r.flags or (row[0] == th["service_level_s"] and row[1] == th["short_abandon_s"])


def rebuild(con: duckdb.DuckDBPyConnection, only: Rollup | None = None) -> None:
    """Recompute every rollup from the derived tables (and record the thresholds used)."""
    th = _thresholds()
    for r in [only] if only else ROLLUPS:
        con.execute(f"DELETE FROM {r.table}")  # noqa: S608 -- names and SQL fragments from code; values bound
        sql, args = _insert_sql(r, "")
        con.execute(sql, args)
        con.execute("DELETE FROM rollup_meta WHERE name = ?", [r.table])
        con.execute("INSERT INTO rollup_meta (name, service_level_s, short_abandon_s) "
                    "VALUES (?, ?, ?)", [r.table, th["service_level_s"], th["short_abandon_s"]])


def refresh(con: duckdb.DuckDBPyConnection, batch_ids: int | Sequence[int]) -> None:
    """After the derive step: recompute the rollup rows of every (tenant, day) these batches
    touched: the days of their calls and the days the calls they replaced held. Incremental;
    a rollup never built, or built with other thresholds, is rebuilt whole."""
    ids = [batch_ids] if isinstance(batch_ids, int) else batch_ids
    lo, hi = min(ids), max(ids)
    con.execute("""CREATE OR REPLACE TEMP TABLE _rollup_days AS
        SELECT DISTINCT tenant, CAST(start_local AS DATE) AS day FROM calls
        WHERE batch_id BETWEEN $lo AND $hi
        UNION SELECT tenant, old_day FROM replaced_calls WHERE batch_id BETWEEN $lo AND $hi""",
                {"lo": lo, "hi": hi})
    first, last = con.execute("SELECT min(day), max(day) FROM _rollup_days").fetchone()
    # the day range lets zone maps skip the rest of the history; the semi join picks the days
    days = {"first": first, "last": last}
    for r in ROLLUPS:
        if not _meta_ok(con, r):
            rebuild(con, r)
            continue
        con.execute(f"DELETE FROM {r.table} d USING _rollup_days k WHERE d.tenant = k.tenant"  # noqa: S608 -- names and SQL fragments from code; values bound
                    " AND d.day = k.day AND d.day BETWEEN $first AND $last", days)
        sql, args = _insert_sql(r, f"SEMI JOIN _rollup_days k ON {r.raw}.tenant = k.tenant "
                                   f"AND {r.raw}.day = k.day "
                                   f"WHERE {r.raw}.day BETWEEN ? AND ?")
        con.execute(sql, [*args, first, last])
    con.execute("DROP TABLE IF EXISTS _rollup_days")


# ----------------------------------------------------------------------------- routing


def _tables(con) -> set[str]:
    names = ["rollup_meta", *(r.table for r in ROLLUPS)]
    has = getattr(con, "has_table", None)
    if has is not None:
        return {n for n in names if has(n)}
    rows = con.execute("SELECT table_name FROM information_schema.tables WHERE table_name IN ("  # noqa: S608 -- names and SQL fragments from code; values bound
                       + ", ".join("?" for _ in names) + ")", names).fetchall()
    return {r[0] for r in rows}


def _built(con) -> dict[str, tuple[int, int]]:
    have = _tables(con)
    if "rollup_meta" not in have:
        return {}
    rows = con.execute("SELECT name, service_level_s, short_abandon_s FROM rollup_meta"
                       ).fetchall()
    return {n: (a, b) for n, a, b in rows if n in have}


def route(con, sql: str, args) -> tuple[str, list]:
    """The query on rollups when they answer it identically, else the query as given."""
    if not _enabled.get() or not getattr(get_settings(), "rollups", True):
        return sql, args
    low = sql.lower()
    if not any(raw in low for raw in RAW):
        return sql, args
    built = _built(con)
    if not built:
        return sql, args
    try:
        tree, params = sqltext.parse(sql, args)
    except Exception:  # not parseable by sqlglot: run it as written
        return sql, args
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    hits = [t for t in tree.find_all(exp.Table) if t.name in RAW and t.name not in ctes]
    if not hits:
        return sql, args
    for t in hits:
        for r in (r for r in ROLLUPS if r.raw == t.name and r.table in built):
            sl, sa = built[r.table]
            if _rewrite(t, r, params, {"service_level_s": sl, "short_abandon_s": sa}):
                break  # _rewrite changes the tree only when it succeeds
        else:
            return sql, args
    return sqltext.render(tree, params, "duckdb")


def _scope_of(node: exp.Expression) -> exp.Expression | None:
    return node.find_ancestor(exp.Select)


def _rewrite(tbl: exp.Table, r: Rollup, params: dict, th: dict) -> bool:
    sel = tbl.parent_select
    if sel is None or _scope_of(tbl) is not sel:
        return False
    alias = tbl.alias_or_name
    joins = sel.args.get("joins") or []
    aliases = {e.alias for e in sel.expressions if isinstance(e, exp.Alias)}
    aggs = [a for a in sel.find_all(exp.AggFunc) if _scope_of(a) is sel]
    if not aggs and not sel.args.get("group"):
        return False
    if any(_scope_of(w) is sel for w in sel.find_all(exp.Window)):
        return False
    if any(isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
           for e in sel.expressions):
        return False
    edits: list[tuple[exp.Expression, exp.Expression]] = []
    for a in aggs:
        if isinstance(a, exp.Count):
            arg = a.this
            if isinstance(arg, exp.Star):
                edits.append((a, exp.Sum(this=exp.column("n", table=alias))))
            elif not isinstance(arg, exp.Distinct):
                return False
        elif isinstance(a, exp.Sum):
            arg = a.this
            if not (isinstance(arg, exp.Column) and (arg.table in ("", alias))
                    and arg.name in r.sums and (arg.table or not joins)):
                return False
        elif not isinstance(a, (exp.Max, exp.Min, exp.AnyValue)):
            return False
    for c in [c for c in sel.find_all(exp.Column) if _scope_of(c) is sel]:
        if isinstance(c.this, exp.Star):
            return False
        q = c.table
        if q and q != alias:
            continue
        if not q and (c.name in aliases and c.name not in r.dims):
            continue
        if not q and joins:
            return False
        if c.name in r.dims:
            continue
        if c.name in r.sums and isinstance(c.parent, exp.Sum):
            continue
        flag = _flag(c, r, params, th)
        if flag is None:
            return False
        edits.append((c.parent, exp.column(flag, table=alias)))
    for old, new in edits:
        old.replace(new)
    tbl.set("this", exp.to_identifier(r.table))
    if not tbl.alias:
        tbl.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
    return True


def _flag(c: exp.Column, r: Rollup, params: dict, th: dict) -> str | None:
    parent = c.parent
    for name, (measure, cmp, key) in r.flags.items():
        if (c.name == measure and isinstance(parent, cmp) and parent.this is c
                and isinstance(parent.expression, exp.Placeholder)
                and params.get(parent.expression.name) == th[key]):
            return name
    return None
