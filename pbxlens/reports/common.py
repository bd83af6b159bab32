"""Pieces shared by the family engines: block vocabularies, metric factories, row slots,
chart builders and the fact-fetching helper."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb

from pbxlens.reports import format as fmt
from pbxlens.reports.catalog import Metric, in_set

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


def M(key: str, en: str, it: str, unit: str = "count", kind: str = "sum", field: str = "n",
      den: tuple[str, ...] = ("n",), doc: str = "", **kw) -> Metric:
    return Metric(key=key, en=en, it=it, unit=unit, kind=kind, field=field, den=den, doc=doc,
                  **kw)


QTY = M("n", "quantity", "quantità")


def days_between(d_from: date, d_to: date) -> list[date]:
    return [d_from + timedelta(days=i) for i in range((d_to - d_from).days + 1)]


def fetch(con: duckdb.DuckDBPyConnection, sql: str, args: list) -> tuple[list[str], list[tuple]]:
    """Run a report query; the hourly rollups answer it when they can (pbxlens.scale.rollups),
    on whichever engine `con` is (a DuckDB connection, the lake, the Spark adapter)."""
    from pbxlens.scale import rollups

    sql, args = rollups.route(con, sql, args)
    cur = con.execute(sql, args)
    cols = [d[0] for d in cur.description]
    return cols, cur.fetchall()


def put(facts: dict, row: str, block: str, rec: dict, fields: tuple[str, ...]) -> None:
    tgt = facts.setdefault(row, {}).setdefault(block, {})
    for f in fields:
        tgt[f] = tgt.get(f, 0) + int(rec[f] or 0)


def slot_chart(cid: str, title: str, x: list[str], by_slot: dict, slots: list,
               field: str = "n") -> dict:
    """total / answered / unanswered series over slots from {slot: {block: {field: v}}}."""
    def ser(pred):
        return [int(sum(fs.get(field, 0) for b, fs in by_slot.get(s, {}).items() if pred(b)))
                for s in slots]
    return {"id": cid, "title": title, "type": "combo", "x": x, "series": [
        {"key": "total", "label": "total", "color": ORANGE, "kind": "column",
         "data": ser(lambda b: True)},
        {"key": "answered", "label": "answered", "color": GREEN, "kind": "line",
         "data": ser(is_answered)},
        {"key": "unanswered", "label": "unanswered", "color": RED, "kind": "line",
         "data": ser(is_unanswered)},
    ]}


def pie(cid: str, title: str, facts_by_block: dict) -> dict:
    a = int(sum(fs.get("n", 0) for b, fs in facts_by_block.items() if is_answered(b)))
    u = int(sum(fs.get("n", 0) for b, fs in facts_by_block.items() if not is_answered(b)))
    return {"id": cid, "title": title, "type": "pie", "x": ["answered", "unanswered"],
            "series": [{"key": "n", "label": "quantity", "colors": [GREEN, RED],
                        "data": [a, u]}]}


def weekday_x(lang: str) -> list[str]:
    return [fmt.weekday_label(i, lang) for i in range(7)]


def hour_x() -> list[str]:
    return [fmt.hour_label(h) for h in range(24)]


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
