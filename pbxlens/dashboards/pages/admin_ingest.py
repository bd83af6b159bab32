"""Admin: ingest status (batches and quarantine counts, read-only) and upload of export files."""

from __future__ import annotations

import dash
import dash_ag_grid as dag
from dash import html

from pbxlens.config import get_settings
from pbxlens.dashboards import access
from pbxlens.dashboards import context as web
from pbxlens.dashboards.i18n import t
from pbxlens.dashboards.pages.common import admin_tabs, forbidden, page_title
from pbxlens.reports import format as fmt

dash.register_page(__name__, path="/admin/ingest", name="Ingest", title=page_title("ingest"))

_BATCHES = """
SELECT b.batch_id, b.source, b.format, b.tenant, b.rows_read, b.rows_loaded, b.rows_duplicate,
       b.rows_quarantined, b.calls_loaded, b.finished_at
FROM ingest_batches b ORDER BY b.batch_id DESC LIMIT 200"""
_QUARANTINE = "SELECT reason, count(*) AS rows FROM quarantine GROUP BY reason ORDER BY rows DESC"
# column -> catalog key of its header; identifiers (paths, formats) are shown as code
HEADERS = {"batch_id": "batch", "source": "file", "format": "format", "tenant": "tenant",
           "rows_read": "rows_read", "rows_loaded": "rows_loaded",
           "rows_duplicate": "rows_duplicate", "rows_quarantined": "rows_quarantined",
           "calls_loaded": "calls_loaded", "finished_at": "finished_at", "reason": "reason",
           "rows": "rows"}
CODE = ("source", "format", "tenant")


def _table(cur, sql: str, grid_id: str, lang: str):
    rel = cur.execute(sql)
    cols = [d[0] for d in rel.description]
    rows = []
    for r in rel.fetchall():
        row = dict(zip(cols, r, strict=True))
        rows.append({k: (fmt.count(v, lang=lang) or "0" if isinstance(v, int) and k != "batch_id"
                         else fmt.value(v, lang=lang)) for k, v in row.items()})
    defs = [{"field": c, "headerName": t(HEADERS.get(c, c), lang),
             **({"cellClass": "pbx-code"} if c in CODE else {}),
             **({"type": "rightAligned"} if c.startswith(("rows", "calls")) else {})}
            for c in cols]
    return dag.AgGrid(id=grid_id, rowData=rows, columnDefs=defs,
                      dashGridOptions={"domLayout": "autoHeight" if len(rows) < 25 else "normal"},
                      columnSize="autoSize", className="ag-theme-alpine pbx-grid")


def layout(**_kwargs):
    lang = web.lang()
    if not access.is_admin(web.user()):
        return forbidden(lang)
    limit = get_settings().max_upload_bytes
    with web.store().cursor() as cur:
        batches = _table(cur, _BATCHES, "ai-batches", lang)
        quarantine = _table(cur, _QUARANTINE, "ai-quarantine", lang)
    return html.Div([
        admin_tabs("/admin/ingest", lang),
        html.H1(t("ingest", lang)),
        html.Section([
            html.H3(t("upload", lang)),
            html.Div(f"{t('max_size', lang)}: {limit // (1024 * 1024)} MiB", className="pbx-muted"),
            # a plain multipart form (Dash has no file input that streams to disk)
            html.Iframe(src="/admin/upload", id="ai-upload", className="pbx-upload-frame"),
        ], className="pbx-card"),
        html.Section([html.H3(t("batches", lang)), batches], className="pbx-card"),
        html.Section([html.H3(t("quarantine", lang)), quarantine], className="pbx-card"),
    ])
