"""The user's dashboard (spec §0.6): their widgets, each rendering its report's main chart with
the filters saved when it was created, or a URL. "+" opens the creation form; the padlock
switches layout mode, where widgets are dragged (HTML5 drag and drop) or moved with arrows,
and the order is stored per user. Auto-refresh widgets reload every few minutes."""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from pbxlens import PbxlensError
from pbxlens.dashboards import access, admin, service, widgets
from pbxlens.dashboards import context as web
from pbxlens.dashboards.components.charts import figure, main_chart
from pbxlens.dashboards.components.widget_form import widget_form
from pbxlens.dashboards.i18n import error_text, t
from pbxlens.dashboards.pages.common import forbidden, page_title

dash.register_page(__name__, path="/widgets", name="Dashboard", title=page_title("widgets"))

_HEIGHT = {"s": 240, "m": 300, "l": 380}
_GRID = "pbx-widget-grid"


def _figure(w: widgets.Widget):
    try:
        result = service.run_report(web.store(), web.user(), w.report_id,
                                    service.params_from_json(w.params, lang=web.lang()))
    except PbxlensError as exc:
        return None, error_text(exc, web.lang())
    chart = main_chart(result)
    if chart is None:
        return None, t("no_rows", web.lang())
    return figure(chart, web.lang(), height=_HEIGHT.get(w.size, 300),
                  background=w.background or None), ""


def _body(w: widgets.Widget, lang: str):
    if w.url:
        external = not w.url.startswith("/")
        frame = html.Iframe(src=w.url, className="pbx-widget-frame",
                            style={"height": f"{_HEIGHT.get(w.size, 300)}px"},
                            **({"sandbox": "allow-scripts allow-forms allow-popups"}
                               if external else {}))
        link = html.A(t("open_link", lang) + " ↗", href=w.url, target="_blank",
                      rel="noopener noreferrer", className="pbx-widget-link")
        return html.Div([frame, link])
    fig, err = _figure(w)
    if fig is None:
        return dcc.Link(html.Div(err, className="pbx-empty"), href=f"/reports/{w.report_id}")
    return dcc.Graph(id={"type": "wd-graph", "id": w.id}, figure=fig,
                     config={"displaylogo": False})


def _card(w: widgets.Widget, lang: str, unlocked: bool) -> html.Div:
    period = (w.params or {}).get("from") or ""
    if (w.params or {}).get("to"):
        period += f" – {w.params['to']}"
    moves = [html.Button("◀", id={"type": "wd-move", "id": w.id, "step": -1}, n_clicks=0,
                         title=t("move_earlier", lang), className="pbx-btn pbx-btn-icon pbx-move"),
             html.Button("▶", id={"type": "wd-move", "id": w.id, "step": 1}, n_clicks=0,
                         title=t("move_later", lang), className="pbx-btn pbx-btn-icon pbx-move")]
    head_style = {"borderTopColor": w.color or "#1f6feb"}
    if w.widget_color:
        head_style["backgroundColor"] = w.widget_color
    return html.Div([
        html.Div([html.Span(w.icon or "", className="pbx-widget-icon"),
                  html.Span(w.title, className="pbx-widget-title"),
                  html.Span(("⟳ " if w.auto_refresh else "") + period, className="pbx-widget-sub"),
                  html.Span(moves if unlocked else [], className="pbx-moves"),
                  html.Button("×", id={"type": "wd-del", "id": w.id}, n_clicks=0,
                              title=t("delete", lang), className="pbx-btn pbx-btn-icon")],
                 className="pbx-widget-head", style=head_style),
        _body(w, lang),
    ], className=f"pbx-card pbx-widget pbx-widget-{w.size}", id={"type": "wd-card", "id": w.id},
        draggable="true" if unlocked else "false", style={"background": w.background or None},
        **{"data-wid": str(w.id)})


def _board(lang: str, unlocked: bool):
    ws = widgets.list_for(web.store(), web.user().id)
    if not ws:
        return html.Div(t("no_widgets", lang), className="pbx-empty", id="wd-empty"), []
    return ([_card(w, lang, unlocked) for w in ws],
            [w.id for w in ws if w.auto_refresh and w.report_id])


def _lock_label(unlocked: bool, lang: str) -> str:
    return ("🔓 " + t("lock", lang)) if unlocked else ("🔒 " + t("unlock", lang))


def layout(**_kwargs):
    user, lang = web.user(), web.lang()
    if not access.can_use_widgets(user):
        return forbidden(lang)
    cards, refresh = _board(lang, False)
    minutes = admin.get_ui(web.store(), "widget_refresh_min")
    reports = [(d.id, d.title(lang)) for d in access.visible_reports(user)]
    return html.Div([
        html.Div([html.H1(t("widgets", lang)),
                  html.Div([html.Button("+", id="wd-add", n_clicks=0, title=t("add_widget", lang),
                                        className="pbx-btn pbx-btn-plus"),
                            html.Button(_lock_label(False, lang), id="wd-lock", n_clicks=0,
                                        className="pbx-btn")], className="pbx-actions no-print")],
                 className="pbx-page-head"),
        widget_form("wd-f", lang, "", reports=reports, heading="add_widget"),
        dcc.Store(id="wd-refresh", data=refresh),
        dcc.Store(id="wd-order", data=None),
        html.Span(id="wd-dnd-ready", style={"display": "none"}),
        dcc.Interval(id="wd-interval", interval=minutes * 60 * 1000, disabled=not refresh),
        html.Div(t("layout_mode", lang), id="wd-layout-hint", className="pbx-muted",
                 style={"display": "none"}),
        html.Div(cards, id="wd-grid", className=_GRID),
    ])


# ----------------------------------------------------------------------------- callbacks


@dash.callback(
    Output("wd-f-form", "style"),
    Input("wd-add", "n_clicks"), Input("wd-f-close", "n_clicks"), State("wd-f-form", "style"),
    prevent_initial_call=True,
)
def toggle_form(_a, _c, style):
    shown = (style or {}).get("display") != "none"
    return {"display": "none"} if ctx.triggered_id == "wd-f-close" or shown else {"display": "block"}


@dash.callback(
    Output("wd-grid", "children"), Output("wd-grid", "className"), Output("wd-lock", "children"),
    Output("wd-layout-hint", "style"), Output("wd-refresh", "data"),
    Output("wd-interval", "disabled"), Output("wd-f-msg", "children"),
    Output("wd-f-title", "value"), Output("wd-f-report", "value"), Output("wd-f-url", "value"),
    Input("wd-lock", "n_clicks"), Input({"type": "wd-del", "id": ALL}, "n_clicks"),
    Input({"type": "wd-move", "id": ALL, "step": ALL}, "n_clicks"), Input("wd-order", "data"),
    Input("wd-f-save", "n_clicks"),
    State("wd-f-title", "value"), State("wd-f-report", "value"), State("wd-f-url", "value"),
    State("wd-f-icon", "value"), State("wd-f-size", "value"), State("wd-f-color", "value"),
    State("wd-f-background", "value"), State("wd-f-wcolor", "value"),
    State("wd-f-refresh", "value"),
    prevent_initial_call=True,
)
def board(lock, _del, _move, order, _save, title, report_id, url, icon, size, color, background,
          wcolor, refresh):
    user, lang, store = web.user(), web.lang(), web.store()
    trig = ctx.triggered_id
    value = ctx.triggered[0]["value"] if ctx.triggered else None
    unlocked = bool((lock or 0) % 2)
    msg = no_update
    form = (no_update,) * 3
    if isinstance(trig, dict) and not value:  # a new button rendered, not a click
        return (no_update,) * 10
    if isinstance(trig, dict) and trig["type"] == "wd-del":
        widgets.delete(store, user.id, int(trig["id"]))
    elif isinstance(trig, dict) and trig["type"] == "wd-move":
        widgets.move(store, user.id, int(trig["id"]), int(trig["step"]))
    elif trig == "wd-order":
        if not order:
            return (no_update,) * 10
        widgets.reorder(store, user.id, [int(i) for i in order])
    elif trig == "wd-f-save":
        try:
            if report_id and not access.can_see_report(user, report_id):
                raise PbxlensError(t("forbidden", lang))
            widgets.add(store, user.id, title, report_id or None,
                        {"filters": {}} if report_id else None, url=url,
                        icon=icon, size=size or "m", color=color, background=background,
                        widget_color=wcolor, auto_refresh=bool(refresh))
        except PbxlensError as exc:
            return (no_update,) * 6 + (error_text(exc, lang),) + form
        msg, form = t("saved", lang), ("", None, "")
    cards, ids = _board(lang, unlocked)
    return (cards, _GRID + (" pbx-layout" if unlocked else ""), _lock_label(unlocked, lang),
            {"display": "block" if unlocked else "none"}, ids, not ids, msg, *form)


# HTML5 drag and drop, installed once per grid element by event delegation: dropping a card
# on another computes the new order and hands it to the server through `wd-order`. The DOM
# itself is left to React (the server re-renders the cards in the stored order).
dash.clientside_callback(
    """
    function(cls) {
        const grid = document.getElementById('wd-grid');
        if (!grid) { return ''; }
        if (grid._pbxDnd) { return 'ready'; }
        grid._pbxDnd = true;
        let dragged = null;
        const cardOf = (el) => (el && el.closest) ? el.closest('[data-wid]') : null;
        grid.addEventListener('dragstart', (e) => {
            const card = cardOf(e.target);
            if (!card || !grid.classList.contains('pbx-layout')) { return; }
            dragged = card.getAttribute('data-wid');
            card.classList.add('pbx-dragging');
            if (e.dataTransfer) {
                e.dataTransfer.effectAllowed = 'move';
                e.dataTransfer.setData('text/plain', dragged);
            }
        });
        grid.addEventListener('dragover', (e) => { if (dragged) { e.preventDefault(); } });
        grid.addEventListener('dragend', () => {
            grid.querySelectorAll('.pbx-dragging').forEach((c) => c.classList.remove('pbx-dragging'));
            dragged = null;
        });
        grid.addEventListener('drop', (e) => {
            if (!dragged) { return; }
            e.preventDefault();
            const target = cardOf(e.target);
            const ids = Array.from(grid.querySelectorAll('[data-wid]'))
                .map((c) => c.getAttribute('data-wid'));
            const from = ids.indexOf(dragged);
            const to = target ? ids.indexOf(target.getAttribute('data-wid')) : ids.length - 1;
            dragged = null;
            if (from < 0 || to < 0 || from === to) { return; }
            ids.splice(to, 0, ids.splice(from, 1)[0]);
            dash_clientside.set_props('wd-order', {data: ids.map(Number)});
        });
        return 'ready';
    }
    """,
    Output("wd-dnd-ready", "children"), Input("wd-grid", "className"),
)


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
