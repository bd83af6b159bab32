"""Admin: users. Create one; select one in the list to edit its role, extension, language,
privacy right, tenant, password (blank keeps it) and whether it is disabled; issue an API token.
The data layer is `pbxlens.store.users`."""

from __future__ import annotations

import dash
import dash_ag_grid as dag
from dash import Input, Output, State, dcc, html, no_update

from pbxlens import PbxlensError
from pbxlens.dashboards import access, admin
from pbxlens.dashboards import context as web
from pbxlens.dashboards.i18n import error_text, role_name, t
from pbxlens.dashboards.pages.common import admin_tabs, forbidden, page_title
from pbxlens.store import users

dash.register_page(__name__, path="/admin/users", name="Users", title=page_title("users"))

LANGS = ("it", "en")


def _rows(lang: str) -> list[dict]:
    yes, no = t("yes", lang), t("no", lang)
    return [{"id": u.id, "username": u.username, "role": role_name(u.role, lang),
             "privacy": yes if u.privacy else no, "tenant": u.tenant,
             "extension": u.extension or "", "lang": t(f"lang_{u.lang}", lang),
             "disabled": yes if u.disabled else no} for u in users.list_users(web.store())]


def _field(label: str, control) -> html.Div:
    return html.Div([html.Label(label), control], className="pbx-field")


def _choices(lang: str) -> tuple[list[dict], list[dict]]:
    return ([{"value": r, "label": role_name(r, lang)} for r in users.ROLES],
            [{"value": code, "label": t(f"lang_{code}", lang)} for code in LANGS])


def _create_form(lang: str) -> html.Section:
    roles, _langs = _choices(lang)
    return html.Section([
        html.H3(t("create_user", lang)),
        html.Div([
            _field(t("username", lang), dcc.Input(id="au-name", className="pbx-input")),
            _field(t("password", lang), dcc.Input(id="au-pass", type="password",
                                                  className="pbx-input")),
            _field(t("role", lang), dcc.Dropdown(id="au-role", options=roles, value="supervisor",
                                                 clearable=False)),
            _field(t("tenant", lang), dcc.Input(id="au-tenant", value="default",
                                                className="pbx-input")),
            _field(t("extension", lang), dcc.Input(id="au-ext", className="pbx-input")),
            html.Div(dcc.Checklist(id="au-privacy", value=[],
                                   options=[{"value": "y", "label": " " + t("privacy", lang)}]),
                     className="pbx-field pbx-field-check"),
        ], className="pbx-filters"),
        html.Button(t("create_user", lang), id="au-create", n_clicks=0,
                    className="pbx-btn pbx-btn-primary"),
    ], className="pbx-card")


def _edit_form(lang: str) -> html.Div:
    roles, langs = _choices(lang)
    checks = [{"value": "privacy", "label": " " + t("privacy", lang)},
              {"value": "disabled", "label": " " + t("disabled", lang)}]
    return html.Div([
        html.H3(t("edit_user", lang), id="au-edit-title"),
        html.Div([
            _field(t("role", lang), dcc.Dropdown(id="au-e-role", options=roles,
                                                 clearable=False)),
            _field(t("extension", lang), dcc.Input(id="au-e-ext", className="pbx-input",
                                                   placeholder=t("no_extension", lang))),
            _field(t("language", lang), dcc.Dropdown(id="au-e-lang", options=langs,
                                                     clearable=False)),
            _field(t("tenant", lang), dcc.Input(id="au-e-tenant", className="pbx-input")),
            _field(t("new_password", lang), dcc.Input(id="au-e-pass", type="password",
                                                      className="pbx-input",
                                                      placeholder=t("password_hint", lang))),
            html.Div(dcc.Checklist(id="au-e-flags", value=[], options=checks),
                     className="pbx-field pbx-field-check"),
        ], className="pbx-filters"),
        html.Div([html.Button(t("save", lang), id="au-save", n_clicks=0,
                              className="pbx-btn pbx-btn-primary"),
                  html.Button(t("new_token", lang), id="au-token", n_clicks=0,
                              className="pbx-btn")], className="pbx-actions"),
    ], id="au-edit", style={"display": "none"})


def layout(**_kwargs):
    lang = web.lang()
    if not access.is_admin(web.user()):
        return forbidden(lang)
    cols = [{"field": f, "headerName": t(k, lang),
             **({"cellClass": "pbx-data"} if f in ("username", "tenant") else {})}
            for f, k in (("username", "username"), ("role", "role"), ("privacy", "privacy"),
                         ("tenant", "tenant"), ("extension", "extension"), ("lang", "language"),
                         ("disabled", "disabled"))]
    return html.Div([
        admin_tabs("/admin/users", lang),
        html.H1(t("users", lang)),
        _create_form(lang),
        html.Section([
            html.Div(id="au-msg", className="pbx-msg"),
            dag.AgGrid(id="au-grid", rowData=_rows(lang), columnDefs=cols,
                       getRowId="params.data.id",
                       dashGridOptions={"rowSelection": "single", "domLayout": "autoHeight"},
                       columnSize="sizeToFit", className="ag-theme-alpine pbx-grid"),
            _edit_form(lang),
        ], className="pbx-card"),
    ])


@dash.callback(
    Output("au-edit", "style"), Output("au-e-role", "value"), Output("au-e-ext", "value"),
    Output("au-e-lang", "value"), Output("au-e-tenant", "value"), Output("au-e-flags", "value"),
    Output("au-e-pass", "value"),
    Input("au-grid", "selectedRows"),
    prevent_initial_call=True,
)
def fill_edit_form(selected):
    """The selected user's values in the edit form (from the store: the grid shows words)."""
    sel = (selected or [None])[0]
    u = users.get_user(web.store(), int(sel["id"])) if sel and access.is_admin(web.user()) \
        else None
    if u is None:
        return {"display": "none"}, None, "", None, "", [], ""
    flags = [f for f, on in (("privacy", u.privacy), ("disabled", u.disabled)) if on]
    return {"display": "block"}, u.role, u.extension or "", u.lang, u.tenant, flags, ""


@dash.callback(
    Output("au-grid", "rowData"), Output("au-msg", "children"),
    Input("au-create", "n_clicks"), Input("au-save", "n_clicks"), Input("au-token", "n_clicks"),
    State("au-name", "value"), State("au-pass", "value"), State("au-role", "value"),
    State("au-tenant", "value"), State("au-ext", "value"), State("au-privacy", "value"),
    State("au-e-role", "value"), State("au-e-ext", "value"), State("au-e-lang", "value"),
    State("au-e-tenant", "value"), State("au-e-flags", "value"), State("au-e-pass", "value"),
    State("au-grid", "selectedRows"),
    prevent_initial_call=True,
)
def users_action(_c, _s, _k, name, password, role, tenant, ext, privacy,
                 e_role, e_ext, e_lang, e_tenant, e_flags, e_pass, selected):
    lang = web.lang()
    if not access.is_admin(web.user()):
        return no_update, t("forbidden", lang)
    store, trig = web.store(), dash.ctx.triggered_id
    sel = (selected or [None])[0]
    try:
        if trig == "au-create":
            u = users.create_user(store, name or "", password or "", role, privacy=bool(privacy),
                                  tenant=(tenant or "default").strip(), extension=ext or None,
                                  lang=admin.get_ui(store, "default_lang"))
            return _rows(lang), t("created_user", lang, name=u.username)
        if sel is None:
            return no_update, t("select_user", lang)
        uid = int(sel["id"])
        if trig == "au-token":
            return no_update, t("token_once", lang, name=sel["username"],
                                token=users.issue_token(store, uid))
        flags = set(e_flags or [])
        users.update_user(store, uid, role=e_role, extension=(e_ext or "").strip() or None,
                          lang=e_lang if e_lang in LANGS else "it",
                          tenant=(e_tenant or "default").strip(), privacy="privacy" in flags,
                          disabled="disabled" in flags)
        if e_pass:
            users.set_password(store, uid, e_pass)
    except PbxlensError as exc:
        return no_update, error_text(exc, lang)
    return _rows(lang), t("user_saved", lang, name=sel["username"])
