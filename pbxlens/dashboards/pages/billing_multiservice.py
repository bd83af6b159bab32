"""Billing: multiservice (nexus_modules.md C.5) for finance and admin: the service catalog,
each company's contract period, the quantities entered per company and period; the billing
itself is the catalog report `billing.multiservice` (page, XLSX "Export fatturazione")."""

from __future__ import annotations

import dash
import dash_ag_grid as dag
from dash import Input, Output, State, dcc, html, no_update

from pbxlens import PbxlensError
from pbxlens.billing import multiservice as ms
from pbxlens.dashboards import access
from pbxlens.dashboards import context as web
from pbxlens.dashboards.components.tables import columns, display_rows
from pbxlens.dashboards.i18n import error_text, t
from pbxlens.dashboards.pages.billing_home import billing_tabs
from pbxlens.dashboards.pages.common import error_box, forbidden, page_title

dash.register_page(__name__, path="/billing/multiservice", name="Multiservice",
                   title=page_title("multiservice"))


def _data(tenant: str, lang: str) -> tuple[list[dict], list[dict], list[dict]]:
    with web.store().cursor() as cur:
        services = ms.list_services(cur, tenant=tenant)
        for r in services:
            r["kind"] = t(f"ms_kind_{r['kind']}", lang)
        return (display_rows(services, lang), display_rows(ms.list_contracts(cur, tenant=tenant),
                                                           lang),
                display_rows(ms.list_quantities(cur, tenant=tenant), lang))


def _field(label: str, cid: str, **kw) -> html.Div:
    return html.Div([html.Label(label), dcc.Input(id=cid, className="pbx-input", **kw)],
                    className="pbx-field")


def _grid(gid: str, rows: list[dict], cols: tuple[str, ...], lang: str) -> dag.AgGrid:
    return dag.AgGrid(id=gid, rowData=rows, columnDefs=columns(cols, lang, "ms_"),
                      dashGridOptions={"rowSelection": "single", "domLayout": "autoHeight"},
                      className="ag-theme-alpine pbx-grid")


def layout(**_kwargs):
    lang, user = web.lang(), web.user()
    if not access.can_manage_billing(user):
        return forbidden(lang)
    services, contracts, quantities = _data(user.tenant, lang)
    kinds = [{"value": k, "label": t(f"ms_kind_{k}", lang)} for k in ms.KINDS]
    return html.Div([
        billing_tabs("/billing/multiservice", lang),
        html.H1(t("multiservice", lang)),
        dcc.Link(t("ms_report", lang) + " →", href="/reports/billing.multiservice",
                 id="bm-report"),
        html.Div(id="bm-msg", className="pbx-msg"),
        html.Section([
            html.H3(t("services", lang)),
            html.Div([
                _field(t("ms_service", lang), "bm-s-name"),
                html.Div([html.Label(t("ms_kind", lang)), dcc.Dropdown(id="bm-s-kind", options=kinds,
                                                           value="units", clearable=False)],
                         className="pbx-field"),
                _field(t("ms_rate", lang), "bm-s-rate"),
                _field(t("ms_free_limit", lang), "bm-s-free"),
                _field(t("ms_answer_charge", lang), "bm-s-answer"),
                html.Button(t("add", lang), id="bm-s-add", n_clicks=0,
                            className="pbx-btn pbx-btn-primary"),
                html.Button(t("delete_selected", lang), id="bm-s-del", n_clicks=0,
                            className="pbx-btn"),
            ], className="pbx-filters"),
            _grid("bm-services", services, ("id", "name", "kind", "rate", "free_limit",
                                            "answer_charge"), lang),
        ], className="pbx-card"),
        html.Section([
            html.H3(t("contracts", lang)),
            html.Div([
                _field(t("ms_company", lang), "bm-c-company"),
                _field(t("ms_from", lang), "bm-c-from", placeholder="2026-01-31"),
                _field(t("ms_to", lang), "bm-c-to", placeholder="2026-12-31"),
                html.Button(t("save", lang), id="bm-c-save", n_clicks=0,
                            className="pbx-btn pbx-btn-primary"),
                html.Button(t("delete_selected", lang), id="bm-c-del", n_clicks=0,
                            className="pbx-btn"),
            ], className="pbx-filters"),
            _grid("bm-contracts", contracts, ("company", "company_name", "valid_from", "valid_to"),
                  lang),
        ], className="pbx-card"),
        html.Section([
            html.H3(t("quantities", lang)),
            html.Div([
                _field(t("ms_company", lang), "bm-q-company"),
                _field(t("ms_service_id", lang), "bm-q-service"),
                _field(t("ms_from", lang), "bm-q-from", placeholder="2026-01-01"),
                _field(t("ms_to", lang), "bm-q-to", placeholder="2026-01-31"),
                _field(t("ms_quantity", lang), "bm-q-qty"),
                html.Button(t("add", lang), id="bm-q-add", n_clicks=0,
                            className="pbx-btn pbx-btn-primary"),
                html.Button(t("delete_selected", lang), id="bm-q-del", n_clicks=0,
                            className="pbx-btn"),
            ], className="pbx-filters"),
            _grid("bm-quantities", quantities, ("id", "company", "service", "period_from",
                                                "period_to", "quantity"), lang),
        ], className="pbx-card"),
    ])


@dash.callback(
    Output("bm-services", "rowData"), Output("bm-contracts", "rowData"),
    Output("bm-quantities", "rowData"), Output("bm-msg", "children"),
    Input("bm-s-add", "n_clicks"), Input("bm-s-del", "n_clicks"), Input("bm-c-save", "n_clicks"),
    Input("bm-c-del", "n_clicks"), Input("bm-q-add", "n_clicks"), Input("bm-q-del", "n_clicks"),
    State("bm-s-name", "value"), State("bm-s-kind", "value"), State("bm-s-rate", "value"),
    State("bm-s-free", "value"), State("bm-s-answer", "value"),
    State("bm-c-company", "value"), State("bm-c-from", "value"), State("bm-c-to", "value"),
    State("bm-q-company", "value"), State("bm-q-service", "value"), State("bm-q-from", "value"),
    State("bm-q-to", "value"), State("bm-q-qty", "value"),
    State("bm-services", "selectedRows"), State("bm-contracts", "selectedRows"),
    State("bm-quantities", "selectedRows"),
    prevent_initial_call=True,
)
def multiservice_action(_1, _2, _3, _4, _5, _6, s_name, s_kind, s_rate, s_free, s_answer,
                        c_company, c_from, c_to, q_company, q_service, q_from, q_to, q_qty,
                        sel_s, sel_c, sel_q):
    user, lang = web.user(), web.lang()
    if not access.can_manage_billing(user):
        return no_update, no_update, no_update, error_box(t("forbidden", lang))
    trig, ten = dash.ctx.triggered_id, user.tenant
    try:
        with web.store().writing() as cur:
            mine = {r["id"] for r in ms.list_services(cur, tenant=ten)}
            if trig == "bm-s-add":
                ms.add_service(cur, tenant=ten, name=s_name, kind=s_kind, rate=s_rate,
                               free_limit=s_free or 0, answer_charge=s_answer or None)
            elif trig == "bm-s-del" and sel_s and int(sel_s[0]["id"]) in mine:
                ms.delete_service(cur, int(sel_s[0]["id"]))
            elif trig == "bm-c-save":
                ms.set_contract(cur, c_company or "", c_from, c_to or None, tenant=ten)
            elif trig == "bm-c-del" and sel_c:
                ms.delete_contract(cur, sel_c[0]["company"], tenant=ten)
            elif trig == "bm-q-add":
                if not str(q_service or "").strip().isdigit():
                    raise PbxlensError(t("ms_service_not_number", lang))
                ms.add_quantity(cur, q_company or "", int(q_service), q_from, q_to, q_qty,
                                tenant=ten)
            elif trig == "bm-q-del" and sel_q:
                qids = {r["id"] for r in ms.list_quantities(cur, tenant=ten)}
                if int(sel_q[0]["id"]) in qids:
                    ms.delete_quantity(cur, int(sel_q[0]["id"]))
            elif trig in ("bm-s-del", "bm-c-del", "bm-q-del"):
                return no_update, no_update, no_update, t("select_row", lang)
    except PbxlensError as exc:
        return no_update, no_update, no_update, error_box(error_text(exc, lang))
    services, contracts, quantities = _data(ten, lang)
    return services, contracts, quantities, html.Span(t("saved", lang), id="bm-done")
