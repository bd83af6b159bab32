"""Admin: users (create, disable, role, privacy right, tenant, API token)."""

from __future__ import annotations

import dash
import dash_ag_grid as dag
from dash import Input, Output, State, dcc, html, no_update

from pbxlens import PbxlensError
from pbxlens.dashboards import access, admin
from pbxlens.dashboards import context as web
from pbxlens.dashboards.i18n import t
from pbxlens.dashboards.pages.common import admin_tabs, forbidden, page_title
from pbxlens.store import users

dash.register_page(__name__, path="/admin/users", name="Users", title=page_title("users"))


def _rows():
    return [{"id": u.id, "username": u.username, "role": u.role, "privacy": u.privacy,
             "tenant": u.tenant, "extension": u.extension or "", "lang": u.lang,
             "disabled": u.disabled} for u in users.list_users(web.store())]


def layout(**_kwargs):
    lang = web.lang()
    if not access.is_admin(web.user()):
        return forbidden(lang)
    roles = [{"value": r, "label": r} for r in users.ROLES]
    cols = [{"field": f, "headerName": t(k, lang)} for f, k in
            (("username", "username"), ("role", "role"), ("privacy", "privacy"),
             ("tenant", "tenant"), ("extension", "extension"), ("lang", "language"),
             ("disabled", "disabled"))]
    return html.Div([
        admin_tabs("/admin/users", lang),
        html.H1(t("users", lang)),
        html.Section([
            html.H3(t("create_user", lang)),
            html.Div([
                html.Div([html.Label(t("username", lang)), dcc.Input(id="au-name",
                                                                     className="pbx-input")],
                         className="pbx-field"),
                html.Div([html.Label(t("password", lang)),
                          dcc.Input(id="au-pass", type="password", className="pbx-input")],
                         className="pbx-field"),
                html.Div([html.Label(t("role", lang)),
                          dcc.Dropdown(id="au-role", options=roles, value="supervisor",
                                       clearable=False)], className="pbx-field"),
                html.Div([html.Label(t("tenant", lang)),
                          dcc.Input(id="au-tenant", value="default", className="pbx-input")],
                         className="pbx-field"),
                html.Div([html.Label(t("extension", lang)),
                          dcc.Input(id="au-ext", className="pbx-input")], className="pbx-field"),
                html.Div(dcc.Checklist(id="au-privacy", value=[],
                                       options=[{"value": "y", "label": " " + t("privacy", lang)}]),
                         className="pbx-field pbx-field-check"),
            ], className="pbx-filters"),
            html.Button(t("create_user", lang), id="au-create", n_clicks=0,
                        className="pbx-btn pbx-btn-primary"),
        ], className="pbx-card"),
        html.Section([
            html.Div([
                html.Button(t("toggle_disabled", lang), id="au-toggle", n_clicks=0,
                            className="pbx-btn"),
                html.Button(t("privacy", lang), id="au-priv-toggle", n_clicks=0,
                            className="pbx-btn"),
                dcc.Dropdown(id="au-set-role", options=roles, placeholder=t("role", lang),
                             style={"width": "180px"}),
                html.Button(t("new_token", lang), id="au-token", n_clicks=0, className="pbx-btn"),
            ], className="pbx-actions"),
            html.Div(id="au-msg", className="pbx-msg"),
            dag.AgGrid(id="au-grid", rowData=_rows(), columnDefs=cols,
                       dashGridOptions={"rowSelection": "single", "domLayout": "autoHeight"},
                       columnSize="sizeToFit", className="ag-theme-alpine pbx-grid"),
        ], className="pbx-card"),
    ])


@dash.callback(
    Output("au-grid", "rowData"), Output("au-msg", "children"),
    Input("au-create", "n_clicks"), Input("au-toggle", "n_clicks"),
    Input("au-priv-toggle", "n_clicks"), Input("au-set-role", "value"),
    Input("au-token", "n_clicks"),
    State("au-name", "value"), State("au-pass", "value"), State("au-role", "value"),
    State("au-tenant", "value"), State("au-ext", "value"), State("au-privacy", "value"),
    State("au-grid", "selectedRows"),
    prevent_initial_call=True,
)
def users_action(_c, _t, _p, new_role, _k, name, password, role, tenant, ext, privacy, selected):
    if not access.is_admin(web.user()):
        return no_update, t("forbidden", web.lang())
    store, trig, lang = web.store(), dash.ctx.triggered_id, web.lang()
    sel = (selected or [None])[0]
    msg = ""
    try:
        if trig == "au-create":
            u = users.create_user(store, name or "", password or "", role, privacy=bool(privacy),
                                 tenant=(tenant or "default").strip(), extension=ext or None,
                                 lang=admin.get_ui(store, "default_lang"))
            msg = t("created_user", lang, name=u.username)
        elif sel is None:
            return no_update, t("select_user", lang)
        elif trig == "au-toggle":
            users.update_user(store, sel["id"], disabled=not sel["disabled"])
        elif trig == "au-priv-toggle":
            users.update_user(store, sel["id"], privacy=not sel["privacy"])
        elif trig == "au-set-role" and new_role:
            users.update_user(store, sel["id"], role=new_role)
        elif trig == "au-token":
            msg = t("token_once", lang, name=sel["username"], token=users.issue_token(store, sel["id"]))
    except PbxlensError as exc:
        return no_update, str(exc)
    return _rows(), msg
