"""Drill-down: the calls behind a count cell of a report.

A report that supports it holds a `Facts` (catalog `Report.facts`): a query with one row per
fact of its grain (call, queue visit, operator leg, ...) over the same derived table, built by
the same filter functions (`Where`) as the report's own query, and carrying the columns the
report groups by (row and table keys) and its `block`. The report sums those facts per row
and block; a cell is a sum over some blocks of one row. So the list behind a cell is the facts
where the cell's table and row keys hold and the block is one the cell's column adds up:
the same predicate that built the cell (tests check count = cell on every report family).

A count cell is a `sum` column of unit `count`: its value is Σ of the column's field over those
facts (`n` = 1 per fact; an event counter such as the groups' COUNT CFWD sums a field, and the
list holds the facts where it is not 0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from pbxlens import PbxlensError
from pbxlens.reports import filters as flt
from pbxlens.reports.catalog import Group, Metric, Report, get
from pbxlens.reports.engine import expand_layout
from pbxlens.reports.scaffold import NO_ACCOUNT

MAX_EXPORT = 200_000  # rows of one export


class DrillError(PbxlensError):
    status = 400


@dataclass(frozen=True)
class Facts:
    """The facts of a report. `query(p, d_from, d_to)` -> (SQL, args): one row per fact with
    `tenant`, `unique_id`, `block`, the key columns, the count fields other than `n`; with
    `details="cdr"` also `leg_branch` (the list joins its call for start, numbers, status),
    with `details="own"` the columns `started` (local time), `caller`, `called`, `status` themselves.

    `table`: the fact column the table key equals (per-entity tables), or {table key:
    (column, value)} when a table holds only some facts, None when every table holds every
    fact; `row`: the fact column the row key equals,
    or {table key: column}; `accounts`: rows are operator -> account (keys `op` and
    `op\\x1faccount`, columns `op` and `account`); `extra`: (column, English, Italian, unit)
    shown in the list."""

    query: Callable[[flt.Params, date, date], tuple[str, list]]
    table: str | dict[str, tuple[str, str]] | None = None
    row: str | dict[str, str] | None = None
    accounts: bool = False
    details: str = "cdr"
    extra: tuple[tuple[str, str, str, str], ...] = ()
    order: str = "unique_id"  # a fact column: the list's order (after the call's start)


@dataclass
class Cell:
    """What a cell is: its report, table, row (None = the totals row) and column."""

    report: str
    table: str
    row: str | None
    column: str


@dataclass
class DrillResult:
    cell: Cell
    value: int            # the cell: Σ field over every fact of the list
    count: int            # facts in the list
    columns: list[dict]   # {"key", "label", "unit"}
    rows: list[dict]      # the first `limit` facts (order: start, unique id)
    truncated: bool
    rule: str = ""
    blocks: list[str] = field(default_factory=list)


def _conds(facts: Facts, cell: Cell) -> tuple[list[str], list]:
    """The table and row predicates of a cell, over the fact relation `f`."""
    parts: list[str] = []
    args: list = []

    def eq(col: str, value: str) -> None:
        if value in ("", NO_ACCOUNT):
            parts.append(f"coalesce(CAST(f.{col} AS VARCHAR), '') = ''")
        else:
            parts.append(f"CAST(f.{col} AS VARCHAR) = ?")
            args.append(value)

    if isinstance(facts.table, dict):
        if cell.table in facts.table:
            eq(*facts.table[cell.table])
    elif facts.table is not None:
        eq(facts.table, cell.table)
    if cell.row is not None:
        if facts.accounts:
            op, sep, acc = cell.row.partition("\x1f")
            eq("op", op)
            if sep:
                eq("account", acc)
        else:
            col = facts.row.get(cell.table) if isinstance(facts.row, dict) else facts.row
            if col is None:
                raise DrillError(f"no rows to drill into in table {cell.table!r}")
            eq(col, cell.row)
    return parts, args


def _column(defn: Report, present: list[str], key: str) -> tuple[Group, Metric]:
    for g in expand_layout(defn, set(present)):
        for m in g.metrics:
            if (f"{g.key}.{m.key}" if len(g.metrics) > 1 or m.key != g.key else g.key) == key:
                return g, m
    raise DrillError(f"{defn.id} has no column {key!r} here")


def is_count(m: Metric) -> bool:
    return m.kind == "sum" and m.unit == "count"


def _where(sql: str, conds: list[str]) -> str:
    return f"FROM ({sql}) f WHERE " + " AND ".join(["1 = 1", *conds])


def drill(con, report: str | Report, params: flt.Params, cell: Cell, *, limit: int = 500
          ) -> DrillResult:
    """The facts behind one count cell of `report` run with `params` (tenant scope included),
    the first `limit` of them with their call's details."""
    defn = get(report) if isinstance(report, str) else report
    facts: Facts | None = defn.facts
    if facts is None:
        raise DrillError(f"{defn.id} has no drill-down")
    flt.validate(params, defn)
    d_from, d_to = params.resolved()
    sql, args = facts.query(params, d_from, d_to)
    conds, cargs = _conds(facts, cell)
    # one pass: the facts of the cell's row per block (its column's blocks are among them)
    per_block = dict(con.execute(f"SELECT f.block, count(*) {_where(sql, conds)} GROUP BY 1",
                                 [*args, *cargs]).fetchall())
    try:
        g, m = _column(defn, list(per_block), cell.column)
    except DrillError:  # a block column of the table that this row does not hold
        table_conds, targs = _conds(facts, Cell(cell.report, cell.table, None, cell.column))
        present = [b for (b,) in con.execute(
            f"SELECT DISTINCT f.block {_where(sql, table_conds)}", [*args, *targs]).fetchall()]
        g, m = _column(defn, present, cell.column)
    if not is_count(m):
        raise DrillError(f"{cell.column} is not a count: only count cells open their calls")
    blocks = sorted(b for b in per_block if g.blocks(b) and (m.blocks is None or m.blocks(b)))
    if not blocks:
        return DrillResult(cell, 0, 0, _columns(facts, params.lang), [], False, m.doc, [])
    ph = ", ".join("?" for _ in blocks)
    conds = [*conds, f"f.block IN ({ph})"]
    if m.field != "n":
        conds.append(f"f.{m.field} <> 0")
    base = _where(sql, conds)
    all_args = [*args, *cargs, *blocks]
    if m.field == "n":
        count = value = sum(per_block[b] for b in blocks)
    else:
        count, value = con.execute(f"SELECT count(*), coalesce(sum(f.{m.field}), 0) {base}",
                                   all_args).fetchone()
    rows = _page(con, facts, base, all_args, limit, (d_from, d_to)) if limit else []
    return DrillResult(cell, int(value), int(count), _columns(facts, params.lang), rows,
                       count > len(rows), m.doc, blocks)


def _page(con, facts: Facts, base: str, args: list, limit: int, days: tuple[date, date]
          ) -> list[dict]:
    extra = "".join(f", f.{c}" for c, *_ in facts.extra)
    if facts.details == "cdr":  # the calls of the page, read within the range's days
        sql = f"""
WITH page AS MATERIALIZED (
  SELECT f.* {base} ORDER BY f.tenant, f.unique_id, f.leg_branch, f.{facts.order} LIMIT ?),
c AS (SELECT * FROM calls WHERE start_local >= CAST(? AS DATE)
      AND start_local < CAST(? AS DATE) + INTERVAL 1 DAY
      AND unique_id IN (SELECT unique_id FROM page))
SELECT f.unique_id, c.start_local AS started, c.caller, c.called, c.direction, c.status, f.block
  {extra}
FROM page f LEFT JOIN c ON c.tenant = f.tenant AND c.unique_id = f.unique_id
  AND c.leg_branch = f.leg_branch
ORDER BY started, f.unique_id, f.{facts.order}"""  # noqa: S608 -- names and SQL fragments from code; values bound
        args = [*args, limit, days[0].isoformat(), days[1].isoformat()]
    else:  # the facts carry their own details
        sql = f"""
SELECT f.unique_id, f.started, f.caller, f.called, NULL AS direction, f.status, f.block {extra}
{base} ORDER BY f.started, f.unique_id, f.{facts.order} LIMIT ?"""
        args = [*args, limit]
    cur = con.execute(sql, args)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


_BASE_COLUMNS = (
    ("unique_id", "call id", "id chiamata", "text"),
    ("started", "start", "inizio", "instant"),
    ("caller", "caller", "chiamante", "number"),
    ("called", "called", "chiamato", "number"),
    ("direction", "direction", "direzione", "text"),
    ("status", "status", "stato", "text"),
    ("block", "exit cause", "exit cause", "text"),
)


def _columns(facts: Facts, lang: str) -> list[dict]:
    return [{"key": k, "label": it if lang == "it" else en, "unit": unit}
            for k, en, it, unit in (*_BASE_COLUMNS, *facts.extra)]


def cell_value(con, report: str | Report, params: flt.Params, cell: Cell) -> int:
    """The cell recomputed from its facts (tests: it equals the report's cell)."""
    return drill(con, report, params, cell, limit=0).value


def export_rows(con, report: str | Report, params: flt.Params, cell: Cell) -> DrillResult:
    """Every fact of a cell (up to MAX_EXPORT) for a CSV or XLSX download."""
    return drill(con, report, params, cell, limit=MAX_EXPORT)
