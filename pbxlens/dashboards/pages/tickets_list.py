"""Ticket list (nexus_modules.md B.3): quick filters with counts (priority, status, type, area,
tags, estimate, tracking), search on number / title / description, only-unread, the grid
(number descending, priority colour, bell), XLSX and CSV export of the visible columns, XLSX
import validated row by row with the report of rejected rows (admins and supervisors)."""

from __future__ import annotations

import base64
import tempfile
from datetime import date
from pathlib import Path

import dash
import dash_ag_grid as dag
from dash import Input, Output, State, dcc, html, no_update

from pbxlens import PbxlensError
from pbxlens.dashboards import access
from pbxlens.dashboards import context as web
from pbxlens.dashboards.i18n import error_text, t, ticket_mode, ticket_status
from pbxlens.dashboards.pages.common import forbidden, page_title
from pbxlens.dashboards.pages.tickets_new import field, options, users_options
from pbxlens.tickets import companies, files, listing, ticket
from pbxlens.tickets.tracking import format_hm

dash.register_page(__name__, path="/tickets", name="Tickets", title=page_title("tickets"))

_FACETS = ("status", "priority", "type", "area", "tags", "estimate", "tracking")


# the search mask's other filters (B.3 "Search"), applied with the search button
_ADV = (
    "account_id",
    "final_customer_id",
    "in_charge_user_id",
    "assigned_user_id",
    "creation_mode",
    "created_from",
    "created_to",
    "last_reply_from",
    "last_reply_to",
    "external",
)


def _filters(
    values: list | None, text: str | None, unread: list | None, adv: list | None = None
) -> listing.Filters:
    f = listing.Filters(text=text or None, unread_only=bool(unread))
    for facet, v in zip(_FACETS, values or [], strict=False):
        setattr(f, facet, list(v or []))
    for key, v in zip(_ADV, adv or [], strict=False):
        if v in (None, ""):
            continue
        if key.endswith(("_from", "_to")):
            v = date.fromisoformat(str(v)[:10])
        elif key == "external":
            v = v == "y"
        setattr(f, key, v)
    return f


def _advanced(lang: str) -> html.Div:
    with web.store().ops_read() as c:
        comps = options(companies.list_companies(c, web.user().tenant))
        users = users_options(c, web.user().tenant)
    modes = [{"label": ticket_mode(m, lang), "value": m} for m in ticket.CREATION_MODES]
    yes_no = [{"label": t("yes", lang), "value": "y"}, {"label": t("no", lang), "value": "n"}]
    controls = {
        "account_id": (t("account", lang), dcc.Dropdown(options=comps)),
        "final_customer_id": (t("final_customer", lang), dcc.Dropdown(options=comps)),
        "in_charge_user_id": (t("in_charge", lang), dcc.Dropdown(options=users)),
        "assigned_user_id": (t("assigned", lang), dcc.Dropdown(options=users)),
        "creation_mode": (t("creation_mode", lang), dcc.Dropdown(options=modes)),
        "created_from": (t("date_from", lang), dcc.Input(type="date", className="pbx-input")),
        "created_to": (t("date_to", lang), dcc.Input(type="date", className="pbx-input")),
        "last_reply_from": (t("last_reply_from", lang), dcc.Input(type="date", className="pbx-input")),
        "last_reply_to": (t("last_reply_to", lang), dcc.Input(type="date", className="pbx-input")),
        "external": (t("external", lang), dcc.Dropdown(options=yes_no)),
    }
    out = []
    for key in _ADV:
        label, ctl = controls[key]
        ctl.id = {"type": "tl-adv", "key": key}
        out.append(field(label, ctl))
    return html.Div(out, className="pbx-filters", id="tl-advanced")


def _grid_rows(rows: list[dict], lang: str) -> list[dict]:
    """The grid's cells; the rows come masked for the user from `listing.rows`."""
    out = []
    for r in rows:
        out.append(
            {
                "number": f"[{r['number']}](/tickets/edit?id={r['id']})",
                "title": r["title"],
                "account": r["account"],
                "final_customer": r["final_customer"],
                "status": ticket_status(r["status"], lang),
                "in_charge": r["in_charge"] or "",
                "assigned": r["assigned"] or "",
                "priority": r["priority"],
                "color": r["priority_color"],
                "type": r["type"],
                "area": r["area"] or "",
                "tags": r["tags"],
                "bell": "✉" if r["unread"] else "",
                "created": r["created_at"].strftime("%d/%m/%Y %H:%M") if r["created_at"] else "",
                "estimate": float(r["estimate_hours"]) if r["estimate_hours"] is not None else None,
                "tracking": format_hm(r["tracking_s"]),
            }
        )
    return out


def _facet_label(facet: str, value: str, lang: str) -> str:
    """A quick filter's value as shown: statuses and with/without from the catalog; types,
    areas, tags and priorities are the tenant's own names."""
    if facet == "status":
        return ticket_status(value, lang)
    if facet in ("estimate", "tracking") and value in ("with", "without"):
        return t(f"tk_facet_{value}", lang)
    return value


def _facet_options(counts: dict, lang: str) -> list[list[dict]]:
    return [[{"value": v, "label": f" {_facet_label(f, v, lang)} ({n})"}
             for v, n in counts.get(f, [])] for f in _FACETS]


def layout(**_kwargs):
    u, lang = web.user(), web.lang()
    # over 80 lines: one declarative Dash tree of the page; its data comes from the data layer in one go
    if not access.can_use_tickets(u):
        return forbidden(lang)
    with web.store().ops_read() as c:
        rows = listing.rows(c, u)
        counts = listing.quick_counts(c, u)
    cols = [
        {"field": "number", "cellRenderer": "markdown", "headerName": t("ticket", lang)},
        {"field": "title", "headerName": t("title", lang), "flex": 2},
        {"field": "account", "headerName": t("account", lang)},
        {"field": "final_customer", "headerName": t("final_customer", lang)},
        {"field": "status", "headerName": t("status", lang)},
        {"field": "in_charge", "headerName": t("in_charge", lang)},
        {"field": "assigned", "headerName": t("assigned", lang)},
        {
            "field": "priority",
            "headerName": t("priority", lang),
            "cellStyle": {"function": "{'borderLeft': '6px solid ' + (params.data.color || '#ccc')}"},
        },
        {"field": "type", "headerName": t("type", lang)},
        {"field": "area", "headerName": t("area", lang)},
        {"field": "tags", "headerName": t("tags", lang)},
        {"field": "bell", "headerName": "🔔", "width": 70},
        {"field": "created", "headerName": t("created", lang)},
        {"field": "estimate", "headerName": t("estimate", lang)},
        {"field": "tracking", "headerName": t("tracking", lang)},
    ]
    panel = [
        html.Div(
            [
                html.B(t(f, lang)),
                dcc.Checklist(id={"type": "tl-facet", "facet": f}, options=o, value=[]),
            ],
            className="pbx-facet",
        )
        for f, o in zip(_FACETS, _facet_options(counts, lang), strict=True)
    ]
    tools = [
        html.Button(t("export_xls", lang), id="tl-xlsx", n_clicks=0, className="pbx-btn"),
        html.Button(t("export_csv", lang), id="tl-csv", n_clicks=0, className="pbx-btn"),
        dcc.Link(t("new_ticket", lang), href="/tickets/new", className="pbx-btn pbx-btn-primary"),
        dcc.Link(t("companies", lang), href="/tickets/companies", className="pbx-btn"),
    ]
    if u.role in ("admin", "supervisor"):
        tools.append(
            dcc.Upload(
                html.Button(t("import_xlsx", lang), className="pbx-btn"),
                id="tl-import",
                accept=".xlsx,.csv",
                max_size=20 * 1024 * 1024,
            )
        )
    return html.Div(
        [
            html.H1(t("tickets", lang)),
            html.Div(
                [
                    dcc.Input(
                        id="tl-text", placeholder=t("search_text", lang), className="pbx-input", debounce=True
                    ),
                    dcc.Checklist(
                        id="tl-unread",
                        value=[],
                        options=[{"value": "y", "label": " " + t("only_unread", lang)}],
                    ),
                    html.Button(
                        t("search", lang), id="tl-search", n_clicks=0, className="pbx-btn pbx-btn-primary"
                    ),
                    *tools,
                ],
                className="pbx-actions",
            ),
            _advanced(lang),
            html.Div(id="tl-msg", className="pbx-msg"),
            html.Div(
                [
                    html.Aside(
                        panel, className="pbx-card pbx-facets", id="tl-facets", style={"minWidth": "200px"}
                    ),
                    html.Div(
                        dag.AgGrid(
                            id="tl-grid",
                            rowData=_grid_rows(rows, lang),
                            columnDefs=cols,
                            dashGridOptions={
                                "domLayout": "autoHeight",
                                "pagination": True,
                                "paginationPageSize": 50,
                            },
                            columnSize="autoSize",
                            className="ag-theme-alpine pbx-grid",
                        ),
                        style={"flex": "1", "overflow": "auto"},
                    ),
                ],
                style={"display": "flex", "gap": "12px", "alignItems": "flex-start"},
            ),
            dcc.Download(id="tl-download"),
        ]
    )


def _query(values, text, unread, adv=None):
    u = web.user()
    f = _filters(values, text, unread, adv)
    with web.store().ops_read() as c:
        return listing.rows(c, u, f), listing.quick_counts(c, u, f)


@dash.callback(
    Output("tl-grid", "rowData"),
    Output({"type": "tl-facet", "facet": dash.ALL}, "options"),
    Output("tl-msg", "children", allow_duplicate=True),
    Input("tl-search", "n_clicks"),
    Input({"type": "tl-facet", "facet": dash.ALL}, "value"),
    Input("tl-text", "value"),
    Input("tl-unread", "value"),
    State({"type": "tl-adv", "key": dash.ALL}, "value"),
    prevent_initial_call=True,
)
def search(_n, values, text, unread, adv):
    u = web.user()
    if not access.can_use_tickets(u):
        return no_update, [no_update] * len(_FACETS), t("forbidden", web.lang())
    try:
        rows, counts = _query(values, text, unread, adv)
    except (PbxlensError, ValueError) as exc:
        return no_update, [no_update] * len(_FACETS), error_text(exc, web.lang())
    lang = web.lang()
    return _grid_rows(rows, lang), _facet_options(counts, lang), ""


@dash.callback(
    Output("tl-download", "data"),
    Input("tl-xlsx", "n_clicks"),
    Input("tl-csv", "n_clicks"),
    State({"type": "tl-facet", "facet": dash.ALL}, "value"),
    State("tl-text", "value"),
    State("tl-unread", "value"),
    State({"type": "tl-adv", "key": dash.ALL}, "value"),
    prevent_initial_call=True,
)
def export(_x, _c, values, text, unread, adv):
    u = web.user()
    if not access.can_use_tickets(u):
        return no_update
    rows, _ = _query(values, text, unread, adv)  # masked for the user, as on the page
    suffix = ".xlsx" if dash.ctx.triggered_id == "tl-xlsx" else ".csv"
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / f"tickets{suffix}"
        files.export_tickets(rows, p)
        return dcc.send_bytes(p.read_bytes(), p.name)


@dash.callback(
    Output("tl-msg", "children"),
    Input("tl-import", "contents"),
    State("tl-import", "filename"),
    prevent_initial_call=True,
)
def import_file(contents, filename):
    u, lang = web.user(), web.lang()
    if u is None or u.role not in ("admin", "supervisor") or not contents:
        return t("forbidden", lang)
    data = base64.b64decode(contents.split(",", 1)[1])
    try:
        with web.store().ops_write() as c:
            rep = files.import_tickets(c, filename or "upload.xlsx", data=data, tenant=u.tenant, user=u)
    except PbxlensError as exc:
        return error_text(exc, lang)
    return html.Div(
        [
            html.Div(t("imported_rows", lang, ok=rep.imported, bad=len(rep.rejected))),
            html.Ul([html.Li(f"{t('line', lang)} {ln}: {error_text(r, lang)}")
                     for ln, r in rep.rejected], id="tl-rejected"),
        ]
    )
