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
from pbxlens.dashboards.i18n import error_text, t
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
        return html.Span(error_text(exc, lang), className="pbx-alert")
    return t("view_saved", lang, name=view.name)


@dash.callback(
    Output("rp-bg-id", "data"), Output("rp-bg-poll", "disabled"), Output("rp-bg", "style"),
    Output("rp-bg-status", "children"), Output("rp-bg-link", "href"),
    Output("rp-bg-link", "style"),
    Input("rp-bg-btn", "n_clicks"), Input("rp-bg-poll", "n_intervals"),
    State("rp-bg-id", "data"), State("rp-params", "data"), State("rp-report", "data"),
    prevent_initial_call=True,
)
def background_export(n, _tick, export_id, params, report_id):
    """The button queues an XLSX of the applied report (mailed too when the user has an
    address); the poll follows it until its link is ready."""
    lang, user = web.lang(), web.user()
    shown, hidden = {"display": "block"}, {"display": "none"}
    if ctx.triggered_id == "rp-bg-btn":
        if not n:
            return (no_update,) * 6
        try:
            p = service.params_from_json(params, lang=lang)
            eid = exports.request(web.store(), user, report_id, p, "xlsx", notify=True)
        except PbxlensError as exc:
            return None, True, shown, html.Span(error_text(exc, lang), className="pbx-alert"), None, hidden
        return eid, False, shown, t("export_queued", lang), None, hidden
    if not export_id:
        return (no_update,) * 6
    try:
        row = exports.status(web.store(), user, int(export_id))
    except PbxlensError as exc:
        return no_update, True, shown, error_text(exc, lang), None, hidden
    if row["state"] in ("queued", "running"):
        return no_update, False, shown, t("export_queued", lang), None, hidden
    if row["state"] != "ready":
        return (no_update, True, shown, t("export_failed", lang, error=row["error"] or
                                          row["state"]), None, hidden)
    text = t("export_ready", lang, name=row["filename"], size=_size(row["size_bytes"], lang),
             until=_when(row["expires_at"]))
    href = exports.link(web.store(), int(export_id), user.id)
    return (no_update, True, shown, text, href,
            {"display": "inline-block", "marginLeft": "10px"})


def _size(n: int | None, lang: str) -> str:
    kb = max(1, round((n or 0) / 1024))
    return f"{fmt.count(kb, lang=lang)} KB"


def _when(instant) -> str:
    local = instant.astimezone(ZoneInfo(get_settings().timezone))
    return f"{fmt.day_label(local.date())} {local:%H:%M}"

