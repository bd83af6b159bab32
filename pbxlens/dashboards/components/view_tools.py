"""The report page's saved-view and background-export tools: a "Save view" form that stores the
applied state (the page's URL query: period, dates, filters) under a name, and "Export in
background", which queues the applied report as an XLSX export and follows it to its link."""

from __future__ import annotations

from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import dash
from dash import Input, Output, State, ctx, dcc, html, no_update

from pbxlens import PbxlensError
from pbxlens.config import get_settings
from pbxlens.dashboards import context as web
from pbxlens.dashboards import service
from pbxlens.dashboards.i18n import t
from pbxlens.reports import format as fmt
from pbxlens.views import exports, saved
from pbxlens.views import query as urlstate

POLL_MS = 1000


def buttons(lang: str) -> list:
    return [html.Button(t("save_view", lang), id="rp-sv-btn", n_clicks=0, className="pbx-btn"),
            html.Button(t("export_bg", lang), id="rp-bg-btn", n_clicks=0, className="pbx-btn")]


def panels(lang: str) -> list:
    form = html.Div([
        html.Div([html.Label(t("view_name", lang)),
                  dcc.Input(id="rp-sv-name", className="pbx-input", maxLength=saved.NAME_MAX)],
                 className="pbx-field"),
        html.Div(dcc.Checklist(id="rp-sv-shared", value=[],
                               options=[{"value": "y", "label": " " + t("view_shared", lang)}]),
                 className="pbx-field pbx-field-check"),
        html.Button(t("save", lang), id="rp-sv-save", n_clicks=0,
                    className="pbx-btn pbx-btn-primary"),
        html.Span(id="rp-sv-msg", className="pbx-msg"),
    ], id="rp-sv-form", className="pbx-card pbx-filters no-print", style={"display": "none"})
    export = html.Div([
        dcc.Store(id="rp-bg-id"),
        dcc.Interval(id="rp-bg-poll", interval=POLL_MS, disabled=True),
        html.Span(id="rp-bg-status"),
        html.A(t("export_download", lang), id="rp-bg-link", className="pbx-btn pbx-btn-small",
               style={"display": "none"}),
    ], id="rp-bg", className="pbx-card no-print", style={"display": "none"})
    return [form, export]


@dash.callback(
    Output("rp-sv-form", "style"), Input("rp-sv-btn", "n_clicks"), State("rp-sv-form", "style"),
    prevent_initial_call=True,
)
def toggle_save_form(_n, style):
    shown = (style or {}).get("display") != "none"
    return {"display": "none"} if shown else {"display": "flex"}


@dash.callback(
    Output("rp-sv-msg", "children"),
    Input("rp-sv-save", "n_clicks"),
    State("rp-sv-name", "value"), State("rp-sv-shared", "value"), State("rp-report", "data"),
    State("rp-search", "data"),
    prevent_initial_call=True,
)
def save_view(n, name, shared, report_id, search):
    """Save what the page shows: the query of its URL (the last search), not the controls."""
    lang = web.lang()
    if not n:
        return no_update
    try:
        defn = service.report_def(report_id)
        q = urlstate.parse(defn, parse_qs((search or "").lstrip("?"), keep_blank_values=False))
        view = saved.save(web.store(), web.user(), name, defn.id, q, shared=bool(shared))
    except PbxlensError as exc:
        return html.Span(str(exc), className="pbx-alert")
    return t("view_saved", lang, name=view.name)


@dash.callback(
    Output("rp-bg-id", "data"), Output("rp-bg-poll", "disabled"), Output("rp-bg", "style"),
    Output("rp-bg-status", "children", allow_duplicate=True),
    Input("rp-bg-btn", "n_clicks"),
    State("rp-params", "data"), State("rp-report", "data"),
    prevent_initial_call=True,
)
def start_export(n, params, report_id):
    lang, user = web.lang(), web.user()
    if not n:
        return no_update, no_update, no_update, no_update
    try:
        p = service.params_from_json(params, lang=lang)
        eid = exports.request(web.store(), user, report_id, p, "xlsx", notify=True)
    except PbxlensError as exc:
        return no_update, True, {"display": "block"}, html.Span(str(exc), className="pbx-alert")
    return eid, False, {"display": "block"}, t("export_queued", lang)


@dash.callback(
    Output("rp-bg-status", "children"), Output("rp-bg-link", "href"),
    Output("rp-bg-link", "style"), Output("rp-bg-poll", "disabled", allow_duplicate=True),
    Input("rp-bg-poll", "n_intervals"), State("rp-bg-id", "data"),
    prevent_initial_call=True,
)
def follow_export(_n, export_id):
    lang, user = web.lang(), web.user()
    hidden = {"display": "none"}
    if not export_id or ctx.triggered_id != "rp-bg-poll":
        return no_update, no_update, no_update, no_update
    try:
        row = exports.status(web.store(), user, int(export_id))
    except PbxlensError as exc:
        return str(exc), None, hidden, True
    if row["state"] in ("queued", "running"):
        return t("export_queued", lang), None, hidden, False
    if row["state"] != "ready":
        return t("export_failed", lang, error=row["error"] or row["state"]), None, hidden, True
    text = t("export_ready", lang, name=row["filename"], size=_size(row["size_bytes"], lang),
             until=_when(row["expires_at"]))
    href = exports.link(web.store(), int(export_id), user.id)
    return text, href, {"display": "inline-block", "marginLeft": "10px"}, True


def _size(n: int | None, lang: str) -> str:
    kb = max(1, round((n or 0) / 1024))
    return f"{fmt.count(kb, lang=lang)} KB"


def _when(instant) -> str:
    local = instant.astimezone(ZoneInfo(get_settings().timezone))
    return f"{fmt.day_label(local.date())} {local:%H:%M}"

