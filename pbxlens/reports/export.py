"""Exports generated from a `Result` alone: JSON, CSV, XLSX and the CLI's rich table."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from pathlib import Path

from pbxlens.reports import format as fmt
from pbxlens.reports.catalog import Result, TableOut


def _jsonable(v):
    if isinstance(v, Decimal):
        return str(v)
    return v


def to_dict(result: Result) -> dict:
    """The JSON contract (design.md): durations in seconds, percentages as numbers of percent
    points (2 decimals, half-up), money as strings of the exact Decimal, blank averages null.
    Extra keys: table `key`, `row_header`, `summary_fields`, `charts`; report `charts`,
    `definitions`."""
    tables = []
    for t in result.tables:
        tables.append({
            "key": t.key,
            "title": t.title,
            "row_header": t.row_header,
            "columns": [c.public() for c in t.columns],
            "rows": [{k: _jsonable(v) for k, v in r.items()} for r in t.rows],
            "totals": {k: _jsonable(v) for k, v in t.totals.items()},
            "summary": {k: _jsonable(v) for k, v in t.summary.items()},
            "summary_fields": t.summary_fields,
            "charts": t.charts,
        })
    return {"report": result.report, "title": result.title, "filters": result.filters,
            "tables": tables, "charts": result.charts, "definitions": result.definitions}


def to_json(result: Result, indent: int | None = 1) -> str:
    return json.dumps(to_dict(result), ensure_ascii=False, indent=indent)


def to_csv(result: Result) -> str:
    """One table: plain (label, level, column keys); several tables: a leading `table` column
    and the union of their columns. Raw values (durations in seconds), totals row last."""
    multi = len(result.tables) > 1
    keys: list[str] = []
    for t in result.tables:
        for c in t.columns:
            if c.key not in keys:
                keys.append(c.key)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow((["table"] if multi else []) + ["label", "level", *keys])
    for t in result.tables:
        for r in [*t.rows, t.totals]:
            w.writerow(([t.title] if multi else []) + [r.get("label", ""), r.get("level", "")]
                       + ["" if r.get(k) is None else _jsonable(r.get(k)) for k in keys])
    return buf.getvalue()


# ----------------------------------------------------------------------------- XLSX

# money cells: numbers shown as `€ 1,234.56` (the finance export's format)
EURO = '[$€-x-euro2] #,##0.00;-[$€-x-euro2] #,##0.00'
_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(title: str, used: set[str]) -> str:
    base = _BAD_SHEET.sub("_", title).strip("'")[:28] or "table"
    name, i = base, 2
    while name.lower() in used:
        name = f"{base[:26]}~{i}"
        i += 1
    used.add(name.lower())
    return name


def group_spans(cols) -> list[tuple[int, int]]:
    """(first, last) column index of each run of columns under one group header: the top row
    of a two-level header, shared by the XLSX export and the web grid.

    Example:
        >>> from pbxlens.reports.catalog import ColumnOut as C
        >>> group_spans([C("a", "", "G", "count", "g"), C("b", "", "G", "count", "g"),
        ...              C("c", "", "H", "count", "h")])
        [(0, 1), (2, 2)]
    """
    spans, i = [], 0
    while i < len(cols):
        j = i
        while j + 1 < len(cols) and cols[j + 1].group_key == cols[i].group_key:
            j += 1
        spans.append((i, j))
        i = j + 1
    return spans


def to_xlsx(result: Result, path: str | Path | io.BytesIO) -> None:
    """One sheet per table: title row, two-level header (merged group cells), typed cells
    (durations as Excel durations = seconds/86400 with `[h]:mm:ss`, counts as integers,
    percentages as fractions with a % format), totals row, frozen header, autofilter."""
    import xlsxwriter

    target = path if isinstance(path, io.BytesIO) else str(path)
    wb = xlsxwriter.Workbook(target, {"strings_to_formulas": False, "strings_to_numbers": False,
                                      "strings_to_urls": False, "in_memory": True})
    f_title = wb.add_format({"bold": True, "font_size": 12})
    f_group = wb.add_format({"bold": True, "align": "center", "border": 1, "bg_color": "#DDEBF7"})
    f_head = wb.add_format({"bold": True, "text_wrap": True, "border": 1, "valign": "top"})
    f_dur = wb.add_format({"num_format": "[h]:mm:ss"})
    f_int = wb.add_format({"num_format": "#,##0"})
    f_pct = wb.add_format({"num_format": "0.00%"})
    f_lvl1 = wb.add_format({"indent": 1})
    f_eur = wb.add_format({"num_format": EURO})
    f_teur = wb.add_format({"bold": True, "top": 1, "num_format": EURO})
    f_tot = wb.add_format({"bold": True, "top": 1})
    f_tdur = wb.add_format({"bold": True, "top": 1, "num_format": "[h]:mm:ss"})
    f_tint = wb.add_format({"bold": True, "top": 1, "num_format": "#,##0"})
    f_tpct = wb.add_format({"bold": True, "top": 1, "num_format": "0.00%"})
    used: set[str] = set()
    for t in result.tables or [TableOut("empty", result.title, [], [], {}, {})]:
        ws = wb.add_worksheet(_sheet_name(t.title, used))
        ws.write_string(0, 0, f"{result.title} — {t.title}", f_title)
        # row 1: groups (merged), row 2: metric labels
        ws.write_string(1, 0, "", f_group)
        ws.write_string(2, 0, t.row_header or "", f_head)
        col = 1
        cols = t.columns
        for i, j in group_spans(cols):
            if j > i:
                ws.merge_range(1, col + i, 1, col + j, cols[i].group, f_group)
            else:
                ws.write_string(1, col + i, cols[i].group, f_group)
        for k, c in enumerate(cols):
            ws.write_string(2, col + k, c.label, f_head)
        r = 3
        for row in t.rows:
            ws.write_string(r, 0, str(row.get("label", "")), f_lvl1 if row.get("level") == 1
                            else None)
            _write_values(ws, r, col, cols, row, f_dur, f_int, f_pct, f_eur=f_eur)
            r += 1
        ws.write_string(r, 0, str(t.totals.get("label", "")), f_tot)
        _write_values(ws, r, col, cols, t.totals, f_tdur, f_tint, f_tpct, f_tot, f_eur=f_teur)
        ws.freeze_panes(3, 1)
        ws.autofilter(2, 0, max(r - 1, 2), len(cols))
        ws.set_column(0, 0, 24)
        ws.set_column(1, max(1, len(cols)), 12)
    wb.close()


def _write_values(ws, r, col, cols, row, f_dur, f_int, f_pct, f_blank=None, f_eur=None) -> None:
    for k, c in enumerate(cols):
        v = row.get(c.key)
        if v is None:
            if f_blank is not None:
                ws.write_blank(r, col + k, None, f_blank)
            continue
        if c.unit in ("duration", "duration_h"):
            ws.write_number(r, col + k, v / 86400, f_dur)
        elif c.unit == "count":
            ws.write_number(r, col + k, int(v), f_int)
        elif c.unit == "percent":
            ws.write_number(r, col + k, float(v) / 100, f_pct)
        elif c.unit == "money":  # a number (typed cell) with the euro format
            ws.write_number(r, col + k, float(v), f_eur)
        elif c.unit == "decimal":
            ws.write_number(r, col + k, float(v))
        elif c.unit == "instant":
            ws.write_string(r, col + k, fmt.instant(v))
        else:
            ws.write_string(r, col + k, str(v))


# ----------------------------------------------------------------------------- display


def display_rows(t: TableOut, lang: str) -> list[list[str]]:
    """Formatted text rows (label first, totals last), as pages and the CLI show them."""
    out = []
    for r in [*t.rows, t.totals]:
        cells = [("  " if r.get("level") == 1 else "") + str(r.get("label", ""))]
        for c in t.columns:
            cells.append(fmt.cell(r.get(c.key), c.unit, c.kind, lang=lang,
                                  thousands=c.thousands))
        out.append(cells)
    return out


def print_tables(result: Result, console) -> None:
    from rich.table import Table

    console.print(f"[bold]{result.title}[/bold]  {result.filters}", highlight=False)
    for t in result.tables:
        if t.summary:
            strip = "  ".join(
                f"{sf['label']}: "
                f"{fmt.cell(t.summary.get(sf['key']), sf['unit'], 'avg', lang=result.lang)}"
                for sf in t.summary_fields)
            console.print(strip, highlight=False)
        tab = Table(title=t.title, show_lines=False)
        tab.add_column(t.row_header)
        for c in t.columns:
            tab.add_column(f"{c.group}\n{c.label}", justify="right")
        for cells in display_rows(t, result.lang):
            tab.add_row(*cells)
        console.print(tab, width=max(console.width, 16 * (len(t.columns) + 2)))
