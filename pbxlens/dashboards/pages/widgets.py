"""The user's dashboard: their widgets, each rendering its report's main chart with the
filters saved when it was created (spec §0.6). Auto-refresh widgets reload every 5 minutes."""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from pbxlens import PbxlensError
from pbxlens.dashboards import access, service, widgets
from pbxlens.dashboards import context as web
from pbxlens.dashboards.components.charts import figure, main_chart
from pbxlens.dashboards.i18n import t
from pbxlens.dashboards.pages.common import forbidden

dash.register_page(__name__, path="/widgets", name="Dashboard", title="pbxlens · dashboard")

REFRESH_MS = 5 * 60 * 1000
_HEIGHT = {"s": 240, "m": 300, "l": 380}


def _figure(w: widgets.Widget):
    try:
        result = service.run_report(web.store(), web.user(), w.report_id,
                                    service.params_from_json(w.params, lang=web.lang()))
    except PbxlensError as exc:
        return None, str(exc)
    chart = main_chart(result)
    if chart is None:
        return None, t("no_rows", web.lang())
    fig = figure(chart, web.lang(), height=_HEIGHT.get(w.size, 300))
    return fig, ""


def _card(w: widgets.Widget, lang: str) -> html.Div:
    fig, err = _figure(w)
    body = (dcc.Graph(id={"type": "wd-graph", "id": w.id}, figure=fig,
                      config={"displaylogo": False}) if fig is not None
            else html.Div(err, className="pbx-empty"))
    period = w.params.get("from") or ""
    if w.params.get("to"):
        period += f" – {w.params['to']}"
    return html.Div([
        html.Div([html.Span(w.title, className="pbx-widget-title"),
                  html.Span(("⟳ " if w.auto_refresh else "") + period, className="pbx-widget-sub"),
                  html.Button("×", id={"type": "wd-del", "id": w.id}, n_clicks=0,
                              title=t("delete", lang), className="pbx-btn pbx-btn-icon")],
                 className="pbx-widget-head",
                 style={"borderTopColor": w.color or "#1f6feb"}),
        dcc.Link(body, href=f"/reports/{w.report_id}") if fig is None else body,
    ], className=f"pbx-card pbx-widget pbx-widget-{w.size}", id={"type": "wd-card", "id": w.id})


def _grid(lang: str):
    user = web.user()
    ws = widgets.list_for(web.store(), user.id)
    if not ws:
        return html.Div(t("no_widgets", lang), className="pbx-empty", id="wd-empty"), []
    return [_card(w, lang) for w in ws], [w.id for w in ws if w.auto_refresh]


def layout(**_kwargs):
    lang = web.lang()
    if not access.can_use_widgets(web.user()):
        return forbidden(lang)
    cards, refresh = _grid(lang)
    return html.Div([
        html.H1(t("widgets", lang)),
        dcc.Store(id="wd-refresh", data=refresh),
        dcc.Interval(id="wd-interval", interval=REFRESH_MS, disabled=not refresh),
        html.Div(cards, id="wd-grid", className="pbx-widget-grid"),
    ])


@dash.callback(
    Output("wd-grid", "children"), Output("wd-refresh", "data"),
    Output("wd-interval", "disabled"),
    Input({"type": "wd-del", "id": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def delete_widget(clicks):
    trig = ctx.triggered[0]["value"] if ctx.triggered else None
    if not trig or not isinstance(ctx.triggered_id, dict):
        return no_update, no_update, no_update
    widgets.delete(web.store(), web.user().id, int(ctx.triggered_id["id"]))
    cards, refresh = _grid(web.lang())
    return cards, refresh, not refresh


@dash.callback(
    Output({"type": "wd-graph", "id": ALL}, "figure"),
    Input("wd-interval", "n_intervals"),
    State({"type": "wd-graph", "id": ALL}, "id"), State("wd-refresh", "data"),
    prevent_initial_call=True,
)
def refresh_widgets(_n, ids, refresh):
    wanted = set(refresh or [])
    by_id = {w.id: w for w in widgets.list_for(web.store(), web.user().id)}
    out = []
    for i in ids:
        w = by_id.get(i["id"])
        if w is None or w.id not in wanted:
            out.append(no_update)
            continue
        fig, _err = _figure(w)
        out.append(fig if fig is not None else no_update)
    return out
