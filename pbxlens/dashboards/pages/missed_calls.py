"""Missed calls for operators (nexus_modules.md A.4): "Numbers to call back" and "Booked calls"
side by side, each one page at a time from the operations store (server-side filters, sorting
and paging, newest first). One click on "+" books, on "−" cancels, on the number calls (click
to call: the PBX originates when configured; the `tel:` link only for users with the privacy
right). Both grids refresh every 15 s; a refused booking says who holds the request."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import dash
import dash_ag_grid as dag
from dash import Input, Output, State, dcc, html, no_update

from pbxlens.dashboards import context as web
from pbxlens.dashboards.i18n import t
from pbxlens.dashboards.pages import missed_common as mc
from pbxlens.dashboards.pages.common import forbidden, page_title
from pbxlens.missed_calls import click2call
from pbxlens.missed_calls import operations as op
from pbxlens.missed_calls.errors import MissedError
from pbxlens.store import analytics, roles

dash.register_page(__name__, path="/missed", name="Missed calls",
                   title=page_title("missed_calls"))

PAGE_SIZE = 20
KEEP = ("mc-tick", "mc-to-call", "mc-booked", "mc-tc-prev", "mc-tc-next", "mc-bk-prev",
        "mc-bk-next")


def _window(vals: dict[str, str]) -> str:
    """The callback-window indicator (A.4, MC-11): green inside the preferred hours."""
    now = datetime.now(UTC).astimezone(ZoneInfo(analytics.timezone())).time()
    lo = time.fromisoformat(vals["callback_window_start"])
    hi = vals["callback_window_end"]
    inside = lo <= now and (hi == "24:00" or now < time.fromisoformat(hi))
    return "green" if inside else "grey"


def _cols(lang: str, booked: bool) -> list[dict]:
    c = [{"field": "cancel" if booked else "book", "headerName": "", "width": 56,
          "cellClass": "pbx-mc-cancel" if booked else "pbx-mc-book"}]
    if booked:
        c.append({"field": "booked_at", "headerName": t("mc_booked_at", lang)})
    c += [{"field": "first_call", "headerName": t("mc_first_call", lang)},
          {"field": "last_call", "headerName": t("mc_last_call", lang)},
          # counts: narrow, but never narrower than their header ("richiamate")
          {"field": "num_calls", "headerName": t("mc_calls", lang), "width": 110,
           "minWidth": 110},
          {"field": "num_recalled", "headerName": t("mc_recalled", lang), "width": 120,
           "minWidth": 120},
          {"field": "last_recalled", "headerName": t("mc_last_recalled", lang)},
          {"field": "call_num", "headerName": t("mc_call_num", lang),
           "cellClass": "pbx-mc-num" if booked else ""},
          {"field": "queue", "headerName": t("mc_queue", lang)}]
    if booked:
        c.append({"field": "link", "headerName": "", "cellRenderer": "markdown",
                  "linkTarget": "_blank", "width": 70})
    return c


def _grid(gid: str, lang: str, booked: bool):
    # one server page at a time: the grid neither sorts nor pages by itself
    return dag.AgGrid(id=gid, rowData=[], columnDefs=_cols(lang, booked),
                      getRowId="params.data.id", columnSize="sizeToFit",
                      defaultColDef={"sortable": False},
                      dashGridOptions={"domLayout": "autoHeight", "suppressCellFocus": True},
                      className="ag-theme-alpine pbx-grid")


def layout(**_kwargs):
    user, lang = web.user(), web.lang()
    if not roles.can_use_missed_calls(user):
        return forbidden(lang)
    return html.Div([
        html.Div([html.H1(t("missed_calls", lang)),
                  html.Span(id="mc-window", className="pbx-mc-window")], className="pbx-page-head"),
        html.Div([*mc.filter_inputs("mc", lang), *mc.sort_bar("mc", lang),
                  html.Button(t("search", lang), id="mc-search", n_clicks=0,
                              className="pbx-btn pbx-btn-primary")],
                 className="pbx-filters pbx-card"),
        html.Div(id="mc-msg", className="pbx-msg"),
        dcc.Store(id="mc-tc-page", data=0), dcc.Store(id="mc-bk-page", data=0),
        html.Div([
            html.Section([html.H3(t("mc_to_call", lang)), mc.pager("mc-tc", lang),
                          _grid("mc-to-call", lang, False)], className="pbx-card pbx-mc-col"),
            html.Section([html.H3(t("mc_booked", lang)), mc.pager("mc-bk", lang),
                          _grid("mc-booked", lang, True)], className="pbx-card pbx-mc-col"),
        ], className="pbx-mc-cols"),
        dcc.Interval(id="mc-tick", interval=15_000),
    ])


def _act(trig, book_click, booked_click, lang: str):
    """The click's action (book, cancel, call) and the message about it."""
    stores, actor = web.store(), mc.actor()
    if trig == "mc-to-call" and book_click and book_click.get("colId") == "book":
        r = op.book(stores, actor, book_click["rowId"])
        return t("mc_booked_ok", lang, num=r["call_num"])
    if trig == "mc-booked" and booked_click and booked_click.get("colId") == "cancel":
        r = op.cancel(stores, actor, booked_click["rowId"])
        return t("mc_cancelled", lang, num=r["call_num"])
    if trig == "mc-booked" and booked_click and booked_click.get("colId") == "call_num":
        r = click2call.call(stores, actor, booked_click["rowId"], click2call.configured(stores))
        text = t("mc_calling", lang, num=r["call_num"])
        return html.A(text, href=r["tel"], id="mc-tel") if r["tel"] else text
    return ""


@dash.callback(
    Output("mc-to-call", "rowData"), Output("mc-tc-info", "children"),
    Output("mc-tc-page", "data"), Output("mc-booked", "rowData"),
    Output("mc-bk-info", "children"), Output("mc-bk-page", "data"),
    Output("mc-msg", "children"), Output("mc-window", "children"),
    Output("mc-window", "className"),
    Input("mc-tick", "n_intervals"), Input("mc-search", "n_clicks"),
    Input("mc-sort", "value"), Input("mc-desc", "value"),
    Input("mc-tc-prev", "n_clicks"), Input("mc-tc-next", "n_clicks"),
    Input("mc-bk-prev", "n_clicks"), Input("mc-bk-next", "n_clicks"),
    Input("mc-to-call", "cellClicked"), Input("mc-booked", "cellClicked"),
    State("mc-tc-page", "data"), State("mc-bk-page", "data"),
    *[State(f"mc-f-{k}", "value") for k, _l, _t in mc.FILTERS],
)
def refresh(_tick, _search, sort, order, _tp, _tn, _bp, _bn, book_click, booked_click,
            tc_page, bk_page, *filter_values):
    user, lang = web.user(), web.lang()
    if not roles.can_use_missed_calls(user):
        return (no_update,) * 6 + (t("forbidden", lang), no_update, no_update)
    trig = dash.ctx.triggered_id
    try:
        msg: object = _act(trig, book_click, booked_click, lang)
    except MissedError as exc:
        msg = html.Span(mc.error_text(exc, lang), className="pbx-alert", id="mc-error")
    f = mc.filter_values(mc.FILTERS, filter_values)
    vals = op.settings_of(web.store())
    crm = vals["crm_url"] if user.privacy else ""  # the CRM link carries the number
    desc = order != "asc"
    try:
        tc = mc.fetch("to_call", f, sort, desc, mc.turn(tc_page, trig, "mc-tc", KEEP),
                      PAGE_SIZE, lang)
        bk = mc.fetch("booked", f, sort, desc, mc.turn(bk_page, trig, "mc-bk", KEEP),
                      PAGE_SIZE, lang, crm)
    except MissedError as exc:  # a filter that does not parse
        return ([], "", 0, [], "", 0, html.Span(mc.error_text(exc, lang), className="pbx-alert"),
                no_update, no_update)
    colour = _window(vals)
    return (*tc, *bk, msg, t(f"mc_window_{colour}", lang), f"pbx-mc-window pbx-mc-{colour}")
