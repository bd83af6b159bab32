"""Admin: the effective settings (read-only: defaults, TOML file, environment) and the web
app's own settings (stored in the database, editable here)."""

from __future__ import annotations

import dash
import dash_ag_grid as dag
from dash import ALL, Input, Output, State, dcc, html, no_update

from pbxlens import PbxlensError
from pbxlens.dashboards import access, admin
from pbxlens.dashboards import context as web
from pbxlens.dashboards.i18n import error_text, t
from pbxlens.dashboards.pages.common import admin_tabs, forbidden, page_title

dash.register_page(__name__, path="/admin/settings", name="Settings", title=page_title("settings"))


def _control(key: str, value, lang: str):
    spec = admin.UI_SETTINGS[key]
    cid = {"type": "as-ui", "key": key}
    if spec.choices:
        return dcc.Dropdown(id=cid, value=value, clearable=False,
                            options=[{"value": c, "label": c.upper()} for c in spec.choices])
    return dcc.Input(id=cid, type="number", value=value, min=spec.low, max=spec.high, step=1,
                     className="pbx-input")


def layout(**_kwargs):
    lang = web.lang()
    if not access.is_admin(web.user()):
        return forbidden(lang)
    store = web.store()
    rows = [{**r, "origin": t(f"origin_{r['origin']}", lang),
             "value": t("secret_generated", lang) if r["value"] == admin.SECRET_GENERATED
             else r["value"]} for r in admin.effective_settings()]
    cols = [{"field": "key", "headerName": t("setting", lang), "cellClass": "pbx-code"},
            {"field": "value", "headerName": t("value", lang), "cellClass": "pbx-code",
             "wrapText": True, "autoHeight": True, "flex": 2},
            {"field": "origin", "headerName": t("origin", lang)},
            {"field": "env", "headerName": t("env_var", lang), "cellClass": "pbx-code"}]
    editable = [html.Div([html.Label(t(k, lang)), _control(k, admin.get_ui(store, k), lang)],
                         className="pbx-field") for k in admin.UI_SETTINGS]
    return html.Div([
        admin_tabs("/admin/settings", lang),
        html.H1(t("settings", lang)),
        html.Section([
            html.H3(t("settings_editable", lang)),
            html.Div(editable, className="pbx-filters"),
            html.Button(t("save", lang), id="as-save", n_clicks=0,
                        className="pbx-btn pbx-btn-primary"),
            html.Span(id="as-msg", className="pbx-msg"),
        ], className="pbx-card"),
        html.Section([
            html.H3(t("settings", lang) + " · pbxlens.config"),
            html.P(t("settings_readonly", lang), className="pbx-muted", id="as-readonly"),
            dag.AgGrid(id="as-grid", rowData=rows, columnDefs=cols, columnSize="autoSize",
                       dashGridOptions={"domLayout": "autoHeight"},
                       className="ag-theme-alpine pbx-grid"),
        ], className="pbx-card"),
    ])


@dash.callback(
    Output("as-msg", "children"),
    Input("as-save", "n_clicks"),
    State({"type": "as-ui", "key": ALL}, "value"), State({"type": "as-ui", "key": ALL}, "id"),
    prevent_initial_call=True,
)
def save_settings(n, values, ids):
    lang = web.lang()
    if not n:
        return no_update
    if not access.is_admin(web.user()):
        return t("forbidden", lang)
    try:
        for cid, v in zip(ids, values, strict=True):
            admin.set_ui(web.store(), cid["key"], v)
    except PbxlensError as exc:
        return error_text(exc, lang)
    return t("saved", lang)
