"""Alerts (supervisors, admins): the alerts firing now, each with an acknowledge button, the
tenant's rules, and the history of every firing, reminder, recovery and acknowledgement with
what was delivered. Rules are written through `POST /api/alerts/rules` (alerts_web.py)."""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, ctx, dcc, html

from pbxlens.dashboards import access
from pbxlens.dashboards import context as web
from pbxlens.dashboards.i18n import t
from pbxlens.dashboards.pages.common import forbidden, page_title
from pbxlens.live import alerts, rules
from pbxlens.reports import format as fmt

dash.register_page(__name__, path="/alerts", name="Alerts", title=page_title("alerts"))


def layout(**_kwargs):
    user, lang = web.user(), web.lang()
    if not access.is_manager(user):
        return forbidden(lang)
    return html.Div([
        html.H1(t("alerts", lang), id="alerts-title"),
        html.Div(render(lang), id="alerts-body"),
        dcc.Interval(id="alerts-tick", interval=5000, n_intervals=0),
    ])


@dash.callback(Output("alerts-body", "children"), Input("alerts-tick", "n_intervals"),
               Input({"type": "alert-ack", "rule": ALL, "scope": ALL}, "n_clicks"),
               State({"type": "alert-ack", "rule": ALL, "scope": ALL}, "id"),
               prevent_initial_call=True)
def refresh(_n, clicks, _ids):
    user, lang = web.user(), web.lang()
    if not access.is_manager(user):
        return dash.no_update
    hit = ctx.triggered_id
    if isinstance(hit, dict) and any(clicks or ()):
        alerts.acknowledge(web.store(), user.tenant, int(hit["rule"]), hit["scope"],
                           user.username)
    return render(lang)


def _when(v) -> str:
    from pbxlens.live.definitions import zone

    return v.astimezone(zone()).strftime("%d/%m/%Y %H:%M:%S") if v else ""


def _table(head: list[str], rows: list[list], tid: str) -> html.Table | html.P:
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in head])),
                       html.Tbody([html.Tr([html.Td(c) for c in r]) for r in rows])],
                      className="pbx-table", id=tid)


def render(lang: str) -> list:
    store, tenant = web.store(), web.user().tenant
    with store.ops_read() as c:
        now_firing = alerts.firing(c, tenant)
        past = alerts.history(c, tenant, limit=200)
        rs = rules.list_rules(c, tenant)
    firing_rows = [[r["rule"], r["scope"], _when(r["since"]),
                    r["acked_by"] or html.Button(
                        t("alert_event_acknowledged", lang), n_clicks=0,
                        className="pbx-btn",
                        id={"type": "alert-ack", "rule": r["rule_id"], "scope": r["scope"]})]
                   for r in now_firing]
    rule_rows = [[r.name, t(f"alert_kind_{r.kind}", lang), ", ".join(r.queues) or "*",
                  "" if r.threshold is None else fmt.number(r.threshold, lang=lang),
                  fmt.number(r.cooldown_min, lang=lang),
                  f"{r.quiet_start}–{r.quiet_end}" if r.quiet_start else "",
                  ", ".join(ch["target"] for ch in r.channels)] for r in rs]
    past_rows = [[_when(e["at"]), e["rule"] or "", t(f"alert_event_{e['kind']}", lang),
                  e["message"] or e["by"] or "", t(f"alert_delivery_{e['delivery']}", lang)]
                 for e in past]
    return [
        html.H2(t("alert_firing", lang)),
        _table([t("alert_rule", lang), t("alert_scope", lang), t("alert_since", lang), ""],
               firing_rows, "alerts-firing") if firing_rows
        else html.P(t("alert_none_firing", lang), className="pbx-muted", id="alerts-firing"),
        html.H2(t("alert_rules", lang)),
        _table([t("alert_rule", lang), t("alert_kind", lang), t("queues", lang),
                t("alert_threshold", lang), t("alert_cooldown", lang), t("alert_quiet", lang),
                t("alert_channels", lang)], rule_rows, "alerts-rules"),
        html.H2(t("alert_history", lang)),
        _table([t("alert_at", lang), t("alert_rule", lang), t("alert_state", lang),
                t("alert_message", lang), t("alert_delivery", lang)], past_rows,
               "alerts-history"),
    ]
