"""The shapes several reports share, written once: the daily, hourly and weekday tables, the
answered pie with the weekday and hour charts (the chart trio), and the operator -> account
rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from pbxlens.reports import format as fmt
from pbxlens.reports.common import (
    GREEN,
    ORANGE,
    RED,
    Facts,
    all_blocks,
    days_between,
    is_answered,
    op_label,
    tr,
)
from pbxlens.reports.engine import RawTable, RowSpec

NO_ACCOUNT = "\x00"  # the key of the pseudo account row of legs with no account
WEEKDAYS = tuple(range(7))
HOURS = tuple(range(24))

# ----------------------------------------------------------------------------- rows and tables


def day_rows(d_from: date, d_to: date) -> list[RowSpec]:
    """One row per day of the range, every day listed."""
    return [RowSpec(d.isoformat(), fmt.day_label(d)) for d in days_between(d_from, d_to)]


def hour_rows() -> list[RowSpec]:
    return [RowSpec(str(h), fmt.hour_label(h)) for h in HOURS]


def weekday_rows(lang: str) -> list[RowSpec]:
    return [RowSpec(str(i), fmt.weekday_label(i, lang)) for i in WEEKDAYS]


def daily_table(key: str, title: str, facts: dict, d_from: date, d_to: date, lang: str,
                charts: list[dict] | None = None) -> RawTable:
    return RawTable(key, title, day_rows(d_from, d_to), facts, charts=charts or [],
                    row_header=tr(lang, "Date", "Data"))


def hourly_table(key: str, title: str, facts: dict, lang: str) -> RawTable:
    return RawTable(key, title, hour_rows(), facts, row_header=tr(lang, "Hour", "Ora"))


def weekday_table(key: str, title: str, facts: dict, lang: str) -> RawTable:
    return RawTable(key, title, weekday_rows(lang), facts, row_header=tr(lang, "Day", "Giorno"))


def day_hour_weekday_tables(facts: dict[str, dict], d_from: date, d_to: date, lang: str
                            ) -> list[RawTable]:
    """The three tables of a dashboard: every day, 24 hours, 7 weekdays (Sunday first), from
    facts {"day" | "hr" | "dow": {row key: {block: {field: Σ}}}}."""
    return [daily_table("daily", tr(lang, "Total", "Totale"), facts["day"], d_from, d_to, lang),
            hourly_table("hourly", tr(lang, "Hourly breakdown", "Ripartizione oraria"),
                         facts["hr"], lang),
            weekday_table("weekly", tr(lang, "Weekday breakdown", "Ripartizione settimanale"),
                          facts["dow"], lang)]


def per_entity_title(title: str, lang: str, word: tuple[str, str], label: str) -> str:
    """"Calls handled queue: Sales" (per-queue / per-code / per-group tables)."""
    return f"{title} {tr(lang, *word)}: {label}"


# ----------------------------------------------------------------------------- charts


def slot_chart(cid: str, title: str, x: list[str], by_slot: dict, slots: list, field: str = "n",
               answered: Callable[[str], bool] = is_answered) -> dict:
    """total / answered / unanswered series over slots from {slot: {block: {field: v}}}."""
    def ser(pred):
        return [int(sum(fs.get(field, 0) for b, fs in by_slot.get(s, {}).items() if pred(b)))
                for s in slots]
    return {"id": cid, "title": title, "type": "combo", "x": x, "series": [
        {"key": "total", "label": "total", "color": ORANGE, "kind": "column",
         "data": ser(lambda b: True)},
        {"key": "answered", "label": "answered", "color": GREEN, "kind": "line",
         "data": ser(answered)},
        {"key": "unanswered", "label": "unanswered", "color": RED, "kind": "line",
         "data": ser(lambda b: not answered(b))},
    ]}


def answered_pie(lang: str, facts_by_block: Facts,
                 answered: Callable[[str], bool] = is_answered) -> dict:
    a = int(sum(fs.get("n", 0) for b, fs in facts_by_block.items() if answered(b)))
    u = int(sum(fs.get("n", 0) for b, fs in facts_by_block.items() if not answered(b)))
    return {"id": "answered_pie", "title": tr(lang, "Answered / unanswered",
                                              "Risposte / non risposte"),
            "type": "pie", "x": ["answered", "unanswered"],
            "series": [{"key": "n", "label": "quantity", "colors": [GREEN, RED],
                        "data": [a, u]}]}


def weekday_x(lang: str) -> list[str]:
    return [fmt.weekday_label(i, lang) for i in WEEKDAYS]


def hour_x() -> list[str]:
    return [fmt.hour_label(h) for h in HOURS]


def weekday_chart(lang: str, by_dow: dict, answered: Callable[[str], bool] = is_answered
                  ) -> dict:
    """`by_weekday` from {weekday 0-6: {block: {field: Σ}}}, Sunday first."""
    return slot_chart("by_weekday", tr(lang, "By weekday", "Per giorno della settimana"),
                      weekday_x(lang), by_dow, list(WEEKDAYS), answered=answered)


def hour_chart(lang: str, by_hr: dict) -> dict:
    """`by_hour` from {hour 0-23: {block: {field: Σ}}}."""
    return slot_chart("by_hour", tr(lang, "By hour", "Per ora"), hour_x(), by_hr, list(HOURS))


def chart_trio(lang: str, per_row: dict[str, Facts], by_dow: dict, by_hr: dict) -> list[dict]:
    """The charts of a one-row-per-entity report: the answered pie over every row, answered
    and unanswered by weekday and by hour."""
    return [answered_pie(lang, all_blocks(per_row)), weekday_chart(lang, by_dow),
            hour_chart(lang, by_hr)]


# ----------------------------------------------------------------------------- operators


def account_label(a: str, lang: str) -> str:
    if a == NO_ACCOUNT:
        return tr(lang, "(no account)", "(nessun account)")
    return a


def operator_rows(ops: list[str], label: Callable[[str], str], facts_of: dict,
                  directory: dict[str, list[str]], lang: str, *, only: set[str] | None = None,
                  ) -> tuple[list[RowSpec], dict]:
    """Rows operator, then its accounts (§0.5 rule 8: the directory's accounts are listed even
    without data, then the accounts that only the data names, sorted), and the facts keyed by
    row.

    `facts_of` maps (operator, account) to facts; `only` restricts the directory's accounts
    (an account filter). The data-only accounts are sorted: `facts_of` comes from queries
    without an order, so "first seen" changed from run to run on the same store."""
    rows: list[RowSpec] = []
    for op in ops:
        seen = [a for a in directory.get(op, []) if not only or a in only]
        seen += sorted({a for (o, a) in facts_of if o == op and a not in seen})
        kids = [RowSpec(f"{op}\x1f{a}", account_label(a, lang), 1) for a in seen]
        rows += [RowSpec(op, label(op), 0, children=[k.key for k in kids]), *kids]
    return rows, {f"{o}\x1f{a}": v for (o, a), v in facts_of.items()}


def by_operator_label(names: dict[str, str], fallback: dict[str, str | None] | None = None
                      ) -> Callable[[str], str]:
    """An operator's row label from the directory's names, else a name the data carried."""
    fb = fallback or {}
    return lambda op: op_label(op, names.get(op) or fb.get(op))


def operator_order(ops) -> list[str]:
    """Operators by extension, shorter first (201 before 1001)."""
    return sorted(ops, key=lambda o: (len(o), o))
