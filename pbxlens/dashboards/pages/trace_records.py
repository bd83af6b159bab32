"""Trace (nexus_modules.md B.11): the call mask opened by the CTI
(`/trace?direction=in&caller=NUM&called=NUM&uniqueid=ID`, `/trace?direction=out&called=NUM`)
with the company and contact of each side, the financial panel, the three ticks (blacklist, link
the number to the company, to the contact), the customer's recent CDR calls and open tickets;
and the list of inbound/outbound records (CHM-IN-NNNN / CHM-OUT-NNNN) below. External numbers
come masked from the data layer (`trace.mask`, `trace.records`) for users without the privacy
right."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import dash
import dash_ag_grid as dag
from dash import Input, Output, State, dcc, html, no_update

from pbxlens import PbxlensError
from pbxlens.config import get_settings
from pbxlens.dashboards import access
from pbxlens.dashboards import context as web
from pbxlens.dashboards.i18n import error_text, t
from pbxlens.dashboards.pages.common import forbidden, page_title
from pbxlens.dashboards.pages.tickets_new import field, options, priority_options
from pbxlens.tickets import companies, trace

dash.register_page(__name__, path="/trace", name="Trace", title=page_title("trace"))


def _fmt(v) -> str:
    if isinstance(v, datetime):
        return v.astimezone(ZoneInfo(get_settings().timezone)).strftime("%d/%m/%Y %H:%M:%S")
    return "" if v is None else str(v)


def _now_local() -> str:
    return datetime.now(ZoneInfo(get_settings().timezone)).strftime("%Y-%m-%dT%H:%M")


def _query(search_query: str | None, key: str) -> str | None:
    """One parameter of the page's URL query (`?direction=in&caller=...`)."""
    values = parse_qs((search_query or "").lstrip("?")).get(key)
    return values[0] if values else None


def _when(value: str | None) -> datetime | None:
    """A `datetime-local` input value, read as PBX local time."""
    if not value:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=ZoneInfo(get_settings().timezone))


def _records(text: str | None = None) -> list[dict]:
    u = web.user()
    with web.store().ops_read() as c:
        rows = trace.records(c, u, text=text)
    return [
        {
            "number": r["number"],
            "caller_company": r["caller_company"] or "",
            "called_company": r["called_company"] or "",
            "description": r["description"] or "",
            "caller": r["caller"] or "",
            "called": r["called"] or "",
            "type": r["type"],
            "start": _fmt(r["start_at"]),
            "end": _fmt(r["end_at"]),
        }
        for r in rows
    ]


def _side(prefix: str, label: str, side: trace.Side, comps, lang: str):
    mt = side.match
    cid = mt.company["id"] if mt.company else None
    with web.store().ops_read() as c:
        contacts = options(companies.list_contacts(c, cid)) if cid else []
    return html.Div(
        [
            html.H3(f"{label}: {side.shown or ''}" + (" ⛔" if side.blacklisted else "")),
            field(
                t("company", lang),
                dcc.Dropdown(id=f"tr-{prefix}-company", options=comps, value=cid, placeholder="ND"),
            ),
            field(
                t("contact", lang),
                dcc.Dropdown(
                    id=f"tr-{prefix}-contact",
                    options=contacts,
                    value=mt.contact["id"] if mt.contact else None,
                ),
            ),
            html.Div(  # the pencil of B.11: create the company when the number is unknown
                [
                    dcc.Input(id=f"tr-{prefix}-newco", placeholder=t("company", lang), className="pbx-input"),
                    html.Button("✎ +", id=f"tr-{prefix}-mkco", n_clicks=0, className="pbx-btn pbx-btn-small"),
                ],
                className="pbx-actions",
            ),
            dcc.Checklist(
                id=f"tr-{prefix}-actions",
                value=[],
                options=[
                    {"value": "blacklist", "label": " " + t("add_blacklist", lang)},
                    {"value": "link_company", "label": " " + t("link_company", lang)},
                    {"value": "link_contact", "label": " " + t("link_contact", lang)},
                ],
            ),
        ],
        className="pbx-card",
        id=f"tr-{prefix}-side",
    )


def layout(
    direction: str = "in",
    caller: str | None = None,
    called: str | None = None,
    uniqueid: str | None = None,
    unique_id: str | None = None,
    **_kwargs,
):
    u, lang = web.user(), web.lang()
    # over 80 lines: one declarative Dash tree of the page; its data comes from the data layer in one go
    if not access.can_use_tickets(u):
        return forbidden(lang)
    direction = "out" if direction == "out" else "in"
    body = [html.H1(t("trace", lang))]
    if caller or called:
        m = trace.mask(web.store(), u, direction=direction, caller=caller, called=called,
                       unique_id=unique_id or uniqueid)
        with web.store().ops_read() as c:
            comps = options(companies.list_companies(c, u.tenant))
            types = [
                {"label": x, "value": x}
                for x in companies.allowed_types(c, (m.customer.match.company or {}).get("id"))
            ]
            prios = priority_options(c)
        sides = [
            _side("caller", t("caller", lang), m.caller, comps, lang)
            if m.caller
            else html.Div(
                [
                    dcc.Dropdown(id="tr-caller-company"),
                    dcc.Dropdown(id="tr-caller-contact"),
                    dcc.Checklist(id="tr-caller-actions", options=[], value=[]),
                    dcc.Input(id="tr-caller-newco"),
                    html.Button(id="tr-caller-mkco", n_clicks=0),
                ],
                style={"display": "none"},
            )
        ]  # outbound: the caller is the own company
        sides.append(_side("called", t("called", lang), m.called, comps, lang))
        fin = html.Dl(
            [x for k, v in m.financial.items() for x in (html.Dt(t(k, lang)), html.Dd(str(v)))],
            className="pbx-dl",
            id="tr-financial",
        )
        body += [
            # the numbers stay in the page's URL (the CTI put them there), never echoed back
            dcc.Store(id="tr-ctx", data={"direction": direction, "unique_id": m.unique_id}),
            html.H2(t("inbound" if direction == "in" else "outbound", lang)),
            html.Div(
                [*sides, html.Div([html.H3(t("financial", lang)), fin], className="pbx-card")],
                style={"display": "flex", "gap": "12px", "flexWrap": "wrap"},
            ),
            html.Section(
                [
                    html.Div(
                        [
                            field(t("type", lang) + " *", dcc.Dropdown(id="tr-type", options=types)),
                            field(t("priority", lang) + " *", dcc.Dropdown(id="tr-priority", options=prios)),
                            field(t("note", lang), dcc.Input(id="tr-note", className="pbx-input")),
                            field(
                                t("start", lang) + " *",
                                dcc.Input(
                                    id="tr-start",
                                    type="datetime-local",
                                    value=_now_local(),
                                    className="pbx-input",
                                ),
                            ),
                            field(
                                t("end", lang),
                                dcc.Input(id="tr-end", type="datetime-local", className="pbx-input"),
                            ),
                            field(
                                t("description", lang), dcc.Input(id="tr-description", className="pbx-input")
                            ),
                        ],
                        className="pbx-filters",
                    ),
                    html.Button(
                        t("save", lang), id="tr-save", n_clicks=0, className="pbx-btn pbx-btn-primary"
                    ),
                    html.Div(id="tr-msg", className="pbx-msg"),
                ],
                className="pbx-card",
            ),
            html.Section(
                [
                    html.H3(t("open_tickets", lang)),
                    html.Ul(
                        [
                            html.Li(
                                dcc.Link(
                                    f"{x['number']} · {x['status']} · {x['title']}",
                                    href=f"/tickets/edit?id={x['id']}",
                                )
                            )
                            for x in m.open_tickets
                        ]
                    ),
                ],
                className="pbx-card",
            ),
            html.Section(
                [
                    html.H3(t("recent_calls", lang)),
                    dag.AgGrid(
                        id="tr-calls",
                        rowData=m.recent_calls,
                        columnDefs=[
                            {"field": f, "headerName": t(k, lang)}
                            for f, k in (("unique_id", "call_id"), ("start", "start"),
                                         ("caller", "caller"), ("called", "called"),
                                         ("status", "status"), ("direction", "direction"))
                        ],
                        dashGridOptions={"domLayout": "autoHeight"},
                        columnSize="sizeToFit",
                        className="ag-theme-alpine pbx-grid",
                    ),
                ],
                className="pbx-card",
            ),
        ]
    cols = [
        "number",
        "caller_company",
        "called_company",
        "description",
        "caller",
        "called",
        "type",
        "start",
        "end",
    ]
    body += [
        html.Section(
            [
                html.Div(
                    [
                        dcc.Input(
                            id="tr-search",
                            placeholder=t("search", lang),
                            debounce=True,
                            className="pbx-input",
                        ),
                        dcc.Link(
                            t("new_trace", lang) + " (in)",
                            href="/trace?direction=in&caller=",
                            className="pbx-btn",
                        ),
                    ],
                    className="pbx-actions",
                ),
                dag.AgGrid(
                    id="tr-grid",
                    rowData=_records(),
                    columnDefs=[{"field": f, "headerName": t(f, lang)} for f in cols],
                    dashGridOptions={"domLayout": "autoHeight", "pagination": True, "paginationPageSize": 50},
                    columnSize="autoSize",
                    className="ag-theme-alpine pbx-grid",
                ),
            ],
            className="pbx-card",
        )
    ]
    return html.Div(body)


@dash.callback(Output("tr-grid", "rowData"), Input("tr-search", "value"), prevent_initial_call=True)
def search(text):
    u = web.user()
    if not access.can_use_tickets(u):
        return no_update
    return _records(text)


@dash.callback(
    Output("tr-msg", "children"),
    Output("tr-grid", "rowData", allow_duplicate=True),
    Input("tr-save", "n_clicks"),
    State("tr-ctx", "data"),
    State("_pages_location", "search"),
    State("tr-type", "value"),
    State("tr-priority", "value"),
    State("tr-note", "value"),
    State("tr-description", "value"),
    State("tr-start", "value"),
    State("tr-end", "value"),
    State("tr-caller-company", "value"),
    State("tr-caller-contact", "value"),
    State("tr-caller-actions", "value"),
    State("tr-called-company", "value"),
    State("tr-called-contact", "value"),
    State("tr-called-actions", "value"),
    prevent_initial_call=True,
)
def save(
    _n,
    ctx,
    search_query,
    type_,
    priority,
    note,
    description,
    start,
    end,
    caller_co,
    caller_ct,
    caller_act,
    called_co,
    called_ct,
    called_act,
):
    u, lang = web.user(), web.lang()
    if not access.can_use_tickets(u):
        return t("forbidden", lang), no_update
    if not type_ or not priority:
        return f"{t('type', lang)} / {t('priority', lang)} *", no_update
    try:
        start_at, end_at = _when(start), _when(end)
        with web.store().ops_write() as c:
            _rid, number = trace.create(
                c,
                user=u,
                direction=ctx["direction"],
                caller=_query(search_query, "caller"),
                called=_query(search_query, "called"),
                unique_id=ctx.get("unique_id"),
                type=type_,
                priority=priority,
                note=note,
                description=description,
                start_at=start_at,
                end_at=end_at,
                caller_company_id=caller_co,
                caller_contact_id=caller_ct,
                called_company_id=called_co,
                called_contact_id=called_ct,
                caller_actions=set(caller_act or []),
                called_actions=set(called_act or []),
            )
    except (PbxlensError, ValueError) as exc:
        return error_text(exc, lang), no_update
    return t("saved_record", lang, what=number), _records()


def _company_maker(prefix: str) -> None:
    @dash.callback(
        Output(f"tr-{prefix}-company", "options"),
        Output(f"tr-{prefix}-company", "value"),
        Output("tr-msg", "children", allow_duplicate=True),
        Input(f"tr-{prefix}-mkco", "n_clicks"),
        State(f"tr-{prefix}-newco", "value"),
        prevent_initial_call=True,
    )
    def make_company(_n, name):
        u = web.user()
        if not access.can_use_tickets(u):
            return no_update, no_update, t("forbidden", web.lang())
        try:
            with web.store().ops_write() as c:
                cid = companies.create_company(c, name or "", tenant=u.tenant)
        except PbxlensError as exc:
            return no_update, no_update, error_text(exc, web.lang())
        with web.store().ops_read() as c:
            return options(companies.list_companies(c, u.tenant)), cid, ""


for _prefix in ("caller", "called"):
    _company_maker(_prefix)
