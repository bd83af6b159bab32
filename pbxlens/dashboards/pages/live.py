"""The wallboard (supervisors, admins): one tile per queue (calls waiting, longest wait, agents
available / talking / paused, today's service level against the queue's target, coloured) and
the agents table (state, pause reason, time in state, calls today). The page asks every second
for the server's shared snapshot (pbxlens.live.hub, computed once per tick for every screen),
so what the PBX reports shows within two seconds."""

from __future__ import annotations

import dash
from dash import Input, Output, dcc, html

from pbxlens.dashboards import access
from pbxlens.dashboards import context as web
from pbxlens.dashboards.i18n import t
from pbxlens.dashboards.live_web import hub, snapshot_for
from pbxlens.dashboards.pages.common import forbidden, page_title
from pbxlens.reports import format as fmt

dash.register_page(__name__, path="/live", name="Live", title=page_title("live"))

POLL_MS = 1000


def layout(**_kwargs):
    user, lang = web.user(), web.lang()
    if not access.is_manager(user):
        return forbidden(lang)
    tiles, agents, at = render(lang)
    return html.Div([
        html.H1(t("live", lang), id="live-title"),
        html.P(at, id="live-at", className="pbx-muted"),
        html.Div(tiles, id="live-tiles", className="pbx-live-tiles"),
        html.H2(t("live_agents", lang)),
        html.Div(agents, id="live-agents"),
        dcc.Interval(id="live-tick", interval=POLL_MS, n_intervals=0),
    ], className="pbx-live")


@dash.callback(Output("live-tiles", "children"), Output("live-agents", "children"),
               Output("live-at", "children"), Input("live-tick", "n_intervals"),
               prevent_initial_call=True)
def refresh(_n):
    if not access.is_manager(web.user()):
        return dash.no_update, dash.no_update, dash.no_update
    return render(web.lang())


def render(lang: str) -> tuple[list, html.Table | html.P, str]:
    snap = snapshot_for(hub(), web.user())
    at = snap.get("at")
    stamp = t("live_at", lang, time=at[11:19]) if at else t("live_waiting", lang)
    tiles = [_tile(q, lang) for q in snap["queues"]] or [
        html.P(t("live_no_queues", lang), className="pbx-muted", id="live-empty")]
    return tiles, _agents(snap["agents"], lang), stamp


def _n(v, lang: str) -> str:
    return fmt.number(v or 0, lang=lang)  # a wallboard shows 0, not a blank


def _tile(q: dict, lang: str) -> html.Div:
    qid = q["queue"]
    today, agents = q["today"], q["agents"]
    sl = today["sl_pct"]
    mood = "" if sl is None else (" pbx-live-ok" if today["sl_ok"] else " pbx-live-bad")
    sl_text = (fmt.percent(sl, lang=lang) if sl is not None else "–")
    target = t("live_target", lang, target=fmt.percent(today["target_pct"], lang=lang))

    def fig(key: str, value: str, suffix: str) -> html.Div:
        return html.Div([html.Span(value, id=f"live-q-{qid}-{suffix}", className="pbx-live-num"),
                         html.Span(t(key, lang), className="pbx-live-label")],
                        className="pbx-live-fig")

    return html.Div([
        html.H3(q["name"], className="pbx-live-qname"),
        html.Div([fig("live_waiting_calls", _n(q["waiting"], lang), "waiting"),
                  fig("live_longest", fmt.duration(q["longest_wait_s"], lang=lang), "longest"),
                  fig("live_talking", _n(q["talking"], lang), "talking")], className="pbx-live-row"),
        html.Div([fig("live_available", _n(agents["available"], lang), "available"),
                  fig("live_busy", _n(agents["talking"] + agents["ringing"], lang), "busy"),
                  fig("live_paused", _n(agents["paused"], lang), "paused")], className="pbx-live-row"),
        html.Div([html.Span(t("live_sl_today", lang), className="pbx-live-label"),
                  html.Span(sl_text, id=f"live-q-{qid}-sl", className="pbx-live-num"),
                  html.Span(target, className="pbx-live-label")],
                 className="pbx-live-sl" + mood, id=f"live-q-{qid}-slbox"),
        html.Div([html.Span(t("live_offered", lang) + " "),
                  html.Span(_n(today["offered"], lang), id=f"live-q-{qid}-offered"),
                  html.Span(" · " + t("live_answered", lang) + " "),
                  html.Span(_n(today["answered"], lang)),
                  html.Span(" · " + t("live_abandoned", lang) + " "),
                  html.Span(_n(today["abandoned"], lang))], className="pbx-live-today pbx-muted"),
    ], className="pbx-live-tile pbx-card", id=f"live-q-{qid}")


def _agents(rows: list[dict], lang: str) -> html.Table | html.P:
    if not rows:
        return html.P(t("live_no_agents", lang), className="pbx-muted")
    head = html.Tr([html.Th(t(k, lang)) for k in ("live_agent", "live_state", "live_reason",
                                                   "live_in_state", "live_calls_today")])
    body = [html.Tr([
        html.Td(a["name"]),
        html.Td(t(f"live_state_{a['state']}", lang), id=f"live-a-{a['agent']}-state",
                className=f"pbx-live-st pbx-live-st-{a['state']}"),
        html.Td(a["reason"] or ""),
        html.Td(fmt.duration(a["in_state_s"], lang=lang)),
        html.Td(_n(a["calls_today"], lang), className="pbx-num"),
    ], id=f"live-a-{a['agent']}") for a in rows]
    return html.Table([html.Thead(head), html.Tbody(body)], className="pbx-table",
                      id="live-agents-table")
