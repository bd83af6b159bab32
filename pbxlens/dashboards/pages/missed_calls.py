"""Missed calls for operators (nexus_modules.md A.4): "Numbers to call back" and "Booked calls"
side by side. One click on "+" books, on "−" cancels, on the number calls (click to call: the
PBX originates when configured, else the `tel:` link). Both grids refresh every 15 s; a failed
booking says who holds the request."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import dash
import dash_ag_grid as dag
from dash import Input, Output, State, dcc, html, no_update

from pbxlens.dashboards import context as web
from pbxlens.dashboards.i18n import t
from pbxlens.dashboards.pages.common import forbidden
from pbxlens.missed_calls import click2call
from pbxlens.missed_calls import operations as op
from pbxlens.missed_calls import settings as ms
from pbxlens.store import privacy

dash.register_page(__name__, path="/missed", name="Missed calls", title="pbxlens · missed calls")

ROLES = ("operator", "supervisor", "admin")


def allowed(user) -> bool:
    return user is not None and not user.disabled and user.role in ROLES


def _db() -> op.Db:
    return op.Db.from_store(web.store())


def _ts(v) -> str:
    return v.strftime("%Y-%m-%d %H:%M:%S") if v is not None else "null"  # L6202 form


def _window(db: op.Db, tz: str) -> str:
    """The callback-window indicator (A.4, MC-11): green inside the preferred hours."""
    with db.cursor() as cur:
        vals = ms.load(cur)
    now = datetime.now(UTC).astimezone(ZoneInfo(tz)).time()
    lo = time.fromisoformat(vals["callback_window_start"])
    hi = vals["callback_window_end"]
    inside = lo <= now and (hi == "24:00" or now < time.fromisoformat(hi))
    return "green" if inside else "grey"


def rows(view: str, filters: dict) -> list[dict]:
    user = web.user()
    db = _db()
    with db.cursor() as cur:
        crm = ms.load(cur)["crm_url"]
    out = []
    for r in op.list_requests(db, op.Actor.of(user), view, filters):
        num = r["call_num"] if user.privacy else privacy.mask_number(r["call_num"])
        # the CRM link (A.4) carries the number: only for users with the privacy right
        link = f"[CRM]({crm.replace('{call_num}', r['call_num'])})" if crm and user.privacy else ""
        out.append({"link": link, "id": op.token(r["request_key"]), "call_num": num,
                    "first_call": _ts(r["first_call"]), "last_call": _ts(r["last_call"]),
                    "num_calls": r["num_calls"], "num_recalled": r["num_recalled"],
                    "last_recalled": _ts(r["last_recalled"]), "queue": r["queue"] or "",
                    "booked_at": _ts(r["booked_at"]), "book": "+", "cancel": "−"})
    return out


def _cols(lang: str, booked: bool) -> list[dict]:
    c = [{"field": "cancel" if booked else "book", "headerName": "", "width": 56,
          "cellClass": "pbx-mc-cancel" if booked else "pbx-mc-book"}]
    if booked:
        c.append({"field": "booked_at", "headerName": t("mc_booked_at", lang)})
    c += [{"field": "first_call", "headerName": t("mc_first_call", lang)},
          {"field": "last_call", "headerName": t("mc_last_call", lang)},
          {"field": "num_calls", "headerName": t("mc_calls", lang), "width": 80},
          {"field": "num_recalled", "headerName": t("mc_recalled", lang), "width": 90},
          {"field": "last_recalled", "headerName": t("mc_last_recalled", lang)},
          {"field": "call_num", "headerName": t("mc_call_num", lang),
           "cellClass": "pbx-mc-num" if booked else ""},
          {"field": "queue", "headerName": t("mc_queue", lang)}]
    if booked:
        c.append({"field": "link", "headerName": "", "cellRenderer": "markdown",
                  "linkTarget": "_blank", "width": 70})
    return c


def _grid(gid: str, lang: str, booked: bool):
    return dag.AgGrid(id=gid, rowData=[], columnDefs=_cols(lang, booked),
                      getRowId="params.data.id", columnSize="sizeToFit",
                      dashGridOptions={"domLayout": "autoHeight", "pagination": True,
                                       "paginationPageSize": 20},
                      className="ag-theme-alpine pbx-grid")


def layout(**_kwargs):
    user, lang = web.user(), web.lang()
    if not allowed(user):
        return forbidden(lang)
    field = "pbx-field"
    return html.Div([
        html.Div([html.H1(t("missed_calls", lang)),
                  html.Span(id="mc-window", className="pbx-mc-window")], className="pbx-page-head"),
        html.Div([
            html.Div([html.Label(t("mc_caller", lang)), dcc.Input(id="mc-f-caller",
                                                                 className="pbx-input")], className=field),
            html.Div([html.Label(t("mc_queue", lang)), dcc.Input(id="mc-f-queue",
                                                                className="pbx-input")], className=field),
            html.Button(t("search", lang), id="mc-search", n_clicks=0,
                        className="pbx-btn pbx-btn-primary"),
        ], className="pbx-filters pbx-card"),
        html.Div(id="mc-msg", className="pbx-msg"),
        html.Div([
            html.Section([html.H3(t("mc_to_call", lang)), _grid("mc-to-call", lang, False)],
                         className="pbx-card pbx-mc-col"),
            html.Section([html.H3(t("mc_booked", lang)), _grid("mc-booked", lang, True)],
                         className="pbx-card pbx-mc-col"),
        ], className="pbx-mc-cols"),
        dcc.Interval(id="mc-tick", interval=15_000),
    ])


def _filters(caller, queue) -> dict:
    return {k: v.strip() for k, v in (("caller", caller), ("queue", queue)) if v and v.strip()}


@dash.callback(
    Output("mc-to-call", "rowData"), Output("mc-booked", "rowData"), Output("mc-msg", "children"),
    Output("mc-window", "children"), Output("mc-window", "className"),
    Input("mc-tick", "n_intervals"), Input("mc-search", "n_clicks"),
    Input("mc-to-call", "cellClicked"), Input("mc-booked", "cellClicked"),
    State("mc-f-caller", "value"), State("mc-f-queue", "value"),
)
def refresh(_tick, _search, book_click, booked_click, caller, queue):
    user, lang = web.user(), web.lang()
    if not allowed(user):
        return no_update, no_update, t("forbidden", lang), no_update, no_update
    db, actor = _db(), op.Actor.of(user)
    trig = dash.ctx.triggered_id
    msg: object = ""
    try:
        if trig == "mc-to-call" and book_click and book_click.get("colId") == "book":
            r = op.book(db, actor, op.resolve(db, actor.tenant, book_click["rowId"]))
            msg = t("mc_booked_ok", lang, num=_shown(r["call_num"]))
        elif trig == "mc-booked" and booked_click and booked_click.get("colId") == "cancel":
            r = op.cancel(db, actor, op.resolve(db, actor.tenant, booked_click["rowId"]))
            msg = t("mc_cancelled", lang, num=_shown(r["call_num"]))
        elif trig == "mc-booked" and booked_click and booked_click.get("colId") == "call_num":
            key = op.resolve(db, actor.tenant, booked_click["rowId"])
            r = click2call.call(db, actor, key, click2call.configured(db))
            text = t("mc_calling", lang, num=_shown(r["call_num"]))
            # the tel: link shows the number: only for users with the privacy right
            msg = html.A(text, href=r["tel"], id="mc-tel") if user.privacy else text
    except op.MissedError as exc:
        msg = html.Span(str(exc), className="pbx-alert", id="mc-error")
    f = _filters(caller, queue)
    colour = _window(db, db.tz)
    return (rows("to_call", f), rows("booked", f), msg, t(f"mc_window_{colour}", lang),
            f"pbx-mc-window pbx-mc-{colour}")


def _shown(num: str) -> str:
    return num if web.user().privacy else privacy.mask_number(num)
