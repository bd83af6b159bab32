"""Admin: the quarantine browser. Rows that could not be loaded, with their reason, source
line and raw text; filtered by batch and file; one page at a time from the database."""

from __future__ import annotations

import math

import dash
import dash_ag_grid as dag
from dash import Input, Output, State, ctx, dcc, html

from pbxlens.dashboards import access, admin
from pbxlens.dashboards import context as web
from pbxlens.dashboards.i18n import t
from pbxlens.dashboards.pages.common import admin_tabs, forbidden, page_title

dash.register_page(__name__, path="/admin/quarantine", name="Quarantine",
                   title=page_title("quarantine"))


def layout(batch: str | None = None, **_kwargs):
    lang = web.lang()
    if not access.is_admin(web.user()):
        return forbidden(lang)
    batches, files = admin.quarantine_choices(web.store())
    chosen = int(batch) if batch and batch.isdigit() else None
    cols = [{"field": "batch_id", "headerName": t("batch", lang), "width": 90},
            {"field": "source", "headerName": t("file", lang), "width": 220},
            {"field": "line", "headerName": t("line", lang), "width": 80},
            {"field": "record", "headerName": t("record", lang), "width": 90},
            {"field": "reason", "headerName": t("reason", lang), "width": 260, "wrapText": True,
             "autoHeight": True},
            {"field": "raw", "headerName": t("raw", lang), "flex": 1, "wrapText": True,
             "autoHeight": True, "cellClass": "pbx-mono"}]
    return html.Div([
        admin_tabs("/admin/quarantine", lang),
        html.H1(t("quarantine", lang)),
        dcc.Store(id="aq-page", data=0),
        html.Div([
            html.Div([html.Label(t("batch", lang)),
                      dcc.Dropdown(id="aq-batch", value=chosen, placeholder=t("any", lang),
                                   options=[{"value": b, "label": str(b)} for b in batches])],
                     className="pbx-field"),
            html.Div([html.Label(t("file", lang)),
                      dcc.Dropdown(id="aq-file", placeholder=t("any", lang),
                                   options=[{"value": f, "label": f} for f in files])],
                     className="pbx-field", style={"flexBasis": "420px"}),
        ], className="pbx-card pbx-filters"),
        html.Section([
            html.Div([html.Button("‹ " + t("previous", lang), id="aq-prev", n_clicks=0,
                                  className="pbx-btn"),
                      html.Span(id="aq-info", className="pbx-muted"),
                      html.Button(t("next", lang) + " ›", id="aq-next", n_clicks=0,
                                  className="pbx-btn")], className="pbx-actions"),
            dag.AgGrid(id="aq-grid", rowData=[], columnDefs=cols,
                       dashGridOptions={"domLayout": "autoHeight", "suppressCellFocus": True},
                       className="ag-theme-alpine pbx-grid"),
        ], className="pbx-card"),
    ])


@dash.callback(
    Output("aq-grid", "rowData"), Output("aq-info", "children"), Output("aq-page", "data"),
    Input("aq-batch", "value"), Input("aq-file", "value"), Input("aq-prev", "n_clicks"),
    Input("aq-next", "n_clicks"), State("aq-page", "data"),
)
def show_page(batch, source, _p, _n, page):
    lang = web.lang()
    if not access.is_admin(web.user()):
        return [], t("forbidden", lang), 0
    store = web.store()
    size = admin.get_ui(store, "quarantine_page_size")
    page = {"aq-prev": (page or 0) - 1, "aq-next": (page or 0) + 1}.get(ctx.triggered_id, 0)
    batch = int(batch) if batch is not None else None
    rows, total = admin.quarantine_page(store, batch, source, max(page, 0), size)
    pages = max(1, math.ceil(total / size))
    if page >= pages:  # past the end: show the last page
        page = pages - 1
        rows, total = admin.quarantine_page(store, batch, source, page, size)
    page = max(page, 0)
    return rows, t("page_of", lang, page=page + 1, pages=pages, rows=total), page
