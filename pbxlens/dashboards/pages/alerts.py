"""Alerts (supervisors, admins): the alerts firing now, each with an acknowledge button, the
tenant's rules with a form to add, change, switch on or off and delete them, and the history
of every firing, reminder, recovery and acknowledgement with what was delivered. Rules are
written by the functions behind `POST /api/alerts/rules` (pbxlens.live.rules)."""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, ctx, dcc, html

from pbxlens import PbxlensError
from pbxlens.dashboards import access
from pbxlens.dashboards import context as web
from pbxlens.dashboards.i18n import error_text, t
from pbxlens.dashboards.pages.common import forbidden, page_title
from pbxlens.delivery.outbox import DeliveryError
from pbxlens.live import alerts, consistency, rules
from pbxlens.reports import format as fmt

dash.register_page(__name__, path="/alerts", name="Alerts", title=page_title("alerts"))

# the editor's inputs, in the order the callbacks take them
FIELDS = ("name", "kind", "queues", "threshold", "window", "cooldown", "quiet-from",
          "quiet-to", "emails", "webhooks", "slack", "teams", "lang", "enabled")
STYLES = (("webhooks", "json"), ("slack", "slack"), ("teams", "teams"))


def layout(**_kwargs):
    user, lang = web.user(), web.lang()
    if not access.is_manager(user):
        return forbidden(lang)
    return html.Div([
        html.H1(t("alerts", lang), id="alerts-title"),
        editor(lang),
        html.Div(render(lang), id="alerts-body"),
        dcc.Store(id="alert-rule-id"), dcc.Store(id="alert-rule-saved", data=0),
        dcc.Interval(id="alerts-tick", interval=5000, n_intervals=0),
    ])


# ----------------------------------------------------------------------------- the editor

def _field(label: str, control) -> html.Div:
    return html.Div([html.Label(label), control], className="pbx-field")


def _text(name: str, placeholder: str = "") -> dcc.Input:
    return dcc.Input(id=f"alert-rule-{name}", type="text", value="", debounce=False,
                     placeholder=placeholder, className="pbx-input")


def _num(name: str, value, lo: int, hi: int) -> dcc.Input:
    return dcc.Input(id=f"alert-rule-{name}", type="number", value=value, min=lo, max=hi,
                     className="pbx-input")


def editor(lang: str) -> html.Section:
    kinds = [{"value": k, "label": t(f"alert_kind_{k}", lang)} for k in rules.KINDS]
    return html.Section([
        html.H2(t("alert_editor", lang)),
        html.Div([
            _field(t("alert_name", lang), _text("name")),
            _field(t("alert_kind", lang), dcc.Dropdown(
                id="alert-rule-kind", options=kinds, value="waiting_above", clearable=False,
                className="pbx-dd")),
            _field(t("alert_queues", lang), _text("queues", "700, 701")),
            _field(t("alert_threshold", lang), _num("threshold", None, 0, 100000)),
            _field(t("alert_window", lang), _num("window", 60, 1, 1440)),
            _field(t("alert_cooldown", lang), _num("cooldown", 15, 0, 1440)),
            _field(t("alert_quiet_from", lang), _text("quiet-from", "22:00")),
            _field(t("alert_quiet_to", lang), _text("quiet-to", "07:00")),
        ], className="pbx-filters"),
        html.Div([
            _field(t("alert_emails", lang), _text("emails")),
            _field(t("alert_webhooks", lang), _text("webhooks")),
            _field(t("alert_slack", lang), _text("slack")),
            _field(t("alert_teams", lang), _text("teams")),
            _field(t("alert_lang", lang), dcc.Dropdown(
                id="alert-rule-lang", value=lang, clearable=False, className="pbx-dd",
                options=[{"value": c, "label": t(f"lang_{c}", lang)} for c in ("it", "en")])),
            _field(t("alert_enabled", lang), dcc.Checklist(
                id="alert-rule-enabled", value=["on"],
                options=[{"value": "on", "label": t("alert_yes", lang)}])),
        ], className="pbx-filters"),
        html.Button(t("alert_save", lang), id="alert-rule-save", n_clicks=0,
                    className="pbx-btn pbx-btn-primary"),
        html.Button(t("alert_new", lang), id="alert-rule-new", n_clicks=0, className="pbx-btn"),
        html.Span(id="alert-rule-msg", className="pbx-msg"),
    ], className="pbx-card", id="alert-editor")


def _split(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split(",") if p.strip()]


def _channels(emails, webhooks, slack, teams) -> list[dict]:
    out = [{"kind": "email", "target": a} for a in _split(emails)]
    for text, (_name, style) in zip((webhooks, slack, teams), STYLES, strict=True):
        out += [{"kind": "webhook", "target": u, "style": style} for u in _split(text)]
    return out


def form_values(r: rules.Rule | None, lang: str) -> list:
    """The editor's values (FIELDS order) showing rule `r` (None: an empty form)."""
    if r is None:
        return ["", "waiting_above", "", None, 60, 15, "", "", "", "", "", "", lang, ["on"]]
    by_style = {s: ", ".join(c["target"] for c in r.channels if c["kind"] == "webhook"
                             and (c.get("style") or "json") == s) for _n, s in STYLES}
    return [r.name, r.kind, ", ".join(r.queues), r.threshold, r.window_min, r.cooldown_min,
            r.quiet_start or "", r.quiet_end or "",
            ", ".join(c["target"] for c in r.channels if c["kind"] == "email"),
            by_style["json"], by_style["slack"], by_style["teams"], r.lang,
            ["on"] if r.enabled else []]


@dash.callback(Output("alert-rule-msg", "children"), Output("alert-rule-saved", "data"),
               Output("alert-rule-id", "data"),
               Input("alert-rule-save", "n_clicks"),
               *(State(f"alert-rule-{f}", "value") for f in FIELDS),
               State("alert-rule-id", "data"), State("alert-rule-saved", "data"),
               prevent_initial_call=True)
def save(_n, name, kind, queues, threshold, window, cooldown, quiet_from, quiet_to, emails,
         webhooks, slack, teams, rule_lang, enabled, rule_id, saved):
    user, lang = web.user(), web.lang()
    if not access.is_manager(user):
        return dash.no_update, dash.no_update, dash.no_update
    quiet = (quiet_from or None, quiet_to or None)
    try:
        r = rules.save_rule(
            web.store(), user.tenant, name or "", kind or "", queues=_split(queues),
            threshold=threshold, window_min=int(window or 60),
            cooldown_min=int(cooldown if cooldown is not None else 15), quiet=quiet,
            channels=_channels(emails, webhooks, slack, teams), lang=rule_lang or lang,
            enabled=bool(enabled), by=user.username, rule_id=rule_id)
    except (PbxlensError, DeliveryError, ValueError, TypeError) as exc:
        return (t("alert_not_saved", lang, reason=error_text(exc, lang)), dash.no_update,
                dash.no_update)
    return t("alert_saved", lang, name=r.name), (saved or 0) + 1, r.id


@dash.callback(*(Output(f"alert-rule-{f}", "value") for f in FIELDS),
               Output("alert-rule-id", "data", allow_duplicate=True),
               Output("alert-rule-msg", "children", allow_duplicate=True),
               Input({"type": "alert-rule-edit", "rule": ALL}, "n_clicks"),
               Input("alert-rule-new", "n_clicks"), prevent_initial_call=True)
def load(_edits, _new):
    user, lang = web.user(), web.lang()
    hit = ctx.triggered_id
    if not access.is_manager(user) or not ctx.triggered or not ctx.triggered[0]["value"]:
        return [dash.no_update] * (len(FIELDS) + 2)
    if isinstance(hit, dict):
        try:
            r = rules.get_rule(web.store(), user.tenant, int(hit["rule"]))
        except PbxlensError:
            return [dash.no_update] * (len(FIELDS) + 2)
        return [*form_values(r, lang), r.id, t("alert_editing", lang, name=r.name)]
    return [*form_values(None, lang), None, ""]


# ----------------------------------------------------------------------------- the lists

@dash.callback(Output("alerts-body", "children"), Input("alerts-tick", "n_intervals"),
               Input({"type": "alert-ack", "rule": ALL, "scope": ALL}, "n_clicks"),
               Input({"type": "alert-rule-toggle", "rule": ALL, "on": ALL}, "n_clicks"),
               Input({"type": "alert-rule-delete", "rule": ALL}, "n_clicks"),
               Input("alert-rule-saved", "data"),
               prevent_initial_call=True)
def refresh(_n, _acks, _toggles, _deletes, _saved):
    user, lang = web.user(), web.lang()
    if not access.is_manager(user):
        return dash.no_update
    hit = ctx.triggered_id
    clicked = bool(ctx.triggered and ctx.triggered[0]["value"])
    if isinstance(hit, dict) and clicked:
        store, rid = web.store(), int(hit["rule"])
        if hit["type"] == "alert-ack":
            alerts.acknowledge(store, user.tenant, rid, hit["scope"], user.username)
        elif hit["type"] == "alert-rule-toggle":
            rules.set_enabled(store, user.tenant, rid, not hit["on"])
        elif hit["type"] == "alert-rule-delete":
            rules.delete_rule(store, user.tenant, rid)
    return render(lang)


def _when(v) -> str:
    from pbxlens.live.definitions import zone

    return v.astimezone(zone()).strftime("%d/%m/%Y %H:%M:%S") if v else ""


def _table(head: list[str], rows: list[list], tid: str) -> html.Table | html.P:
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in head])),
                       html.Tbody([html.Tr([html.Td(c) for c in r]) for r in rows])],
                      className="pbx-table", id=tid)


def _scope(scope: str, lang: str) -> str:
    """A queue id, `agent:<name>`, or a tenant-wide source (in words)."""
    return t(f"alert_scope_{scope}", lang) if scope in ("events", "cdr", "billing") else scope


def _rule_buttons(r: rules.Rule, lang: str) -> html.Span:
    return html.Span([
        html.Button(t("alert_edit", lang), n_clicks=0, className="pbx-btn",
                    id={"type": "alert-rule-edit", "rule": r.id}),
        html.Button(t("alert_disable" if r.enabled else "alert_enable", lang), n_clicks=0,
                    className="pbx-btn", id={"type": "alert-rule-toggle", "rule": r.id,
                                             "on": r.enabled}),
        html.Button(t("alert_delete", lang), n_clicks=0, className="pbx-btn",
                    id={"type": "alert-rule-delete", "rule": r.id}),
    ])


def _check(c: dict | None, tenant: str, lang: str) -> html.Div:
    """The last consistency check: its day and outcome, the tenant's differences listed."""
    if c is None:
        return html.Div(html.P(t("alert_check_none", lang), className="pbx-muted"),
                        id="alerts-check")
    day = fmt.day_label(c["day"])
    mine = [d for d in c["differences"] if d["tenant"] == tenant]
    head = (t("alert_check_ok", lang, day=day, queues=fmt.number(c["queues"], lang=lang),
              at=_when(c["checked_at"])) if c["ok"] else
            t("alert_check_diff", lang, day=day, n=fmt.number(len(c["differences"]), lang=lang),
              queues=fmt.number(c["queues"], lang=lang), at=_when(c["checked_at"])))
    return html.Div([html.P(head), html.Ul([html.Li(t(
        "alert_check_field", lang, queue=d["queue"], field=d["field"],
        live=fmt.number(d["live"], lang=lang), cdr=fmt.number(d["cdr"], lang=lang)))
        for d in mine[:20]])], id="alerts-check")


def render(lang: str) -> list:
    store, tenant = web.store(), web.user().tenant
    with store.ops_read() as c:
        now_firing = alerts.firing(c, tenant)
        past = alerts.history(c, tenant, limit=200)
        rs = rules.list_rules(c, tenant)
        checks = consistency.last_checks(c, limit=1)
    firing_rows = [[r["rule"], _scope(r["scope"], lang), _when(r["since"]),
                    r["acked_by"] or html.Button(
                        t("alert_event_acknowledged", lang), n_clicks=0,
                        className="pbx-btn",
                        id={"type": "alert-ack", "rule": r["rule_id"], "scope": r["scope"]})]
                   for r in now_firing]
    rule_rows = [[r.name, t(f"alert_kind_{r.kind}", lang), ", ".join(r.queues) or "*",
                  "" if r.threshold is None else fmt.number(r.threshold, lang=lang),
                  fmt.number(r.cooldown_min, lang=lang),
                  f"{r.quiet_start}–{r.quiet_end}" if r.quiet_start else "",
                  ", ".join(ch["target"] for ch in r.channels),
                  t("alert_yes" if r.enabled else "alert_no", lang), _rule_buttons(r, lang)]
                 for r in rs]
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
                t("alert_channels", lang), t("alert_active", lang), ""], rule_rows,
               "alerts-rules") if rule_rows
        else html.P(t("alert_no_rules", lang), className="pbx-muted", id="alerts-rules"),
        html.H2(t("alert_check", lang)),
        _check(checks[0] if checks else None, tenant, lang),
        html.H2(t("alert_history", lang)),
        _table([t("alert_at", lang), t("alert_rule", lang), t("alert_state", lang),
                t("alert_message", lang), t("alert_delivery", lang)], past_rows,
               "alerts-history"),
    ]
