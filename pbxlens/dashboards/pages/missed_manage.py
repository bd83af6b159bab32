"""Missed calls for supervisors (nexus_modules.md A.5, A.6): every open request, assign to an
eligible operator, cancel a booking, flush the selected requests; links to the dashboards
(the catalog's missed.* reports on the generic report page)."""

from __future__ import annotations

import dash
import dash_ag_grid as dag
from dash import Input, Output, State, dcc, html, no_update

from pbxlens.dashboards import context as web
from pbxlens.dashboards.i18n import t
from pbxlens.dashboards.pages.common import forbidden
from pbxlens.dashboards.pages.missed_calls import _db, _ts
from pbxlens.missed_calls import operations as op
from pbxlens.store import users
from pbxlens.store.privacy import mask_number

dash.register_page(__name__, path="/missed/manage", name="Missed calls · manage",
                   title="pbxlens · missed calls")

REPORTS = ("missed.dashboard", "missed.today", "missed.caller_queue", "missed.history")


def allowed(user) -> bool:
    return user is not None and not user.disabled and user.role in ("supervisor", "admin")


def _rows() -> list[dict]:
    user = web.user()
    out = []
    for r in op.list_requests(_db(), op.Actor.of(user), "assign"):
        out.append({"id": op.token(r["request_key"]),
                    "call_num": r["call_num"] if user.privacy else mask_number(r["call_num"]),
                    "num_recalled": r["num_recalled"], "last_recalled": _ts(r["last_recalled"]),
                    "first_call": _ts(r["first_call"]), "last_call": _ts(r["last_call"]),
                    "num_calls": r["num_calls"], "booked_by": r["booked_by"] or ""})
    return out


def _operators():
    user = web.user()
    return op.eligible_operators(_db(), user.tenant, users.list_users(web.store()))


def layout(**_kwargs):
    user, lang = web.user(), web.lang()
    if not allowed(user):
        return forbidden(lang)
    cols = [{"field": "call_num", "headerName": t("mc_call_num", lang), "checkboxSelection": True,
             "headerCheckboxSelection": True}] + [
        {"field": f, "headerName": t(k, lang)} for f, k in (
            ("num_recalled", "mc_recalled"), ("last_recalled", "mc_last_recalled"),
            ("first_call", "mc_first_call"), ("last_call", "mc_last_call"),
            ("num_calls", "mc_calls"), ("booked_by", "mc_booked_by"))]
    ops = [{"value": u.username, "label": f"{u.extension} ({u.username})"} for u in _operators()]
    return html.Div([
        html.H1(t("mc_manage", lang)),
        html.Nav([dcc.Link(r, href=f"/reports/{r}", className="pbx-tab") for r in REPORTS],
                 className="pbx-tabs", id="mm-reports"),
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
            dag.AgGrid(id="mm-grid", rowData=_rows(), columnDefs=cols, getRowId="params.data.id",
                       columnSize="sizeToFit",
                       dashGridOptions={"rowSelection": "multiple", "domLayout": "autoHeight",
                                        "pagination": True, "paginationPageSize": 50},
                       className="ag-theme-alpine pbx-grid"),
        ], className="pbx-card"),
    ])


@dash.callback(
    Output("mm-grid", "rowData"), Output("mm-msg", "children"),
    Input("mm-assign", "n_clicks"), Input("mm-unassign", "n_clicks"), Input("mm-flush", "n_clicks"),
    State("mm-grid", "selectedRows"), State("mm-operator", "value"),
    prevent_initial_call=True,
)
def manage(_a, _u, _f, selected, operator):
    user, lang = web.user(), web.lang()
    if not allowed(user):
        return no_update, t("forbidden", lang)
    if not selected:
        return no_update, t("mc_select", lang)
    db, actor, trig = _db(), op.Actor.of(user), dash.ctx.triggered_id
    keys = [op.resolve(db, actor.tenant, r["id"]) for r in selected]
    try:
        if trig == "mm-flush":
            n = op.flush(db, actor, keys)
            msg = t("mc_flushed", lang, n=n)
        elif trig == "mm-unassign":
            for k in keys:
                op.cancel(db, actor, k)
            msg = t("mc_unassigned", lang, n=len(keys))
        else:
            target = next((u for u in users.list_users(web.store()) if u.username == operator), None)
            if target is None:
                return no_update, t("mc_operator", lang)
            for k in keys:
                op.assign(db, actor, k, target)
            msg = t("mc_assigned", lang, n=len(keys), name=target.username)
    except op.MissedError as exc:
        return _rows(), html.Span(str(exc), className="pbx-alert")
    return _rows(), msg
