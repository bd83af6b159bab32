"""The one generic report page: `/reports/<report_id>`, generated from the catalog entry
(filter bar from its filters, charts and tables from its `Result`). No page per report."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, date, datetime

import dash
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from pbxlens import PbxlensError
from pbxlens.config import get_settings
from pbxlens.dashboards import access, service, widgets
from pbxlens.dashboards import context as web
from pbxlens.dashboards import definitions_service as defs
from pbxlens.dashboards.components import view_tools
from pbxlens.dashboards.components.filters import filter_bar, reset_value, values_to_filters
from pbxlens.dashboards.components.report_view import (
    drill_panel,
    first_tables,
    render_result,
    table_cards,
)
from pbxlens.dashboards.components.widget_form import widget_form
from pbxlens.dashboards.i18n import error_text, t
from pbxlens.dashboards.pages.common import error_box, forbidden
from pbxlens.reports import Params, applied, get, periods
from pbxlens.views import query as urlstate
from pbxlens.views.query import ReportQuery


def _title(report_id: str | None = None, **_kw) -> str:
    from pbxlens.dashboards import context as ctx

    try:
        defn = get(report_id or "")
    except KeyError:
        return "pbxlens"
    return f"pbxlens · {defn.it if ctx.lang() == 'it' else defn.en}"


dash.register_page(__name__, path_template="/reports/<report_id>", name="Report", title=_title)


def _initial(defn, kwargs) -> tuple[ReportQuery, Params, str | None]:
    """The page's state from its URL (`?period=&from=&to=&filter=k=v...`); a bad URL shows the
    default range and says what was wrong."""
    try:
        q = urlstate.parse(defn, kwargs)
        p = q.params(_today(), web.lang())
        p.resolved()
        return q, p, None
    except PbxlensError as exc:
        return ReportQuery(), Params(), error_text(exc, web.lang())


def _today():
    return periods.local_day(datetime.now(UTC), get_settings().timezone)


def layout(report_id: str | None = None, **kwargs):
    user, lang = web.user(), web.lang()
    try:
        defn = get(report_id or "")
    except KeyError:
        return html.Div(t("not_found", lang), className="pbx-alert")
    if not access.can_see_report(user, defn.id):
        return forbidden(lang)
    q, p, problem = _initial(defn, kwargs)
    d_from, d_to = p.resolved()
    with web.store().cursor() as cur:
        bar = filter_bar(defn, cur, user.tenant, lang, d_from, d_to, p.filters, q.period)
    head = html.Div([
        html.Div([html.H1(defn.title(lang), id="rp-title")]),
        html.Div([html.Button(t("search", lang), id="rp-apply", n_clicks=0,
                              className="pbx-btn pbx-btn-primary"),
                  html.Button(t("reset", lang), id="rp-reset", n_clicks=0, className="pbx-btn"),
                  html.Button(t("widget", lang), id="rp-widget-btn", n_clicks=0,
                              className="pbx-btn"),
                  *view_tools.buttons(lang),
                  html.Button(t("print", lang), id="rp-print", n_clicks=0,
                              className="pbx-btn")], className="pbx-actions no-print"),
    ], className="pbx-page-head")
    return html.Div([
        dcc.Store(id="rp-report", data=defn.id),
        dcc.Store(id="rp-params", data=service.params_to_json(p)),
        dcc.Store(id="rp-search"),
        dcc.Download(id="rp-download"),
        html.Span(id="rp-print-dummy", style={"display": "none"}),
        html.Span(id="rp-url-dummy", style={"display": "none"}),
        head,
        error_box(problem) if problem else None,
        html.Div(bar, className="pbx-card pbx-filter-card no-print"),
        widget_form("rp-w", lang, defn.title(lang)),
        *view_tools.panels(lang),
        # the spinner is for the report itself, not for its later tables (`show_more`)
        dcc.Loading(html.Div(id="rp-content"), type="dot", color="#1f6feb",
                    target_components={"rp-content": "children"}),
        dcc.Store(id="rp-drill-cell"),
        dcc.Download(id="rp-drill-download"),
        html.Section(id="rp-drill", className="pbx-card pbx-table-card",
                     style={"display": "none"}),
    ], className="pbx-report-page")


# ----------------------------------------------------------------------------- callbacks


@dash.callback(
    Output("rp-content", "children"), Output("rp-params", "data"), Output("rp-search", "data"),
    Input("rp-apply", "n_clicks"),
    State("rp-report", "data"), State("rp-period", "value"), State("rp-from", "date"),
    State("rp-to", "date"),
    State({"type": "rp-filter", "key": ALL}, "value"),
    State({"type": "rp-filter", "key": ALL}, "id"),
)
def show_report(_n, report_id, period, start, end, values, ids):
    lang, user = web.lang(), web.user()
    try:
        defn = service.report_def(report_id)
        q = urlstate.ReportQuery(periods.check(period), _day(start), _day(end),
                                 values_to_filters(defn, ids, values))
        p = q.params(_today(), lang)
        result = service.run_report(web.store(), user, report_id, p)
        with web.store().cursor() as cur:
            names = applied.value_names(defn, cur, user.tenant, lang, result.filters)
    except PbxlensError as exc:
        return error_box(error_text(exc, lang)), no_update, no_update
    n = first_tables(result)
    content = render_result(result, lang, names=names, upto=n)
    if n < len(result.tables):  # the rest right after, from the same result
        content += [html.Div(id="rp-more"), dcc.Store(id="rp-more-go"),
                    dcc.Store(id="rp-more-key", data={"key": service.keep_result(user, result),
                                                      "from": n})]
    return content, service.params_to_json(p), q.search()


# Ask for the later tables once the first grid shows its rows (at most 3 s later): built in the
# same frames, they held back the first rows they were meant not to delay.
dash.clientside_callback(
    """function(more) {
        if (!more) { return window.dash_clientside.no_update; }
        const sel = '#rp-content .ag-row, #rp-content .ag-overlay-no-rows-wrapper';
        const t0 = performance.now();
        return new Promise((resolve) => {
            const tick = () => {
                if (document.querySelector(sel) || performance.now() - t0 > 3000) {
                    requestAnimationFrame(() => setTimeout(() => resolve(more), 0));
                } else {
                    setTimeout(tick, 25);
                }
            };
            tick();
        });
    }""",
    Output("rp-more-go", "data"), Input("rp-more-key", "data"),
)


@dash.callback(
    Output("rp-more", "children"),
    Input("rp-more-go", "data"),
    State("rp-params", "data"), State("rp-report", "data"),
)
def show_more(more, params, report_id):
    """The tables after the first screenful (`first_tables`): the page shows its first rows
    without waiting for every grid to be built."""
    if not more:
        return no_update
    lang, user = web.lang(), web.user()
    result = service.take_result(user, more.get("key"))
    try:
        if result is None:  # another process, or expired: run it again
            result = service.run_report(web.store(), user, report_id,
                                        service.params_from_json(params, lang=lang))
    except PbxlensError as exc:
        return error_box(error_text(exc, lang))
    return table_cards(result, lang, range(int(more.get("from") or 0), len(result.tables)))


def _day(value):
    return date.fromisoformat(str(value)[:10]) if value else None


@dash.callback(
    Output("rp-period", "value"), Output("rp-from", "date"), Output("rp-to", "date"),
    Input("rp-period", "value"), Input("rp-from", "date"), Input("rp-to", "date"),
    prevent_initial_call=True,
)
def sync_period(period, start, end):
    """Choosing a period fills in its dates; typing a date makes the range fixed."""
    if ctx.triggered_id == "rp-period":
        if period == periods.FIXED:
            return no_update, no_update, no_update
        d_from, d_to = periods.resolve(period, _today())
        return no_update, d_from.isoformat(), d_to.isoformat()
    if period != periods.FIXED and periods.resolve(period, _today()) == (_day(start), _day(end)):
        return no_update, no_update, no_update
    return periods.FIXED, no_update, no_update


# The URL follows the applied state (replaceState: a reload or a shared link shows the same
# report; Dash's router does not re-render for it).
dash.clientside_callback(
    """function(search) {
        if (typeof search !== 'string') { return window.dash_clientside.no_update; }
        if (window.location.search !== search) {
            window.history.replaceState(window.history.state, '', window.location.pathname + search);
        }
        return window.dash_clientside.no_update;
    }""",
    Output("rp-url-dummy", "children"), Input("rp-search", "data"),
    prevent_initial_call=True,
)


@dash.callback(
    Output({"type": "rp-filter", "key": ALL}, "value"),
    Input("rp-reset", "n_clicks"),
    State({"type": "rp-filter", "key": ALL}, "id"), State("rp-report", "data"),
    prevent_initial_call=True,
)
def reset_filters(_n, ids, report_id):
    defn = get(report_id)
    return [reset_value(defn, i["key"]) for i in ids]


@dash.callback(
    Output("rp-download", "data"),
    Input({"type": "rp-export", "table": ALL}, "n_clicks"),
    State("rp-params", "data"), State("rp-report", "data"),
    prevent_initial_call=True,
)
def export_xlsx(clicks, params, report_id):
    if not ctx.triggered_id or not any(clicks or []):
        return no_update
    trig = ctx.triggered[0]["value"] if ctx.triggered else None
    if not trig:
        return no_update
    from pbxlens.reports import export

    idx = ctx.triggered_id["table"]
    result = service.run_report(web.store(), web.user(), report_id,
                                service.params_from_json(params, lang=web.lang()))
    if idx >= len(result.tables):
        return no_update
    one = dataclasses.replace(result, tables=[result.tables[idx]])
    buf = io.BytesIO()
    export.to_xlsx(one, buf)
    name = f"{report_id}_{params.get('from') or ''}_{params.get('to') or ''}"
    if len(result.tables) > 1:
        name += f"_{idx + 1}"
    return dcc.send_bytes(buf.getvalue(), f"{name}.xlsx")


@dash.callback(
    Output("rp-w-form", "style"),
    Input("rp-widget-btn", "n_clicks"), Input("rp-w-close", "n_clicks"),
    State("rp-w-form", "style"),
    prevent_initial_call=True,
)
def toggle_widget_form(_n, _c, style):
    shown = (style or {}).get("display") != "none"
    if ctx.triggered_id == "rp-w-close" or shown:
        return {"display": "none"}
    return {"display": "block"}


@dash.callback(
    Output("rp-w-msg", "children"),
    Input("rp-w-save", "n_clicks"),
    State("rp-w-title", "value"), State("rp-w-size", "value"), State("rp-w-color", "value"),
    State("rp-w-refresh", "value"), State("rp-params", "data"), State("rp-report", "data"),
    State("rp-w-icon", "value"), State("rp-w-background", "value"), State("rp-w-wcolor", "value"),
    prevent_initial_call=True,
)
def save_widget(n, title, size, color, refresh, params, report_id, icon, background, wcolor):
    user = web.user()
    if not n or not access.can_see_report(user, report_id):
        return no_update
    try:
        widgets.add(web.store(), user.id, title, report_id, params or {}, size=size or "m",
                    color=color, auto_refresh=bool(refresh), icon=icon, background=background,
                    widget_color=wcolor)
    except PbxlensError as exc:
        return error_text(exc, web.lang())
    return t("saved", web.lang())


dash.clientside_callback(
    "function(n) { if (n) { window.print(); } return ''; }",
    Output("rp-print-dummy", "children"), Input("rp-print", "n_clicks"),
    prevent_initial_call=True,
)


# ----------------------------------------------------------------------------- drill-down


def _clicked(clicks: list, metas: list) -> tuple[dict, dict] | None:
    """The clicked cell's click and its table's metadata (the triggering grid)."""
    trig = ctx.triggered_id
    if not isinstance(trig, dict) or trig.get("type") != "rp-grid":
        return None
    i = trig["table"]
    if i >= len(metas) or i >= len(clicks) or not clicks[i] or not metas[i]:
        return None
    return clicks[i], metas[i]


@dash.callback(
    Output("rp-drill", "children"), Output("rp-drill", "style"),
    Output("rp-drill-cell", "data"),
    Input({"type": "rp-grid", "table": ALL}, "cellClicked"),
    State({"type": "rp-table-meta", "table": ALL}, "data"),
    State("rp-params", "data"), State("rp-report", "data"),
    prevent_initial_call=True,
)
def drill_cell(clicks, metas, params, report_id):
    """A click on a count cell lists the calls behind it (same filters, the cell's row and
    column: the predicate that built the cell)."""
    lang = web.lang()
    found = _clicked(clicks, metas)
    if found is None:
        return no_update, no_update, no_update
    click, meta = found
    col = str(click.get("colId") or "")
    k = int(col[1:]) if col[:1] == "c" and col[1:].isdigit() else -1
    if not 0 <= k < len(meta["columns"]) or not meta["count"][k]:
        return no_update, no_update, no_update
    pinned = str(click.get("rowId") or "").startswith(("b-", "t-"))
    idx = click.get("rowIndex")
    row = None if pinned or idx is None else meta["rows"][idx]
    label = t("totals", lang) if row is None else meta["labels"][idx]
    cell = {"report": report_id, "params": params, "table": meta["key"], "row": row,
            "column": meta["columns"][k], "title": label}
    try:
        res = defs.drill(web.store(), web.user(), report_id, params, meta["key"], row,
                         meta["columns"][k], lang)
    except PbxlensError as exc:
        return error_box(error_text(exc, lang)), {"display": "block"}, None
    title = f"{label} · {meta['titles'][k]}"
    return (drill_panel(res, lang, title, explain=report_id.startswith("billing.")),
            {"display": "block"}, cell)


@dash.callback(
    Output("rp-drill-download", "data"),
    Input("rp-drill-csv", "n_clicks"), Input("rp-drill-xlsx", "n_clicks"),
    State("rp-drill-cell", "data"),
    prevent_initial_call=True,
)
def export_drill(_csv, _xlsx, cell):
    if not cell or not ctx.triggered or not ctx.triggered[0]["value"]:
        return no_update
    from pbxlens.reports.drilldown import MAX_EXPORT

    res = defs.drill(web.store(), web.user(), cell["report"], cell["params"], cell["table"],
                     cell["row"], cell["column"], web.lang(), limit=MAX_EXPORT)
    name = f"{cell['report']}_{cell['column']}_calls"
    if ctx.triggered_id == "rp-drill-csv":
        return dcc.send_bytes(defs.drill_csv(res), f"{name}.csv")
    return dcc.send_bytes(defs.drill_xlsx(res), f"{name}.xlsx")


@dash.callback(
    Output("rp-drill", "style", allow_duplicate=True),
    Input("rp-drill-close", "n_clicks"),
    prevent_initial_call=True,
)
def close_drill(n):
    return {"display": "none"} if n else no_update
