"""What the two missed-call pages share: the acting user, one page of a list from the
operations store (server-side filters, sorting and paging), grid rows, the pager, the filter
bar, and errors in the user's language. Rows are named by the request's random token."""

from __future__ import annotations

import math

from dash import dcc, html

from pbxlens.dashboards import context as web
from pbxlens.dashboards.i18n import t
from pbxlens.missed_calls import listing
from pbxlens.missed_calls.actor import Actor
from pbxlens.missed_calls.errors import MissedError
from pbxlens.reports import format as fmt

SORT_KEYS = (("first_call", "mc_first_call"), ("last_call", "mc_last_call"),
             ("num_calls", "mc_calls"), ("num_recalled", "mc_recalled"),
             ("last_recalled", "mc_last_recalled"), ("call_num", "mc_call_num"),
             ("queue", "mc_queue"))
# the A.4 filters (A.5/A.6 add the recall ones): (filter key, label key, input type)
FILTERS = (("caller", "mc_caller", "text"), ("queue", "mc_queue", "text"),
           ("type", "mc_type", "text"), ("source", "mc_source", "text"),
           ("account_code", "mc_account_code", "text"), ("first_from", "mc_first_from", "date"),
           ("first_to", "mc_first_to", "date"), ("last_from", "mc_last_from", "date"),
           ("last_to", "mc_last_to", "date"))


def actor() -> Actor:
    return Actor.of(web.user())


def ts(v) -> str:
    return v.strftime("%d/%m/%Y %H:%M:%S") if v is not None else ""  # the pages' form (L6202)


def grid_row(r: dict, lang: str, crm: str = "") -> dict:
    """A list row as a grid shows it (`call_num` is already masked for the user)."""
    link = f"[CRM]({crm.replace('{call_num}', r['call_num'])})" if crm else ""
    return {"id": r["token"], "call_num": r["call_num"], "first_call": ts(r["first_call"]),
            "last_call": ts(r["last_call"]), "num_calls": fmt.count(r["num_calls"], lang=lang),
            "num_recalled": fmt.count(r["num_recalled"], lang=lang),
            "last_recalled": ts(r["last_recalled"]), "queue": r["queue"] or "",
            "booked_by": r["booked_by"] or "", "booked_at": ts(r["booked_at"]),
            "link": link, "book": "+", "cancel": "−"}


def fetch(view: str, filters: dict, sort: str, desc: bool, page: int, size: int,
          lang: str, crm: str = "") -> tuple[list[dict], str, int]:
    """(grid rows, "Page p of n · rows", page) of one page; past the end: the last page."""
    who = actor()
    page = max(int(page or 0), 0)
    got = listing.list_requests(web.store(), who, view, filters, sort, desc, size, page * size)
    pages = max(1, math.ceil(got.total / size))
    if page >= pages:
        page = pages - 1
        got = listing.list_requests(web.store(), who, view, filters, sort, desc, size,
                                    page * size)
    rows = [grid_row(r, lang, crm) for r in got.rows]
    return rows, t("page_of", lang, page=page + 1, pages=pages, rows=got.total), page


def turn(page: int | None, trig: str | None, prefix: str, keep: tuple[str, ...]) -> int:
    """The page to show after `trig`: the pager `prefix` moves it, the triggers in `keep`
    (a refresh, a click in a grid) leave it, anything else (a new search) starts over."""
    page = page or 0
    if trig == f"{prefix}-prev":
        return page - 1
    if trig == f"{prefix}-next":
        return page + 1
    return page if trig in keep else 0


def pager(prefix: str, lang: str) -> html.Div:
    return html.Div([html.Button("‹ " + t("previous", lang), id=f"{prefix}-prev", n_clicks=0,
                                 className="pbx-btn"),
                     html.Span(id=f"{prefix}-info", className="pbx-muted"),
                     html.Button(t("next", lang) + " ›", id=f"{prefix}-next", n_clicks=0,
                                 className="pbx-btn")], className="pbx-actions")


def sort_bar(prefix: str, lang: str) -> list:
    return [html.Div([html.Label(t("mc_sort", lang)),
                      dcc.Dropdown(id=f"{prefix}-sort", value="first_call", clearable=False,
                                   options=[{"value": k, "label": t(label, lang)}
                                            for k, label in SORT_KEYS])], className="pbx-field"),
            html.Div([html.Label(t("mc_order", lang)),
                      dcc.Dropdown(id=f"{prefix}-desc", value="desc", clearable=False,
                                   options=[{"value": "desc", "label": t("mc_desc", lang)},
                                            {"value": "asc", "label": t("mc_asc", lang)}])],
                     className="pbx-field")]


def filter_inputs(prefix: str, lang: str, keys: tuple = FILTERS) -> list:
    return [html.Div([html.Label(t(label, lang)),
                      dcc.Input(id=f"{prefix}-f-{key}", type=kind, className="pbx-input",
                                debounce=True)], className="pbx-field")
            for key, label, kind in keys]


def filter_values(keys: tuple, values: tuple) -> dict:
    return {k: v.strip() for (k, _label, _kind), v in zip(keys, values, strict=True)
            if isinstance(v, str) and v.strip()}


def error_text(exc: MissedError, lang: str) -> str:
    """The refusal in the user's language (`mc_err_<id>`), with the values it names."""
    params = {k: v for k, v in exc.params.items() if isinstance(v, str | int)}
    try:
        return t(f"mc_err_{exc.error_id}", lang, message=str(exc), **params)
    except KeyError:  # a message without one of the template's values
        return t("mc_err_invalid", lang, message=str(exc))
