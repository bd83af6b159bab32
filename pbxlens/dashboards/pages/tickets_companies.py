"""Companies and contacts of the ticket module (nexus_modules.md B.1 "customer master data"):
their numbers (masked without the privacy right) and financial data, and the XLSX/CSV import
validated row by row with the report of rejected rows (admins and supervisors)."""

from __future__ import annotations

import base64

import dash
import dash_ag_grid as dag
from dash import Input, Output, State, dcc, html

from pbxlens import PbxlensError
from pbxlens.dashboards import access
from pbxlens.dashboards import context as web
from pbxlens.dashboards.i18n import error_text, t
from pbxlens.dashboards.pages.common import forbidden, page_title
from pbxlens.tickets import files, views

dash.register_page(__name__, path="/tickets/companies", name="Companies", title=page_title("companies"))


def _rows() -> list[dict]:
    with web.store().ops_read() as c:
        return views.company_rows(c, web.user())  # numbers masked for the user


def layout(**_kwargs):
    u, lang = web.user(), web.lang()
    if not access.can_use_tickets(u):
        return forbidden(lang)
    tools = []
    if u.role in ("admin", "supervisor"):
        tools.append(
            dcc.Upload(
                html.Button(t("import_xlsx", lang), className="pbx-btn"),
                id="tc-import",
                accept=".xlsx,.csv",
                max_size=20 * 1024 * 1024,
            )
        )
    return html.Div(
        [
            html.H1(t("companies", lang)),
            html.Div(
                [dcc.Link(t("tickets", lang), href="/tickets", className="pbx-btn"), *tools],
                className="pbx-actions",
            ),
            html.Div(id="tc-msg", className="pbx-msg"),
            dag.AgGrid(
                id="tc-grid",
                rowData=_rows(),
                columnDefs=[
                    {"field": f, "headerName": t(f, lang)}
                    for f in ("company", "contact", "email", "phones", "outlook", "exposure")
                ],
                dashGridOptions={"domLayout": "autoHeight", "pagination": True, "paginationPageSize": 50},
                columnSize="autoSize",  # each column as wide as its values: no cut e-mail
                className="ag-theme-alpine pbx-grid",
            ),
        ]
    )


@dash.callback(
    Output("tc-msg", "children"),
    Output("tc-grid", "rowData"),
    Input("tc-import", "contents"),
    State("tc-import", "filename"),
    prevent_initial_call=True,
)
def import_file(contents, filename):
    u, lang = web.user(), web.lang()
    if u is None or u.role not in ("admin", "supervisor") or not contents:
        return t("forbidden", lang), dash.no_update
    data = base64.b64decode(contents.split(",", 1)[1])
    try:
        with web.store().ops_write() as c:
            rep = files.import_companies(c, filename or "upload.xlsx", data=data, tenant=u.tenant)
    except PbxlensError as exc:
        return error_text(exc, lang), dash.no_update
    return html.Div(
        [
            html.Div(t("imported_rows", lang, ok=rep.imported, bad=len(rep.rejected))),
            html.Ul([html.Li(f"{t('line', lang)} {ln}: {error_text(r, lang)}")
                     for ln, r in rep.rejected], id="tc-rejected"),
        ]
    ), _rows()
