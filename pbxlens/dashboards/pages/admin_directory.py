"""Admin: import the PBX directory (`directory.json`) through `ingest_paths`, under the
store's write lock, and show what the directory holds now."""

from __future__ import annotations

import base64

import dash
import dash_ag_grid as dag
from dash import Input, Output, State, dcc, html, no_update

from pbxlens import PbxlensError
from pbxlens.dashboards import access, admin
from pbxlens.dashboards import context as web
from pbxlens.dashboards.i18n import error_text, t
from pbxlens.dashboards.pages.common import admin_tabs, error_box, forbidden, page_title

dash.register_page(__name__, path="/admin/directory", name="Directory",
                   title=page_title("directory"))

MAX_BYTES = 50 * 1024 * 1024  # a directory is small; the browser holds it in memory


def _counts_grid(lang: str) -> dag.AgGrid:
    rows = admin.directory_counts(web.store())
    cols = [{"field": "tenant", "headerName": t("tenant", lang), "cellClass": "pbx-code"}] + [
        {"field": f, "headerName": t(f"dir_{f}", lang), "type": "rightAligned"}
        for f in ("operators", "accounts", "queues")]
    return dag.AgGrid(id="ad-grid", rowData=rows, columnDefs=cols, columnSize="sizeToFit",
                      dashGridOptions={"domLayout": "autoHeight"},
                      className="ag-theme-alpine pbx-grid")


def layout(**_kwargs):
    lang = web.lang()
    if not access.is_admin(web.user()):
        return forbidden(lang)
    return html.Div([
        admin_tabs("/admin/directory", lang),
        html.H1(t("directory", lang)),
        html.Section([
            html.H3(t("directory_import", lang)),
            html.P(t("directory_help", lang), className="pbx-muted"),
            dcc.Upload(html.Div(t("drop_file", lang)), id="ad-upload", accept=".json",
                       max_size=MAX_BYTES, className="pbx-drop"),
            html.Div(id="ad-msg", className="pbx-msg"),
        ], className="pbx-card"),
        html.Section([html.H3(t("directory_now", lang)),
                      html.Div(_counts_grid(lang), id="ad-counts")], className="pbx-card"),
    ])


@dash.callback(
    Output("ad-msg", "children"), Output("ad-counts", "children"),
    Input("ad-upload", "contents"), State("ad-upload", "filename"),
    prevent_initial_call=True,
)
def import_directory(contents, filename):
    lang = web.lang()
    if not contents:
        return no_update, no_update
    if not access.is_admin(web.user()):
        return t("forbidden", lang), no_update
    try:
        data = base64.b64decode(contents.split(",", 1)[1])
        r = admin.import_directory(web.store(), filename or "directory.json", data)
    except (PbxlensError, ValueError, IndexError) as exc:
        return error_box(error_text(exc, lang)), no_update
    msg = t("dir_loaded", lang, file=filename, n=r.rows_loaded) + (
        f" ({r.skipped})" if r.skipped else "")
    return html.Span(msg, id="ad-done"), _counts_grid(lang)
