"""A report `Result` as page components: header strip, charts, AG Grid tables.

Cells are formatted here, server-side, with the shared formatter (`reports.format.cell`):
blank zeros, `Ngg HH:MM:SS`, Italian thousands dots (spec §0.4). The grid gets two-level
headers from the column groups, the totals row pinned at the bottom, and operator/account row
styles by `level` (§0.5 rules 8-9).
"""

from __future__ import annotations

import dash_ag_grid as dag
from dash import dcc, html

from pbxlens.dashboards.components.charts import figure
from pbxlens.dashboards.i18n import t
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


_WIDTH = {"duration": 124, "duration_h": 112, "count": 96, "percent": 100}


def column_defs(table, lang: str, pie: tuple[str, str] | None = None) -> list[dict]:
    first = {"field": "label", "headerName": table.row_header or "", "pinned": "left",
             "width": 210, "cellStyle": {"textAlign": "left"}}
    if pie:
        first.update(cellRenderer="MiniPie", width=236)
    defs: list[dict] = [first]
    cols = table.columns
    for i, j in group_spans(cols):
        children = [{"field": f"c{k}", "headerName": cols[k].label, "type": "rightAligned",
                     "width": _WIDTH.get(cols[k].unit, 104)} for k in range(i, j + 1)]
        defs.append({"headerName": cols[i].group, "children": children,
                     "headerClass": "pbx-group", "wrapHeaderText": True,
                     "autoHeaderHeight": True})
    return defs


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
            row["_pa"], row["_pu"] = r.get(pie[0]) or 0, r.get(pie[1]) or 0
        rows.append(row)
    totals = {"label": str(table.totals.get("label", "")), "_cls": "total", **cells(table.totals)}
    return rows, totals


def grid(table, lang: str, grid_id, pie: tuple[str, str] | None = None) -> dag.AgGrid:
    """`pie`: the (answered, unanswered) column keys of a mini pie before each row name, from
    the report's `options["row_pie"]`."""
    if pie and not {c.key for c in table.columns} >= set(pie):
        pie = None
    rows, totals = row_data(table, lang, pie)
    auto = len(rows) <= 35
    return dag.AgGrid(
        id=grid_id,
        columnDefs=column_defs(table, lang, pie),
        rowData=rows,
        defaultColDef={"sortable": False, "resizable": True, "suppressMovable": True,
                       "wrapHeaderText": True, "autoHeaderHeight": True},
        dashGridOptions={"pinnedBottomRowData": [totals], "suppressFieldDotNotation": True,
                         "domLayout": "autoHeight" if auto else "normal",
                         "rowHeight": 30, "headerHeight": 34, "groupHeaderHeight": 30,
                         "suppressCellFocus": True, "suppressColumnVirtualisation": True},
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
    return html.Div([html.Div(dcc.Graph(figure=figure(c, lang), id=f"{prefix}-{c['id']}",
                                        config={"displaylogo": False}),
                              className="pbx-chart " + ("pbx-chart-pie" if c["type"] == "pie"
                                                        else "pbx-chart-wide"))
                     for c in charts], className="pbx-charts")


def filters_line(result, lang: str, defn: Report | None = None,
                 names: dict[str, dict[str, str]] | None = None) -> html.Div:
    """"01/05/2026 – 31/05/2026 · Coda = Vendite (700)": the applied filters, values shown by
    the names of their filter's choices (`names`, from `reports.applied.value_names`)."""
    return html.Div(applied.line(result.filters, defn, lang, names), className="pbx-applied",
                    id="rp-applied")


def render_result(result, lang: str, export_type: str = "rp-export",
                  names: dict[str, dict[str, str]] | None = None) -> list:
    try:
        defn = get(result.report)
    except KeyError:
        defn = None
    pie = defn.row_pie if defn else None
    out: list = [filters_line(result, lang, defn, names)]
    top = chart_row(result.charts, lang, "rc")
    if top:
        out.append(top)
    for i, table in enumerate(result.tables):
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
        out.append(html.Section(body, className="pbx-card pbx-table-card"))
    if not result.tables:
        out.append(html.Div(t("no_rows", lang), className="pbx-empty"))
    return out
