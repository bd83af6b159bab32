"""Billing: PBX billing profiles (the PBX's XLSX template: import, export, delete) and the
outgoing lines they value, for finance and admin; the user's tenant only."""

from __future__ import annotations

import tempfile
from pathlib import Path

import dash
import dash_ag_grid as dag
from dash import Input, Output, State, dcc, html, no_update

from pbxlens import PbxlensError
from pbxlens.billing import profiles
from pbxlens.dashboards import access
from pbxlens.dashboards import context as web
from pbxlens.dashboards.components.tables import columns, shown
from pbxlens.dashboards.i18n import error_text, t
from pbxlens.dashboards.pages.billing_home import billing_tabs, upload_to_file
from pbxlens.dashboards.pages.common import error_box, forbidden, page_title
from pbxlens.reports import format as fmt

dash.register_page(__name__, path="/billing/profiles", name="Billing profiles",
                   title=page_title("profiles"))

RULE_COLS = ("name", "enabled", "type", "selection", "connectionfee", "connectionduration",
             "nextunitsfee", "nextunitsduration")


def _rows(tenant: str, lang: str) -> tuple[list[dict], list[dict]]:
    """One row per rule (the PBX template's columns, values in `lang`), and the lines."""
    with web.store().cursor() as cur:
        profs = profiles.list_profiles(cur, tenant=tenant)
        lines = [{"line": ln, "profile": p} for ten, ln, p in profiles.lines(cur) if ten == tenant]
    out = []
    for p in profs:
        for r in p["rules"]:
            out.append({"name": p["name"], "enabled": shown(p["enabled"], lang),
                        "type": t(f"pf_{r['kind']}", lang), "selection": r["selection"] or "",
                        "connectionfee": fmt.exact(r["connection_fee"], lang=lang),
                        "connectionduration": shown(r["connection_s"], lang),
                        "nextunitsfee": fmt.exact(r["next_fee"], lang=lang),
                        "nextunitsduration": shown(r["next_s"], lang)})
    return out, lines


def layout(**_kwargs):
    lang, user = web.lang(), web.user()
    if not access.can_manage_billing(user):
        return forbidden(lang)
    rules, lines = _rows(user.tenant, lang)
    return html.Div([
        billing_tabs("/billing/profiles", lang),
        html.H1(t("profiles", lang)),
        html.Section([
            html.Div([
                dcc.Upload(html.Div(t("import_file", lang)), id="bp-upload", accept=".csv,.xlsx",
                           className="pbx-drop"),
                html.Button(t("export_file", lang) + " XLSX", id="bp-export", n_clicks=0,
                            className="pbx-btn"),
                html.Button(t("delete_selected", lang), id="bp-delete", n_clicks=0,
                            className="pbx-btn"),
            ], className="pbx-actions"),
            html.Div(id="bp-msg", className="pbx-msg"),
            dcc.Download(id="bp-download"),
            dag.AgGrid(id="bp-grid", rowData=rules,
                       columnDefs=columns(RULE_COLS, lang, "pf_"),
                       dashGridOptions={"rowSelection": "single", "domLayout": "autoHeight"},
                       className="ag-theme-alpine pbx-grid"),
        ], className="pbx-card"),
        html.Section([
            html.H3(t("attach_line", lang)),
            html.Div([
                html.Div([html.Label(t("line_out", lang)),
                          dcc.Input(id="bp-line", className="pbx-input")], className="pbx-field"),
                html.Div([html.Label(t("profiles", lang)),
                          dcc.Input(id="bp-profile", className="pbx-input")], className="pbx-field"),
                html.Button(t("save", lang), id="bp-attach", n_clicks=0,
                            className="pbx-btn pbx-btn-primary"),
            ], className="pbx-filters"),
            dag.AgGrid(id="bp-lines", rowData=lines,
                       columnDefs=[{"field": "line", "headerName": t("line_out", lang)},
                                   {"field": "profile", "headerName": t("profiles", lang)}],
                       dashGridOptions={"domLayout": "autoHeight"},
                       className="ag-theme-alpine pbx-grid"),
        ], className="pbx-card"),
    ])


@dash.callback(
    Output("bp-grid", "rowData"), Output("bp-lines", "rowData"), Output("bp-msg", "children"),
    Input("bp-upload", "contents"), Input("bp-delete", "n_clicks"), Input("bp-attach", "n_clicks"),
    State("bp-upload", "filename"), State("bp-grid", "selectedRows"), State("bp-line", "value"),
    State("bp-profile", "value"),
    prevent_initial_call=True,
)
def profile_action(contents, _d, _a, filename, selected, line, profile):
    user, lang = web.user(), web.lang()
    if not access.can_manage_billing(user):
        return no_update, no_update, error_box(t("forbidden", lang))
    trig = dash.ctx.triggered_id
    try:
        with web.store().writing() as cur:
            if trig == "bp-upload" and contents:
                with tempfile.TemporaryDirectory(prefix="pbxlens-profiles-") as tmp:
                    s = profiles.import_profiles(cur, upload_to_file(contents, filename, tmp),
                                                 tenant=user.tenant)
                msg = t("imported", lang, stats=t("profiles_rules", lang, **s))
            elif trig == "bp-delete":
                if not selected:
                    return no_update, no_update, t("select_row", lang)
                profiles.delete_profile(cur, selected[0]["name"], tenant=user.tenant)
                msg = t("deleted", lang)
            elif trig == "bp-attach":
                if not (line or "").strip():
                    raise PbxlensError(t("required", lang, what=t("line_out", lang)))
                profiles.set_line(cur, line.strip(), (profile or "").strip() or None,
                                  tenant=user.tenant)
                msg = t("saved", lang)
            else:
                return no_update, no_update, no_update
    except PbxlensError as exc:
        return no_update, no_update, error_box(error_text(exc, lang))
    rules, lines = _rows(user.tenant, lang)
    return rules, lines, html.Span(msg, id="bp-done")


@dash.callback(
    Output("bp-download", "data"), Input("bp-export", "n_clicks"), prevent_initial_call=True,
)
def export_profiles(n):
    user = web.user()
    if not n or not access.can_manage_billing(user):
        return no_update
    with tempfile.TemporaryDirectory(prefix="pbxlens-profiles-") as tmp:
        out = Path(tmp) / "billing_profiles.xlsx"
        with web.store().cursor() as cur:
            profiles.export_profiles(cur, out, tenant=user.tenant)
        data = out.read_bytes()
    return dcc.send_bytes(data, "billing_profiles.xlsx")
