"""Billing: Nexus tariffs (list, create, edit, delete, import, export) for finance and admin.

Every change goes through `pbxlens.billing.tariffs` (validation, then a re-rating of only the
calls the change can touch) under the store's write lock; tariffs are the user's tenant's."""

from __future__ import annotations

import tempfile
from pathlib import Path

import dash
import dash_ag_grid as dag
from dash import ALL, Input, Output, State, dcc, html, no_update

from pbxlens import PbxlensError
from pbxlens.billing import tariffs
from pbxlens.dashboards import access
from pbxlens.dashboards import context as web
from pbxlens.dashboards.components.tables import display_rows
from pbxlens.dashboards.i18n import error_text, t
from pbxlens.dashboards.pages.billing_home import billing_tabs, upload_to_file
from pbxlens.dashboards.pages.common import error_box, forbidden, page_title

dash.register_page(__name__, path="/billing/tariffs", name="Tariffs", title=page_title("tariffs"))

# form fields in the Nexus list order (nexus_modules.md C.1); labels: catalog keys tf_<field>
FORM = ("description", "company", "inbound_gateway", "outbound_config", "valid_from", "valid_to",
        "answer_charge", "rate_in", "rate_out", "free_minutes", "prefix", "countries",
        "initial_block_s", "increment_s", "min_charge")


def _mine(con, tenant: str) -> list[dict]:
    return [r for r in tariffs.list_tariffs(con) if r["tenant"] in (None, tenant)]


def _grid_rows(tenant: str, lang: str) -> list[dict]:
    with web.store().cursor() as cur:
        return display_rows(_mine(cur, tenant), lang)


def layout(**_kwargs):
    lang, user = web.lang(), web.user()
    if not access.can_manage_billing(user):
        return forbidden(lang)
    fields = [html.Div([html.Label(t(f"tf_{k}", lang)),
                        dcc.Input(id={"type": "bt-f", "key": k}, className="pbx-input",
                                  type="text", debounce=False)], className="pbx-field")
              for k in FORM]
    fields.append(html.Div(dcc.Checklist(id="bt-active", value=["y"],
                                         options=[{"value": "y", "label": " " + t("active", lang)}]),
                           className="pbx-field pbx-field-check"))
    cols = [{"field": "id", "headerName": t("id", lang), "width": 70}] + [
        {"field": k, "headerName": t(f"tf_{k}", lang)} for k in FORM] + [
        {"field": "active", "headerName": t("active", lang)}]
    return html.Div([
        billing_tabs("/billing/tariffs", lang),
        html.H1(t("tariffs", lang)),
        dcc.Store(id="bt-editing"),
        html.Section([
            html.Div(fields, className="pbx-filters", id="bt-form"),
            html.Div([html.Button(t("save", lang), id="bt-save", n_clicks=0,
                                  className="pbx-btn pbx-btn-primary"),
                      html.Button(t("new", lang), id="bt-new", n_clicks=0, className="pbx-btn")],
                     className="pbx-actions"),
        ], className="pbx-card"),
        html.Section([
            html.Div([
                html.Button(t("edit_selected", lang), id="bt-edit", n_clicks=0, className="pbx-btn"),
                html.Button(t("delete_selected", lang), id="bt-delete", n_clicks=0,
                            className="pbx-btn"),
                html.Button(t("export_file", lang) + " XLSX", id="bt-export", n_clicks=0,
                            className="pbx-btn"),
                dcc.Upload(html.Div(t("import_file", lang)), id="bt-upload", accept=".csv,.xlsx",
                           className="pbx-drop"),
            ], className="pbx-actions"),
            html.Div(id="bt-msg", className="pbx-msg"),
            dcc.Download(id="bt-download"),
            dag.AgGrid(id="bt-grid", rowData=_grid_rows(user.tenant, lang), columnDefs=cols,
                       dashGridOptions={"rowSelection": "single", "domLayout": "autoHeight"},
                       className="ag-theme-alpine pbx-grid"),
        ], className="pbx-card"),
    ])


def _stats(s: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in s.items() if k != "run_id")


@dash.callback(
    Output("bt-grid", "rowData"), Output("bt-msg", "children"), Output("bt-editing", "data"),
    Input("bt-save", "n_clicks"), Input("bt-delete", "n_clicks"), Input("bt-upload", "contents"),
    State("bt-upload", "filename"), State("bt-editing", "data"), State("bt-active", "value"),
    State({"type": "bt-f", "key": ALL}, "value"), State({"type": "bt-f", "key": ALL}, "id"),
    State("bt-grid", "selectedRows"),
    prevent_initial_call=True,
)
def tariff_action(_s, _d, contents, filename, editing, active, values, ids, selected):
    user, lang = web.user(), web.lang()
    if not access.can_manage_billing(user):
        return no_update, error_box(t("forbidden", lang)), no_update
    trig = dash.ctx.triggered_id
    form = {i["key"]: (v if v not in ("",) else None) for i, v in zip(ids, values, strict=True)}
    try:
        with web.store().writing() as cur:
            if trig == "bt-save":
                form["active"] = bool(active)
                if editing:
                    if editing not in {r["id"] for r in _mine(cur, user.tenant)}:
                        raise PbxlensError(f"no tariff {editing}")
                    tariffs.update_tariff(cur, int(editing), **form)
                    msg, tid = f"{t('saved', lang)} #{editing}", editing
                else:
                    tid = tariffs.add_tariff(cur, tenant=user.tenant, **form)
                    msg = f"{t('saved', lang)} #{tid}"
                return _grid_rows(user.tenant, lang), html.Span(msg, id="bt-done"), tid
            if trig == "bt-delete":
                if not selected:
                    return no_update, t("select_row", lang), no_update
                tid = int(selected[0]["id"])
                if tid not in {r["id"] for r in _mine(cur, user.tenant)}:
                    raise PbxlensError(f"no tariff {tid}")
                tariffs.delete_tariff(cur, tid)
                return _grid_rows(user.tenant, lang), t("deleted", lang), None
            if trig == "bt-upload" and contents:
                with tempfile.TemporaryDirectory(prefix="pbxlens-tariffs-") as tmp:
                    s = tariffs.import_tariffs(cur, upload_to_file(contents, filename, tmp),
                                               tenant=user.tenant)
                return (_grid_rows(user.tenant, lang),
                        html.Span(t("imported", lang, stats=_stats(s)), id="bt-done"), no_update)
    except PbxlensError as exc:
        return no_update, error_box(error_text(exc, lang)), no_update
    return no_update, no_update, no_update


@dash.callback(
    Output({"type": "bt-f", "key": ALL}, "value"), Output("bt-active", "value"),
    Output("bt-editing", "data", allow_duplicate=True),
    Input("bt-edit", "n_clicks"), Input("bt-new", "n_clicks"),
    State("bt-grid", "selectedRows"), State({"type": "bt-f", "key": ALL}, "id"),
    prevent_initial_call=True,
)
def fill_form(_e, _n, selected, ids):
    if dash.ctx.triggered_id == "bt-new" or not selected:
        return ["" for _ in ids], ["y"], None
    r = selected[0].get("_raw") or selected[0]
    return [r.get(i["key"], "") for i in ids], (["y"] if r.get("active") else []), r["id"]


@dash.callback(
    Output("bt-download", "data"), Input("bt-export", "n_clicks"), prevent_initial_call=True,
)
def export_tariffs(n):
    user = web.user()
    if not n or not access.can_manage_billing(user):
        return no_update
    with tempfile.TemporaryDirectory(prefix="pbxlens-tariffs-") as tmp:
        out = Path(tmp) / "tariffs.xlsx"
        with web.store().cursor() as cur:
            tariffs.export_tariffs(cur, out, tenant=user.tenant)
        data = out.read_bytes()
    return dcc.send_bytes(data, "tariffs.xlsx")
