"""`/views`: the user's saved views and those shared with their tenant, scheduled deliveries
(create, send now, pause, delete), their own address for deliveries, background exports and the
delivery log (an admin sees the tenant's, everyone else their own)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import dash
import sqlalchemy as sa
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from pbxlens import PbxlensError
from pbxlens.config import get_settings
from pbxlens.dashboards import access
from pbxlens.dashboards import context as web
from pbxlens.dashboards.i18n import error_text, t
from pbxlens.dashboards.pages.common import forbidden, page_title
from pbxlens.delivery import log_for
from pbxlens.reports import format as fmt
from pbxlens.reports import get
from pbxlens.store import schema as T
from pbxlens.store.privacy import NUMBER_KEYS, mask_number
from pbxlens.store.roles import is_admin
from pbxlens.views import exports, saved, schedules
from pbxlens.views.render import FORMATS

dash.register_page(__name__, path="/views", name="Views", title=page_title("views_page"))

WEEKDAYS = {"en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
            "it": ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica")}


def _when(instant) -> str:
    if instant is None:
        return ""
    local = instant.astimezone(ZoneInfo(get_settings().timezone))
    return f"{fmt.day_label(local.date())} {local:%H:%M}"


def _table(head: list[str], rows: list[list], tid: str, empty: str) -> html.Div:
    if not rows:
        return html.Div(empty, className="pbx-empty", id=tid)
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in head])),
                       html.Tbody([html.Tr([html.Td(c) for c in r]) for r in rows])],
                      className="pbx-table", id=tid)


# ----------------------------------------------------------------------------- sections


def views_table(lang: str) -> html.Div:
    user = web.user()
    rows = []
    for v in saved.visible(web.store(), user):
        own = v.owner == user.id or is_admin(user)
        rows.append([dcc.Link(v.name, href=v.url, id={"type": "vw-open", "id": v.id}),
                     get(v.report_id).title(lang), v.period_label(lang),
                     _filters_text(v.filters, user.privacy),
                     v.owner_name, t("shared" if v.shared else "private", lang),
                     html.Button(t("delete", lang), id={"type": "vw-del-view", "id": v.id},
                                 n_clicks=0, className="pbx-btn pbx-btn-small") if own else ""])
    return _table([t("view_name", lang), t("view_report", lang), t("period", lang),
                   t("filters", lang), t("view_owner", lang), "", ""], rows, "vw-views-table",
                  t("no_saved_views", lang))


def _filters_text(filters: dict, privacy: bool) -> str:
    """A view's filters as saved; number filters masked for a user without the privacy right
    (a shared view may hold a number its owner typed)."""
    def shown(k: str, values: list[str]) -> str:
        if privacy or k not in NUMBER_KEYS:
            return ", ".join(values)
        return ", ".join(mask_number(x) or "" for x in values)

    return " · ".join(f"{k} = {shown(k, x)}" for k, x in filters.items())


def _recurrence(s: schedules.Schedule, lang: str) -> str:
    if s.frequency == "weekly":
        return f"{t('weekly', lang)}, {WEEKDAYS[lang if lang == 'it' else 'en'][s.weekday - 1]} " \
               f"{s.at_time}"
    if s.frequency == "monthly":
        day = t("last_day", lang) if s.month_day == -1 else str(s.month_day)
        return f"{t('monthly', lang)}, {day}, {s.at_time}"
    return f"{t('daily', lang)}, {s.at_time}"


def schedules_table(lang: str) -> html.Div:
    store, user = web.store(), web.user()
    names = {v.id: v.name for v in saved.visible(store, user)}
    rows = []
    for s in schedules.listing(store, user):
        last = (schedules.runs(store, s.id, limit=1) or [None])[0]
        last_text = ""
        if last:
            last_text = f"{_when(last['due_at'])} {t('run_' + last['state'], lang)}"
            if last["error"]:
                last_text += f": {last['error']}"
        to = len(s.recipients.get("users") or []) + len(s.recipients.get("emails") or [])

        def act(name: str, label: str, sid: int = s.id) -> html.Button:
            return html.Button(t(label, lang), id={"type": "vw-sched", "id": sid, "act": name},
                               n_clicks=0, className="pbx-btn pbx-btn-small")

        rows.append([names.get(s.view_id, f"#{s.view_id}"), _recurrence(s, lang),
                     s.format.upper(), str(to),
                     _when(s.next_due_at) if s.enabled else t("paused", lang), last_text,
                     html.Span([act("send", "send_now"),
                                act("toggle", "pause" if s.enabled else "resume"),
                                act("delete", "delete")], className="pbx-actions")])
    return _table([t("sched_view", lang), t("frequency", lang), t("file_format", lang),
                   t("recipients", lang), t("next_due", lang), t("last_run", lang), ""], rows,
                  "vw-scheds-table", t("no_schedules", lang))


def _user_options(tenant: str) -> list[dict]:
    u = T.users.c
    with web.store().ops_read() as c:
        rows = c.execute(sa.select(u.id, u.username, u.email).where(
            u.tenant == tenant, u.disabled.is_(False), u.email.is_not(None))
            .order_by(u.username)).all()
    return [{"value": r.id, "label": f"{r.username} <{r.email}>"} for r in rows]


def _field(label: str, control) -> html.Div:
    return html.Div([html.Label(label), control], className="pbx-field")


def schedule_form(lang: str) -> html.Section:
    user = web.user()
    views = [{"value": v.id, "label": v.name} for v in saved.visible(web.store(), user)]
    wd = WEEKDAYS["it" if lang == "it" else "en"]
    days = [{"value": d, "label": str(d)} for d in range(1, 32)]
    return html.Section([
        html.H3(t("new_schedule", lang)),
        html.Div([
            _field(t("sched_view", lang), dcc.Dropdown(id="vw-sc-view", options=views,
                                                       clearable=False)),
            _field(t("frequency", lang), dcc.Dropdown(
                id="vw-sc-freq", value="weekly", clearable=False,
                options=[{"value": f, "label": t(f, lang)} for f in schedules.R.FREQUENCIES])),
            _field(t("weekday", lang), dcc.Dropdown(
                id="vw-sc-weekday", value=1, clearable=False,
                options=[{"value": i + 1, "label": n} for i, n in enumerate(wd)])),
            _field(t("month_day", lang), dcc.Dropdown(
                id="vw-sc-mday", value=1, clearable=False,
                options=[*days, {"value": -1, "label": t("last_day", lang)}])),
            _field(t("at_time", lang), dcc.Input(id="vw-sc-time", value="07:00",
                                                 className="pbx-input")),
            _field(t("file_format", lang), dcc.Dropdown(
                id="vw-sc-format", value="xlsx", clearable=False,
                options=[{"value": f, "label": f.upper()} for f in FORMATS])),
            _field(t("language", lang), dcc.Dropdown(
                id="vw-sc-lang", value=lang, clearable=False,
                options=[{"value": c, "label": t(f"lang_{c}", lang)} for c in ("it", "en")])),
            _field(t("recipient_users", lang), dcc.Dropdown(
                id="vw-sc-users", options=_user_options(user.tenant), multi=True,
                placeholder=t("any", lang))),
            _field(t("recipient_emails", lang), dcc.Input(id="vw-sc-emails", className="pbx-input")),
        ], className="pbx-filters"),
        html.Button(t("create", lang), id="vw-sc-create", n_clicks=0,
                    className="pbx-btn pbx-btn-primary"),
    ], className="pbx-card")


def email_form(lang: str) -> html.Section:
    with web.store().ops_read() as c:
        current = schedules.user_email(c, web.user().id)
    return html.Section([
        html.Div([_field(t("my_email", lang), dcc.Input(id="vw-email", value=current or "",
                                                        type="email", className="pbx-input")),
                  html.Button(t("save", lang), id="vw-email-save", n_clicks=0,
                              className="pbx-btn"),
                  html.Span(id="vw-email-msg", className="pbx-msg")], className="pbx-filters"),
    ], className="pbx-card")


def exports_table(lang: str) -> html.Div:
    store, user = web.store(), web.user()
    rows = []
    for e in exports.listing(store, user):
        link = (html.A(t("export_download", lang), href=exports.link(store, e["id"], user.id))
                if e["state"] == "ready" else "")
        state = e["state"] if e["state"] != "failed" else f"{e['state']}: {e['error']}"
        rows.append([_when(e["created_at"]), get(e["report_id"]).title(lang),
                     e["format"].upper(), state, _when(e["expires_at"]), link])
    return _table([t("log_at", lang), t("view_report", lang), t("file_format", lang),
                   t("log_outcome", lang), t("expires", lang), ""], rows, "vw-exports-table",
                  t("no_deliveries", lang))


def log_table(lang: str) -> html.Div:
    user = web.user()
    with web.store().ops_read() as c:
        rows = log_for(c, tenant=user.tenant, owner=None if is_admin(user) else user.id,
                       limit=200)
    body = [[_when(r["at"]), r["target"], r["subject"],
             f"{fmt.count(r['size_bytes'], lang=lang)} B" if r["size_bytes"] else "",
             t(f"outcome_{r['outcome']}", lang), r["error"] or ""] for r in rows]
    return _table([t("log_at", lang), t("log_to", lang), t("log_subject", lang),
                   t("log_size", lang), t("log_outcome", lang), t("log_error", lang)], body,
                  "vw-log-table", t("no_deliveries", lang))


def layout(**_kwargs):
    lang, user = web.lang(), web.user()
    if not access.visible_reports(user):
        return forbidden(lang)
    return html.Div([
        html.H1(t("views_page", lang)),
        html.Section([html.H3(t("saved_views", lang)), html.Div(views_table(lang), id="vw-views")],
                     className="pbx-card"),
        html.Section([html.H3(t("schedules", lang)),
                      html.Div(id="vw-msg", className="pbx-msg"),
                      html.Div(schedules_table(lang), id="vw-scheds")], className="pbx-card"),
        schedule_form(lang),
        email_form(lang),
        html.Section([html.H3(t("exports", lang)), exports_table(lang)], className="pbx-card"),
        html.Section([html.H3(t("delivery_log", lang)), html.Div(log_table(lang), id="vw-log")],
                     className="pbx-card"),
    ], className="pbx-views-page")


# ----------------------------------------------------------------------------- callbacks


def _clicked() -> bool:
    """A real click (pattern-matched buttons also fire when a table is re-rendered)."""
    return bool(ctx.triggered and ctx.triggered[0].get("value"))


@dash.callback(
    Output("vw-views", "children"), Output("vw-scheds", "children"), Output("vw-msg", "children"),
    Output("vw-sc-view", "options"), Output("vw-log", "children"),
    Input({"type": "vw-del-view", "id": ALL}, "n_clicks"),
    Input({"type": "vw-sched", "id": ALL, "act": ALL}, "n_clicks"),
    Input("vw-sc-create", "n_clicks"),
    State("vw-sc-view", "value"), State("vw-sc-freq", "value"), State("vw-sc-weekday", "value"),
    State("vw-sc-mday", "value"), State("vw-sc-time", "value"), State("vw-sc-format", "value"),
    State("vw-sc-lang", "value"), State("vw-sc-users", "value"), State("vw-sc-emails", "value"),
    prevent_initial_call=True,
)
def act(_dv, _sa, _cr, view_id, freq, weekday, mday, at_time, file_format, sched_lang, users_,
        emails):
    lang, user, store = web.lang(), web.user(), web.store()
    trig = ctx.triggered_id
    if not _clicked():
        return (no_update,) * 5
    msg = ""
    try:
        if trig == "vw-sc-create":
            if not view_id:
                raise PbxlensError(t("sched_view", lang) + ": ?")
            schedules.create(store, user, int(view_id), freq, at_time or "", weekday=weekday,
                             month_day=mday, fmt=file_format, users=users_ or [],
                             emails=(emails or "").replace(";", ",").split(","), lang=sched_lang)
            msg = t("sched_created", lang)
        elif trig["type"] == "vw-del-view":
            saved.delete(store, user, int(trig["id"]))
        elif trig["act"] == "send":
            msg = t("sched_sent", lang, n=schedules.send_now(store, user, int(trig["id"])))
        elif trig["act"] == "toggle":
            current = schedules.by_id(store, int(trig["id"]))
            schedules.set_enabled(store, user, int(trig["id"]), not current.enabled)
        elif trig["act"] == "delete":
            schedules.delete(store, user, int(trig["id"]))
    except PbxlensError as exc:
        msg = html.Span(error_text(exc, lang), className="pbx-alert")
    options = [{"value": v.id, "label": v.name} for v in saved.visible(store, user)]
    return views_table(lang), schedules_table(lang), msg, options, log_table(lang)


@dash.callback(
    Output("vw-email-msg", "children"), Input("vw-email-save", "n_clicks"),
    State("vw-email", "value"), prevent_initial_call=True,
)
def save_email(n, value):
    if not n:
        return no_update
    try:
        schedules.set_user_email(web.store(), web.user().id, value)
    except PbxlensError as exc:
        return html.Span(error_text(exc, web.lang()), className="pbx-alert")
    return t("saved", web.lang())
