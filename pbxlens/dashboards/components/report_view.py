"""A report `Result` as page components: header strip, charts, AG Grid tables.

Cells are formatted here, server-side, with the shared formatter (`reports.format.cell`):
blank zeros, `Ngg HH:MM:SS`, Italian thousands dots (spec §0.4). The grid gets two-level
headers from the column groups, the totals row pinned at the bottom, and operator/account row
styles by `level` (§0.5 rules 8-9).
"""

from __future__ import annotations

import dash_ag_grid as dag
import flask
from dash import dcc, html

from pbxlens.dashboards import empty_states
from pbxlens.dashboards.components.charts import figure, graph_config
from pbxlens.dashboards.components.charts import title as chart_title
from pbxlens.dashboards.i18n import grid_locale, t
from pbxlens.reports import Report, applied, get
from pbxlens.reports import format as fmt
from pbxlens.reports.export import group_spans

_ROW_STYLES = {"styleConditions": [
    {"condition": "params.data._cls === 'op'",
     "style": {"backgroundColor": "#34495e", "color": "white", "fontWeight": "600"}},
    {"condition": "params.data._cls === 'acc'", "style": {"backgroundColor": "#f4f7fb"}},
    {"condition": "params.data._cls === 'total'",
     "style": {"backgroundColor": "#e8eef6", "fontWeight": "700"}},
]}


# Column widths come from the formatted texts themselves (the cells are formatted here, so their
# longest text is known): a column is as wide as its longest cell, never narrower than the
# longest word of its header (headers wrap on word boundaries, never inside a word). Estimated
# glyph widths of the grid's font; the browser test checks that no cell is cut.
_GLYPH = (("0123456789€", 9.8), ("ABCDEFGHIJKLMNOPQRSTUVWXYZÀÈÉÌÒÙ", 11.0), (" ", 4.9),
          (".,:;'|!il/()", 5.7), ("mwMW%", 14.0))  # bold px of the grid's 14 px font, measured
_PAD = 28  # the cell's horizontal padding (9 + 9), its borders and a little air
LABEL_MAX = 380  # longer row labels wrap inside their cell
AUTO_HEIGHT_ROWS = 35  # a grid of up to this many rows shows them all; a longer one scrolls
SCROLL_ROWS = 20  # about the rows a scrolling grid (640 px) renders
# A grid renders every column (find in page and print see every cell) while its rendered cells
# stay under this; a bigger one renders the columns in view (AG Grid's column virtualisation):
# six grids of 120 rows x 86 columns took 8 s to a first render in Chromium, 4 s virtualised.
ALL_COLUMNS_CELLS = 500
EAGER_ROWS = 40  # about a screenful (`first_tables`)
# Header heights come from the same estimate, not from AG Grid's autoHeaderHeight: measuring
# every header cell in the browser took 1.9 s of a six-grid page's 4.9 s (480 layouts).
# Measured in Chromium on 5,460 headers of every report in both languages: a line is 15 px, a
# row 11 px more (34 px at least, the one-line row); the estimate assumes glyphs 8 % wider than
# measured, so a header never gets fewer lines than it needs (70 got one more).
HEADER_LINE, HEADER_EXTRA, HEADER_MIN, GROUP_MIN = 15, 11, 34, 30
_HEADER_PAD, _HEADER_SLACK = 20, 0.92


def text_width(text: str) -> float:
    """Estimated width in pixels of `text` in the grid's font, bold (totals and operator rows
    are bold, and a column must hold them too)."""
    return sum(next((px for chars, px in _GLYPH if ch in chars), 9.5) for ch in text)


def _word_width(label: str) -> float:
    return max((text_width(w) for w in str(label or "").split()), default=0.0)


def header_lines(label: str, width: float) -> int:
    """The lines `label` wraps to (between words) in a header `width` px wide.

    >>> header_lines("Calls", 80), header_lines("Average waiting time", 80)
    (1, 3)
    """
    avail = (width - _HEADER_PAD) / _HEADER_SLACK
    lines, used, space = 1, 0.0, text_width(" ")
    for word in str(label or "").split():
        w = text_width(word)
        if used and used + space + w > avail:
            lines, used = lines + 1, w
        else:
            used = used + space + w if used else w
    return lines


def header_heights(defs: list[dict]) -> tuple[int, int]:
    """(header row, group row) heights of `column_defs`' grid, in px."""
    cols = [c for d in defs for c in d.get("children", [d])]
    groups = [(d["headerName"], sum(c["width"] for c in d["children"]))
              for d in defs if "children" in d]
    col_lines = max((header_lines(c["headerName"], c["width"]) for c in cols), default=1)
    group_lines = max((header_lines(name, w) for name, w in groups), default=1)
    return (max(HEADER_MIN, HEADER_LINE * col_lines + HEADER_EXTRA),
            max(GROUP_MIN, HEADER_LINE * group_lines + HEADER_EXTRA))


def column_defs(table, lang: str, pie: tuple[str, str] | None = None,
                rows: list[dict] | None = None) -> list[dict]:
    rows = rows or []
    labels = [str(r.get("label", "")) for r in rows]
    label_w = max([text_width(x) for x in labels] + [_word_width(table.row_header), 80.0])
    label_w += _PAD + (26 if pie else 0)
    # a row measures its height only when a label must wrap: measuring every row of every
    # grid cost about 0.7 s of a six-table page's first render on a 10M-call store
    first = {"field": "label", "headerName": table.row_header or "", "pinned": "left",
             "width": round(min(label_w, LABEL_MAX)), "cellStyle": {"textAlign": "left"},
             "cellClass": "pbx-label-cell"}
    if label_w > LABEL_MAX:
        first.update(wrapText=True, autoHeight=True)
    if pie:
        first.update(cellRenderer="MiniPie")
    defs: list[dict] = [first]
    cols = table.columns
    for i, j in group_spans(cols):
        children = []
        for k in range(i, j + 1):
            texts = [r.get(f"c{k}", "") for r in rows]
            w = max([text_width(x) for x in texts] + [_word_width(cols[k].label), 40.0])
            children.append(_child(cols[k], k, lang, round(w + _PAD)))
        need = _word_width(cols[i].group) + _PAD  # the group's longest word
        have = sum(c["width"] for c in children)
        if need > have:
            extra = (need - have) / len(children)
            for c in children:
                c["width"] = round(c["width"] + extra)
        defs.append({"headerName": cols[i].group, "children": children,
                     "headerClass": "pbx-group", "wrapHeaderText": True})
    return defs


def _child(col, k: int, lang: str, width: int) -> dict:
    """A column: its rule as the header's and the cells' tooltip (explainable numbers); a
    count cell opens the calls behind it."""
    tip = col.rule + (t("drill_hint", lang) if is_count(col) else "")
    d = {"field": f"c{k}", "headerName": col.label, "type": "rightAligned",
         "width": width, "headerTooltip": tip}
    if is_count(col):
        d["cellClass"] = "pbx-drill"
    return d


def is_count(col) -> bool:
    return col.kind == "sum" and col.unit == "count"


def table_meta(table) -> dict:
    """What a click on a cell needs: the table's key, its column keys (by grid column c{k}),
    which are counts, and the row keys by row index."""
    return {"key": table.key, "columns": [c.key for c in table.columns],
            "count": [is_count(c) for c in table.columns],
            "titles": [f"{c.group} · {c.label}" for c in table.columns],
            "rows": [r.get("key") for r in table.rows],
            "labels": [str(r.get("label", "")) for r in table.rows]}


def row_data(table, lang: str, pie: tuple[str, str] | None = None) -> tuple[list[dict], dict]:
    def cells(r: dict) -> dict:
        return {f"c{k}": fmt.cell(r.get(c.key), c.unit, c.kind, lang=lang, thousands=c.thousands)
                for k, c in enumerate(table.columns)}

    rows = []
    n = len(table.rows)
    for idx, r in enumerate(table.rows):
        nxt = table.rows[idx + 1] if idx + 1 < n else None
        lvl = r.get("level")
        cls = "acc" if lvl == 1 else ("op" if nxt is not None and nxt.get("level") == 1 else "")
        label = ("\u2003" if lvl == 1 else "") + str(r.get("label", ""))
        row = {"label": label, "_cls": cls, **cells(r)}
        if pie and not lvl:
            a, u = r.get(pie[0]) or 0, r.get(pie[1]) or 0
            row["_pa"], row["_pu"] = a, u
            if a + u:  # the mini pie's tooltip, formatted here like every number
                row["_pt"] = (f"{fmt.count(a, lang=lang) or 0} / {fmt.count(a + u, lang=lang)} "
                              f"({fmt.percent(100 * a / (a + u), lang=lang, places=1)})")
        rows.append(row)
    totals = {"label": str(table.totals.get("label", "")), "_cls": "total", **cells(table.totals)}
    return rows, totals


def grid(table, lang: str, grid_id, pie: tuple[str, str] | None = None) -> dag.AgGrid:
    """`pie`: the (answered, unanswered) column keys of a mini pie before each row name, from
    the report's `options["row_pie"]`."""
    if pie and not {c.key for c in table.columns} >= set(pie):
        pie = None
    rows, totals = row_data(table, lang, pie)
    auto = len(rows) <= AUTO_HEIGHT_ROWS
    shown_rows = len(rows) if auto else SCROLL_ROWS
    defs = column_defs(table, lang, pie, [*rows, totals])
    header_h, group_h = header_heights(defs)
    return dag.AgGrid(
        id=grid_id,
        columnDefs=defs,
        rowData=rows,
        # a cell's tooltip is its column's rule: one getter for the grid, not one per column
        defaultColDef={"sortable": False, "resizable": True, "suppressMovable": True,
                       "wrapHeaderText": True,
                       "tooltipValueGetter": {"function": "params.colDef.headerTooltip"}},
        dashGridOptions={"pinnedBottomRowData": [totals], "suppressFieldDotNotation": True,
                         "domLayout": "autoHeight" if auto else "normal",
                         "rowHeight": 30, "headerHeight": header_h, "groupHeaderHeight": group_h,
                         "suppressCellFocus": True,
                         "suppressColumnVirtualisation":
                             shown_rows * (len(table.columns) + 1) <= ALL_COLUMNS_CELLS,
                         "localeText": grid_locale(lang), "tooltipShowDelay": 400},
        getRowStyle=_ROW_STYLES,
        className="ag-theme-alpine pbx-grid",
        style={"width": "100%"} if auto else {"width": "100%", "height": "640px"},
    )


def header_strip(table, lang: str) -> html.Div:
    items = []
    for sf in table.summary_fields:
        v = table.summary.get(sf["key"])
        items.append(html.Span([html.Span(sf["label"] + ": ", className="pbx-strip-label"),
                                html.B(fmt.cell(v, sf["unit"], "avg", lang=lang) or "—")],
                               className="pbx-strip-item"))
    return html.Div(items, className="pbx-strip")


def chart_row(charts: list[dict], lang: str, prefix: str) -> html.Div | None:
    if not charts:
        return None
    config = graph_config(lang)
    return html.Div([html.Div([html.Div(chart_title(c), className="pbx-chart-title"),
                               dcc.Graph(figure=figure(c, lang), id=f"{prefix}-{c['id']}",
                                         config=config)],
                              className="pbx-chart " + ("pbx-chart-pie" if c["type"] == "pie"
                                                        else "pbx-chart-wide"))
                     for c in charts], className="pbx-charts")


def filters_line(result, lang: str, defn: Report | None = None,
                 names: dict[str, dict[str, str]] | None = None) -> html.Div:
    """"01/05/2026 – 31/05/2026 · Coda = Vendite (700)": the applied filters, values shown by
    the names of their filter's choices (`names`, from `reports.applied.value_names`)."""
    return html.Div(applied.line(result.filters, defn, lang, names), className="pbx-applied",
                    id="rp-applied")


def _definition(result) -> Report | None:
    """The catalog entry of `result` (None for a result of no catalog report)."""
    try:
        return get(result.report)
    except KeyError:
        return None


def first_tables(result) -> int:
    """How many tables render with the page: at least one, then more while they fit about a
    screenful of rows (`EAGER_ROWS`); the page asks for the rest right after. Each grid costs
    Chromium about 0.3 s to build, and a page of six took 3-6 s before its first row showed."""
    n = used = 0
    for table in result.tables:
        used += len(table.rows) + 4  # its title, headers and totals take about four rows
        if n and used > EAGER_ROWS:
            break
        n += 1
    return n


def render_result(result, lang: str, export_type: str = "rp-export",
                  names: dict[str, dict[str, str]] | None = None,
                  upto: int | None = None) -> list:
    """The page's content: the applied filters, a hint when empty, the report's charts, then
    its tables (the first `upto` of them; `table_cards` renders the others)."""
    defn = _definition(result)
    out: list = [filters_line(result, lang, defn, names)]
    # say what to do, not only that nothing is there (inside the app: the hint reads the store)
    if empty_states.result_is_empty(result) and flask.has_app_context():
        from pbxlens.dashboards import context as web

        with web.store().cursor() as cur:
            text = empty_states.hint(cur, result.report, result, lang)
        if text:
            out.append(html.Div(text, className="pbx-hint", id="rp-hint"))
    top = chart_row(result.charts, lang, "rc")
    if top:
        out.append(top)
    out += table_cards(result, lang, range(len(result.tables) if upto is None else upto),
                       export_type)
    if not result.tables:
        out.append(html.Div(t("no_rows", lang), className="pbx-empty"))
    return out


def table_cards(result, lang: str, indexes: range, export_type: str = "rp-export") -> list:
    """One card per table of `indexes`: title, export button, strip, charts and grid."""
    defn = _definition(result)
    pie = defn.row_pie if defn else None
    out = []
    for i in indexes:
        table = result.tables[i]
        body = [html.Div([html.H3(table.title, className="pbx-table-title"),
                          html.Button(t("export_xls", lang), id={"type": export_type, "table": i},
                                      className="pbx-btn pbx-btn-small pbx-export",
                                      n_clicks=0)],
                         className="pbx-table-head")]
        if table.summary_fields:
            body.append(header_strip(table, lang))
        tc = chart_row(table.charts, lang, f"tc{i}")
        if tc:
            body.append(tc)
        body.append(grid(table, lang, {"type": "rp-grid", "table": i}, pie))
        body.append(dcc.Store(id={"type": "rp-table-meta", "table": i}, data=table_meta(table)))
        out.append(html.Section(body, className="pbx-card pbx-table-card"))
    return out


# ----------------------------------------------------------------------------- drill-down

_DRILL_WIDTH = {"duration": 110, "instant": 170, "count": 90}


def drill_panel(res, lang: str, title: str, *, explain: bool = False) -> list:
    """The calls behind a cell: a heading with the cell's value and rule, the first rows in a
    grid (each call opens its journey; with `explain`, billing calls also open why they cost
    what they cost), and the export buttons."""
    from pbxlens.dashboards.definitions_service import local_time

    link = {"cellRenderer": "markdown", "linkTarget": "_self"}
    cols = [{"field": c["key"], "headerName": c["label"],
             "width": _DRILL_WIDTH.get(c["unit"], 140),
             **(link if c["key"] == "unique_id" else {})} for c in res.columns]
    if explain:
        cols.insert(1, {"field": "why", "headerName": t("why_cost", lang), "width": 120, **link})
    rows = []
    for r in res.rows:
        row = {"why": f"[{t('why_explain', lang)}](/billing/explain/{r['unique_id']})"} \
            if explain else {}
        for c in res.columns:
            v = r.get(c["key"])
            if c["key"] == "unique_id":
                v = f"[{v}](/journeys/{v})"
            elif c["unit"] == "instant":
                v = local_time(v)
            elif c["unit"] in ("duration", "count", "money"):
                v = fmt.cell(v, c["unit"], lang=lang)  # a zero wait is blank, as in reports
            elif c["key"] == "direction" and v:
                v = t(f"dir_{v}", lang)
            row[c["key"]] = "" if v is None else v
        rows.append(row)
    more = t("drill_first", lang, shown=fmt.count(len(res.rows), lang=lang),
             total=fmt.count(res.count, lang=lang)) if res.truncated else ""
    return [
        html.Div([html.H3(f"{title}: {fmt.count(res.value, lang=lang)}", id="rp-drill-title"),
                  html.Div([html.Button(t("export_csv", lang), id="rp-drill-csv", n_clicks=0,
                                        className="pbx-btn pbx-btn-small"),
                            html.Button(t("export_xls", lang), id="rp-drill-xlsx", n_clicks=0,
                                        className="pbx-btn pbx-btn-small"),
                            html.Button(t("close", lang), id="rp-drill-close", n_clicks=0,
                                        className="pbx-btn pbx-btn-small")],
                           className="pbx-actions")], className="pbx-table-head"),
        html.P([t("drill_calls", lang, n=fmt.count(res.count, lang=lang)), " · ",
                html.Span(res.rule or "", className="pbx-muted"),
                html.Span(" " + ", ".join(res.blocks), className="pbx-muted"), " ", more],
               id="rp-drill-info"),
        dag.AgGrid(id="rp-drill-grid", columnDefs=cols, rowData=rows,
                   defaultColDef={"resizable": True, "sortable": True},
                   dashGridOptions={"domLayout": "autoHeight" if len(rows) <= 20 else "normal",
                                    "suppressCellFocus": True, "pagination": len(rows) > 50,
                                    "paginationPageSize": 50},
                   className="ag-theme-alpine pbx-grid",
                   style={"width": "100%"} if len(rows) <= 20 else {"width": "100%",
                                                                     "height": "560px"}),
    ]
