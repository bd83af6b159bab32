"""Pieces shared by the report builds: block vocabularies, the metric factory, running a query,
summing its rows into facts, and the directory names of operators."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from pbxlens.reports.catalog import Metric, SummaryField, in_set
from pbxlens.reports.guard import checkpoint

# Exit-cause blocks in the spec's order (§0.5 rule 7): answered families, then unanswered
# alphabetically. Codes not listed follow alphabetically, `?` last.
ANSWERED_BLOCKS = ("NCC-AGENT", "NCC-CALLER", "NCC", "ANSWER", "TRANSFER", "TRASFERIMENTO")
UNANSWERED_ORDER = ("ANSWERED ELSEWHERE", "BUSY", "CANCELED", "CANCELED NOWAIT", "CFWD",
                    "CONGESTION", "FORWARD", "NOANSWER", "PICKUP", "QUEUE_JOINEMPTY", "REFUSED",
                    "TIMEOUT", "UNAVAILABLE")
BLOCK_ORDER = ANSWERED_BLOCKS + UNANSWERED_ORDER + ("?",)
is_answered = in_set(ANSWERED_BLOCKS)


def is_unanswered(b: str) -> bool:
    return b not in ANSWERED_BLOCKS


CAUSE_LABELS = {"?": ("?", "?"), "TRASFERIMENTO": ("TRANSFER (attended)", "TRASFERIMENTO")}

GREEN, RED, ORANGE = "#2e7d32", "#c62828", "#ef6c00"

Facts = dict[str, dict[str, float]]  # block -> field -> sum


def M(key: str, en: str, it: str, unit: str = "count", kind: str = "sum", field: str = "n",
      den: tuple[str, ...] = ("n",), doc: str = "", **kw) -> Metric:
    return Metric(key=key, en=en, it=it, unit=unit, kind=kind, field=field, den=den, doc=doc,
                  **kw)


QTY = M("n", "quantity", "quantità")


def tr(lang: str, en: str, it: str) -> str:
    """The English or Italian text of a build's label.

    Example:
        >>> tr("it", "By hour", "Per ora")
        'Per ora'
    """
    return it if lang == "it" else en


def days_between(d_from: date, d_to: date) -> list[date]:
    checkpoint()  # a long range is long Python work too
    return [d_from + timedelta(days=i) for i in range((d_to - d_from).days + 1)]


def fetch(con: duckdb.DuckDBPyConnection, sql: str, args: list) -> tuple[list[str], list[tuple]]:
    """Run a report query; the hourly rollups answer it when they can (pbxlens.scale.rollups),
    on whichever engine `con` is (a DuckDB connection, the lake, the Spark adapter)."""
    from pbxlens.scale import rollups

    sql, args = rollups.route(con, sql, args)
    cur = con.execute(sql, args)
    cols = [d[0] for d in cur.description]
    return cols, cur.fetchall()


def records(con: duckdb.DuckDBPyConnection, sql: str, args: list) -> list[dict]:
    """`fetch` as one dict per row."""
    cols, rows = fetch(con, sql, args)
    return [dict(zip(cols, r, strict=True)) for r in rows]


def gid_of(keys: tuple[str, ...], *present: str) -> int:
    """The GROUPING(keys) value of the grouping set made of `present`: a key's bit is 1 when
    the set rolls it up.

    Example:
        >>> gid_of(("qkey", "day", "dow"), "qkey", "day")
        1
    """
    g = 0
    for i, k in enumerate(keys):
        if k not in present:
            g |= 1 << (len(keys) - 1 - i)
    return g


class GroupingSets:
    """The rows of a GROUPING SETS query over `keys` (each with its `gid`), by grouping set."""

    def __init__(self, keys: tuple[str, ...], recs: list[dict]) -> None:
        self.keys = keys
        self.rows = recs
        self.by: dict[int, list[dict]] = {}
        for r in recs:
            self.by.setdefault(r["gid"], []).append(r)

    def of(self, *present: str) -> list[dict]:
        """The rows of the grouping set of the `present` keys."""
        return self.by.get(gid_of(self.keys, *present), [])

    def having(self, key: str) -> list[dict]:
        """The rows of every grouping set that keeps `key` (in query order)."""
        bit = 1 << (len(self.keys) - 1 - self.keys.index(key))
        return [r for r in self.rows if not r["gid"] & bit and r.get(key) is not None]


def put(facts: dict, row: str, block: str, rec: dict, fields: tuple[str, ...]) -> None:
    tgt = facts.setdefault(row, {}).setdefault(block, {})
    for f in fields:
        tgt[f] = tgt.get(f, 0) + int(rec[f] or 0)


def facts_by(recs: Iterable[dict], row: Callable[[dict], object], fields: tuple[str, ...]
             ) -> dict:
    """{row(rec): {block: {field: Σ}}} of the records."""
    out: dict = {}
    for r in recs:
        put(out, row(r), r["block"], r, fields)
    return out


def by_day(r: dict) -> str:
    return r["day"].isoformat()


def by_hour(r: dict) -> str:
    return str(r["hr"])


def all_blocks(facts: dict[str, Facts]) -> Facts:
    """The facts of every row summed per block (the data of a report's pie)."""
    out: Facts = {}
    for fs in facts.values():
        for b, v in fs.items():
            tgt = out.setdefault(b, {})
            for f, x in v.items():
                tgt[f] = tgt.get(f, 0) + x
    return out


def sec(a: str, b: str) -> str:
    """Whole seconds from instant a to instant b (portable: DATEDIFF in other dialects)."""
    return f"date_diff('second', {a}, {b})"


def operator_names(con, tenant: str | None) -> dict[str, str]:
    """extension -> name from the directory: of the report's tenant when it is scoped (web
    app); across tenants (CLI on a shared store) the alphabetically first tenant's name wins,
    so that every engine (DuckDB, Spark) prints the same label."""
    return dict(con.execute(
        "SELECT extension, name FROM operators WHERE tenant = coalesce(?, tenant)"
        " ORDER BY extension, tenant DESC", [tenant]).fetchall())


def operator_accounts(con, tenant: str | None) -> dict[str, list[str]]:
    """extension -> its SIP accounts (sorted, each once) from the directory, scoped like
    `operator_names`."""
    out: dict[str, list[str]] = {}
    for acc, ext in con.execute(
            "SELECT DISTINCT account, extension FROM accounts WHERE tenant = coalesce(?, tenant)"
            " ORDER BY account, extension", [tenant]).fetchall():
        out.setdefault(ext, []).append(acc)
    return out


def op_label(op: str, name: str | None) -> str:
    """An operator row's label.

    Example:
        >>> op_label("201", "Anna")
        '201 (Anna)'
    """
    return f"{op} ({name})" if name and name != op else op


@dataclass(frozen=True)
class Grouping:
    """The key columns a report's query groups by and the GROUPING SETS over them (each set
    also holds `block`)."""

    keys: tuple[str, ...]
    sets: str

    @property
    def columns(self) -> str:
        return ", ".join(self.keys)

    @property
    def gid(self) -> str:
        """The SQL of the grouping-set id (see `gid_of`)."""
        return "GROUPING(" + ", ".join(self.keys) + ")"


def add_filtered(con, labels: dict[str, str], values: list[str], table: str) -> None:
    """A filtered entity is shown even without data: the rows of the directory `table` whose
    id or name is a filter value join `labels` (id -> name)."""
    for v in values:
        if v not in labels and v not in labels.values():
            for k, name in con.execute(f"SELECT id, name FROM {table} WHERE id = ? OR name = ?",  # noqa: S608 -- names and SQL fragments from code; values bound
                                       [v, v]).fetchall():
                labels.setdefault(k, name or k)


# ----------------------------------------------------------------------------- header strips

SUMMARY_QTY = SummaryField("n", "quantity", "quantità", QTY)


def summary_total(key: str, en: str, it: str, field: str) -> SummaryField:
    """A header-strip duration: Σ field over the table."""
    return SummaryField(key, en, it, M(key, "", "", "duration", field=field))


def summary_avg(key: str, en: str, it: str, field: str) -> SummaryField:
    """A header-strip average: Σ field / the table quantity, floored."""
    return SummaryField(key, en, it, M(key, "", "", "duration", "avg", field))
