"""Missed calls for supervisors (nexus_modules.md A.5, A.6): every open request, one page at a
time from the operations store (server-side filters, sorting and paging); assign the selected
requests to an eligible operator, cancel their bookings, flush them; links to the dashboards
(the catalog's missed.* reports on the generic report page)."""

from __future__ import annotations

import dash
import dash_ag_grid as dag
from dash import Input, Output, State, dcc, html, no_update

from pbxlens.dashboards import context as web
from pbxlens.dashboards.i18n import t
from pbxlens.dashboards.pages import missed_common as mc
from pbxlens.dashboards.pages.common import forbidden, page_title
from pbxlens.missed_calls import operations as op
from pbxlens.missed_calls.errors import MissedError
from pbxlens.reports import get
from pbxlens.store import roles

dash.register_page(__name__, path="/missed/manage", name="Missed calls · manage",
                   title=page_title("mc_manage"))

REPORTS = ("missed.dashboard", "missed.today", "missed.caller_queue", "missed.history")
PAGE_SIZE = 50
# A.5 / A.6 filters
FILTERS = (("caller", "mc_caller", "text"), ("num_recalled", "mc_recalled", "number"),
           ("recalled_from", "mc_recalled_from", "date"), ("recalled_to", "mc_recalled_to", "date"),
           ("first_from", "mc_first_from", "date"), ("first_to", "mc_first_to", "date"),
           ("last_from", "mc_last_from", "date"), ("last_to", "mc_last_to", "date"))
KEEP = ("mm-assign", "mm-unassign", "mm-flush")


def layout(**_kwargs):
    user, lang = web.user(), web.lang()
    if not roles.is_manager(user):
        return forbidden(lang)
    cols = [{"field": "call_num", "headerName": t("mc_call_num", lang), "checkboxSelection": True,
             "headerCheckboxSelection": True}] + [
        {"field": f, "headerName": t(k, lang)} for f, k in (
            ("num_recalled", "mc_recalled"), ("last_recalled", "mc_last_recalled"),
            ("first_call", "mc_first_call"), ("last_call", "mc_last_call"),
            ("num_calls", "mc_calls"), ("booked_by", "mc_booked_by"))]
    ops = [{"value": o["username"], "label": f"{o['extension']} ({o['name'] or o['username']})"}
           for o in op.eligible_operators(web.store(), user.tenant)]
    return html.Div([
        html.H1(t("mc_manage", lang)),
        html.Nav([dcc.Link(get(r).title(lang), href=f"/reports/{r}", className="pbx-tab")
                  for r in REPORTS],
                 className="pbx-tabs", id="mm-reports"),
        html.Div([*mc.filter_inputs("mm", lang, FILTERS), *mc.sort_bar("mm", lang),
                  html.Button(t("search", lang), id="mm-search", n_clicks=0,
                              className="pbx-btn pbx-btn-primary")],
                 className="pbx-filters pbx-card"),
        dcc.Store(id="mm-page", data=0),
        html.Section([
            html.Div([
                dcc.Dropdown(id="mm-operator", options=ops, placeholder=t("mc_operator", lang),
                             style={"width": "260px"}),
                html.Button(t("mc_assign", lang), id="mm-assign", n_clicks=0,
                            className="pbx-btn pbx-btn-primary"),
                html.Button(t("mc_unassign", lang), id="mm-unassign", n_clicks=0, className="pbx-btn"),
                html.Button(t("mc_flush", lang), id="mm-flush", n_clicks=0, className="pbx-btn"),
            ], className="pbx-actions"),
            html.Div(id="mm-msg", className="pbx-msg"),
            mc.pager("mm", lang),
            dag.AgGrid(id="mm-grid", rowData=[], columnDefs=cols, getRowId="params.data.id",
                       columnSize="sizeToFit", defaultColDef={"sortable": False},
                       dashGridOptions={"rowSelection": "multiple", "domLayout": "autoHeight",
                                        "suppressRowClickSelection": True},
                       className="ag-theme-alpine pbx-grid"),
        ], className="pbx-card"),
    ])


def _act(trig: str | None, tokens: list[str], operator: str | None, lang: str) -> str:
    stores, actor = web.store(), mc.actor()
    if trig not in KEEP:
        return ""
    if not tokens:
        return t("mc_select", lang)
    if trig == "mm-flush":
        return t("mc_flushed", lang, n=op.flush(stores, actor, tokens))
    if trig == "mm-unassign":
        for tok in tokens:
            op.cancel(stores, actor, tok)
        return t("mc_unassigned", lang, n=len(tokens))
    if not operator:
        return t("mc_operator", lang)
    for tok in tokens:
        op.assign(stores, actor, tok, operator)
    return t("mc_assigned", lang, n=len(tokens), name=operator)


@dash.callback(
    Output("mm-grid", "rowData"), Output("mm-info", "children"), Output("mm-page", "data"),
    Output("mm-msg", "children"),
    Input("mm-search", "n_clicks"), Input("mm-sort", "value"), Input("mm-desc", "value"),
    Input("mm-prev", "n_clicks"), Input("mm-next", "n_clicks"),
    Input("mm-assign", "n_clicks"), Input("mm-unassign", "n_clicks"),
    Input("mm-flush", "n_clicks"),
    State("mm-grid", "selectedRows"), State("mm-operator", "value"), State("mm-page", "data"),
    *[State(f"mm-f-{k}", "value") for k, _l, _t in FILTERS],
)
def manage(_s, sort, order, _p, _n, _a, _u, _f, selected, operator, page, *filter_values):
    user, lang = web.user(), web.lang()
    if not roles.is_manager(user):
        return no_update, no_update, no_update, t("forbidden", lang)
    trig = dash.ctx.triggered_id
    try:
        msg: object = _act(trig, [r["id"] for r in selected or []], operator, lang)
    except MissedError as exc:
        msg = html.Span(mc.error_text(exc, lang), className="pbx-alert")
    filters = mc.filter_values(FILTERS, tuple(str(v) if v is not None else None
                                              for v in filter_values))
    try:
        rows, info, page = mc.fetch("open", filters, sort, order != "asc",
                                    mc.turn(page, trig, "mm", KEEP), PAGE_SIZE, lang)
    except MissedError as exc:
        return [], "", 0, html.Span(mc.error_text(exc, lang), className="pbx-alert")
    return rows, info, page, msg
